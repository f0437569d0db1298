/**
 * The fetch loop: long-polls the broker for the assigned partitions, decodes batches here in
 * the consumer's context (the broker only ships stored bytes), and hands records to
 * eachMessage / eachBatch in offset order per partition.
 *
 * Invariants:
 * - Per partition, records are delivered in offset order and the position advances only after
 *   the handler resolved (eachMessage) or the offset was resolved (eachBatch).
 * - A fetch answer is dropped for a partition whose cursor moved (seek, reassignment) while it
 *   was in flight; the loop never busy-waits: with nothing assigned it sleeps until a change.
 * - A handler that throws is retried from the same offset with the consumer's retry settings
 *   (KafkaJS's schedule; ./failure.ts, loaded on the first failure); when retries run out the
 *   loop ends and `onCrash` gets NumberOfRetriesExceededError with the handler's error as cause
 *   (the consumer decides on a restart). A handler error marked `retriable: false` is not retried.
 * - `whenIdle(cursors)` resolves only once no handler runs on those partitions: a revoked
 *   partition is handed on only after its last handler returned.
 * - A stored batch's payload buffer is detached once the batch is decoded (`release`): the
 *   messages handed over hold copies of its bytes, never views of it.
 */
import { errorFromData, isRebalancing, LanesError, TopicNotFoundError, type ErrorData } from '../../errors.js';
import type { RetryConfig } from '../retry.js';
import type { Logger } from '../logger.js';
import type { BrokerApi, FetchPartitionResult } from '../../protocol/broker-api.js';
import { decodeBatch } from '../../protocol/record-batch.js';
import type { KafkaMessage } from '../../types.js';
import { CONSUMER_EVENTS, type Instrumentation } from '../instrumentation.js';
import type { Membership } from './membership.js';
import { Positions, type PartitionCursor, type ResetPolicy } from './positions.js';

/** eachMessage's argument (KafkaJS's EachMessagePayload). */
export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat(): Promise<void>;
  pause(): () => void;
}

/** A fetched batch of one partition (KafkaJS's Batch). */
export interface Batch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: KafkaMessage[];
  isEmpty(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  offsetLag(): string;
  offsetLagLow(): string;
}

/** eachBatch's argument (KafkaJS's EachBatchPayload). */
export interface EachBatchPayload {
  batch: Batch;
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  pause(): () => void;
  /** With `offsets` (KafkaJS's `{ topics: [{ topic, partitions: [{ partition, offset }] }] }`) commits those; without, what is due. */
  commitOffsetsIfNecessary(offsets?: Offsets): Promise<void>;
  uncommittedOffsets(): { topics: { topic: string; partitions: { partition: string; offset: string }[] }[] };
  isRunning(): boolean;
  isStale(): boolean;
}

/** Offsets as eachBatch's commitOffsetsIfNecessary takes them (KafkaJS's Offsets). */
export interface Offsets {
  topics: { topic: string; partitions: { partition: number; offset: string; metadata?: string | null }[] }[];
}

/** Options of run(). */
export interface RunConfig {
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  eachBatchAutoResolve?: boolean;
  partitionsConsumedConcurrently?: number;
  autoCommit?: boolean;
  autoCommitInterval?: number | null;
  autoCommitThreshold?: number | null;
}

/** Fetch tuning shared by the consumer config. */
export interface FetchConfig {
  maxWaitTimeInMs: number;
  maxBytes: number;
  maxBytesPerPartition: number;
  /** Records handed over per partition per fetch (Kafka's max.poll.records, per partition). */
  maxRecordsPerPartition: number;
  /** Handler retries (KafkaJS's retry options). */
  retry: RetryConfig;
  /** Where handler failures are logged before each retry (the consumer's logger). */
  logger?: Logger;
  resetPolicy: ResetPolicy;
  /** 'replicated': fetch only what the sync replica holds. */
  isolation?: 'replicated';
  /** Kafka's read_uncommitted: records of open and aborted transactions too. Default false. */
  readUncommitted?: boolean;
}

/**
 * Frees a decoded batch's bytes at once (the messages hold copies): a fetched payload is this
 * fetch's own ArrayBuffer (a structured clone, or an IndexedDB read or tail copy of the in-page
 * broker), and left to the GC it outlives a scavenge or two while the fetch and the one ahead are
 * processed, is promoted, and waits for a major GC; Chromium counts those stores in the page's
 * heap. Only a view spanning its whole buffer is detached; without `ArrayBuffer#transfer`, nothing.
 */
export function release(payload: Uint8Array): void {
  const buf = payload.buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer };
  if (payload.byteOffset === 0 && payload.byteLength === buf.byteLength && typeof buf.transfer === 'function') buf.transfer(0);
}

/** Identifies a fetch by its partitions and offsets. */
function fetchKey(parts: { c: PartitionCursor; offset: number | null }[]): string {
  return parts.map((p) => `${p.c.topic}\u0000${p.c.partition}\u0000${p.offset}`).join('\u0001');
}

/** The fetch loop of one consumer. */
export class Runner {
  running = false;
  private loop: Promise<void> | undefined;
  /** A fetch issued ahead, for the offsets that follow the batches being processed. */
  private prefetched: { key: string; answer: Promise<FetchPartitionResult[]> } | undefined;
  /** Partitions whose batches are being handed to the handler now. */
  private busy = new Set<PartitionCursor>();
  private idleWaiters: (() => void)[] = [];
  private abort = new AbortController();
  /** Hands a batch to eachBatch (./each-batch.ts, loaded by a run that has no eachMessage). */
  private batch: typeof import('./each-batch.js').eachBatch | undefined;

  constructor(
    private readonly broker: () => Promise<BrokerApi>,
    private readonly positions: Positions,
    private readonly fetchConfig: FetchConfig,
    private readonly run: RunConfig,
    private readonly events: Instrumentation,
    /** The loop ended on an error (handler retries exhausted, or a fetch that cannot go on). */
    private readonly onCrash: (error: unknown) => void,
    /** A group consumer's membership (auto-commit after each record, heartbeats, commits); none for a free consumer. */
    private readonly m?: Membership,
  ) {}

  start(): void {
    this.running = true;
    this.abort = new AbortController();
    this.loop = this.main().finally(() => { this.running = false; });
  }

  /** Resolves once no handler runs on any of `cursors`. */
  async whenIdle(cursors: PartitionCursor[]): Promise<void> {
    while (cursors.some((c) => this.busy.has(c))) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /** Stops after the handler in progress returns. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.running = false;
    this.abort.abort(); // ends a handler retry's backoff
    this.prefetched = undefined;
    this.positions.wake();
    await this.loop;
    this.loop = undefined;
  }

  private async main(): Promise<void> {
    while (this.running) {
      try {
        // eachBatch's payload is loaded when a run uses it (./each-batch.ts).
        if (!this.run.eachMessage) this.batch ??= (await import('./each-batch.js')).eachBatch;
        await this.fetchOnce();
      } catch (e) {
        if (!this.running) return;
        if (isRebalancing(e)) continue; // the membership is rejoining; the next fetch waits for it
        this.running = false;
        return this.onCrash(e);
      }
    }
  }

  /**
   * A partition that no longer exists (its topic was deleted, or it never existed) is dropped
   * and reported; the rest go on: one missing partition never stops the consumer. A group
   * member gets its new assignment from the round the coordinator starts on the deletion.
   */
  private unavailable(c: PartitionCursor, error: LanesError): void {
    if (this.positions.get(c.topic, c.partition) !== c) return;
    this.positions.drop(c.topic, c.partition);
    this.events.emit(CONSUMER_EVENTS.PARTITION_UNAVAILABLE, { topic: c.topic, partition: c.partition, error });
  }

  private async fetchOnce(): Promise<void> {
    // Subscribed before anything else, so a stop(), seek or rebalance that happens while this
    // cycle is getting ready still interrupts the wait below; disposed so an abandoned wait
    // does not keep the fetched batches reachable.
    const { changed, dispose } = this.positions.nextChange();
    try {
      await this.fetchCycle(changed);
    } finally {
      dispose();
    }
  }

  private async fetchCycle(changed: Promise<void>): Promise<void> {
    const cursors = this.positions.all().filter((c) => !c.paused);
    if (cursors.length === 0) {
      await changed;
      return;
    }
    const broker = await this.broker();
    // A null position is resolved by the broker (latest / earliest) and comes back as the answer's offset.
    const asked = cursors.map((c) => ({ c, epoch: c.epoch, offset: c.position }));
    if (!this.running) return;
    this.events.emit(CONSUMER_EVENTS.FETCH_START, {});
    const fetchStarted = Date.now();
    const key = fetchKey(asked);
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    let fetching: Promise<FetchPartitionResult[]>;
    if (prefetched && prefetched.key === key) {
      fetching = prefetched.answer;
    } else {
      prefetched?.answer.catch(() => undefined);
      // A position the broker resolved sticks even when this cycle is abandoned (as a
      // ListOffsets answer would): a later resolution of 'latest' would skip what came between.
      fetching = this.fetch(broker, asked).then((rs) => {
        rs.forEach((r, i) => { const a = asked[i]!; if (a.c.position === null && a.c.epoch === a.epoch && !r.error) a.c.position = r.offset; });
        return rs;
      });
    }
    const CHANGED = Symbol('changed');
    const answer = await Promise.race([fetching, changed.then(() => CHANGED)]);
    if (answer === CHANGED || !this.running) {
      fetching.catch(() => undefined);
      return;
    }
    this.prefetch(broker, asked, answer as FetchPartitionResult[]);
    const results = answer as FetchPartitionResult[];
    this.events.emit(CONSUMER_EVENTS.FETCH, { numberOfBatches: results.reduce((n, r) => n + r.batches.length, 0), duration: Date.now() - fetchStarted });
    const work = results.map((r, i) => ({ r, a: asked[i]! })).filter(({ r, a }) => {
      const cur = this.positions.get(r.topic, r.partition);
      return cur === a.c && cur.epoch === a.epoch && (cur.position ?? r.offset) === (a.offset ?? r.offset) && !cur.paused;
    });
    const limit = Math.max(1, this.run.partitionsConsumedConcurrently ?? 1);
    let next = 0;
    const worker = async () => {
      while (next < work.length && this.running) {
        const { r, a } = work[next++]!;
        await this.processPartition(r, a.c, a.epoch);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, work.length) }, worker));
  }

  private fetch(broker: BrokerApi, parts: { c: PartitionCursor; offset: number | null }[]): Promise<FetchPartitionResult[]> {
    return broker.fetch({
      // The broker applies the reset policy: to a null position (-1 latest, -2 earliest), and to an offset out of range.
      partitions: parts.map(({ c, offset }) => {
        const reset = c.reset ?? this.fetchConfig.resetPolicy;
        return { topic: c.topic, partition: c.partition, offset: offset ?? (reset === 'earliest' ? -2 : -1), reset };
      }),
      maxWaitMs: this.fetchConfig.maxWaitTimeInMs,
      maxBytes: this.fetchConfig.maxBytes,
      maxBytesPerPartition: this.fetchConfig.maxBytesPerPartition,
      maxRecordsPerPartition: Number.isFinite(this.fetchConfig.maxRecordsPerPartition) ? this.fetchConfig.maxRecordsPerPartition : undefined,
      ...(this.fetchConfig.isolation ? { isolation: this.fetchConfig.isolation } : {}),
      ...(this.fetchConfig.readUncommitted ? { readUncommitted: true } : {}),
    });
  }

  /**
   * Asks for what follows the batches just fetched while they are being processed, so reading
   * the log overlaps with decoding and the handlers (Kafka's consumer does the same). Used by
   * the next cycle only if it asks for exactly these partitions and offsets; otherwise dropped.
   * Not issued when nothing came back: the next fetch would only wait at the log end.
   * When the answer reached the log end of every partition, the next fetch has nothing to read
   * ahead (it parks a long poll in the broker), so it is posted once the first handler has its
   * record (at the loop's first await): a postMessage to the broker costs this thread 0.1-0.3 ms
   * on a busy machine, and the records of a wake-up should not wait for it.
   */
  private prefetch(broker: BrokerApi, asked: { c: PartitionCursor; offset: number | null }[], results: FetchPartitionResult[]): void {
    if (!results.some((r) => r.batches.length > 0) || results.some((r) => r.error)) return;
    let end = true;
    const next = asked.map((a, i) => {
      const r = results[i]!, last = r.batches.at(-1), offset = last ? last.baseOffset + last.lastOffsetDelta + 1 : r.offset;
      end &&= offset >= r.high;
      return { c: a.c, offset };
    });
    const ask = () => {
      const answer = this.fetch(broker, next);
      answer.catch(() => undefined);
      this.prefetched = { key: fetchKey(next), answer };
    };
    if (end) queueMicrotask(() => this.running && ask());
    else ask();
  }


  /**
   * Retries a handler that failed with `error` (its first try), with the consumer's retry
   * schedule (./failure.ts, loaded on the first failure). Stopping or fencing rethrows at once:
   * the batch ends there and the position stays on the record that failed (the loop ignores
   * errors once stopped).
   */
  retry(fn: () => Promise<void>, error: unknown): Promise<void> {
    return import('./failure.js').then((f) => f.retryHandler(this.fetchConfig, this.abort.signal, () => this.running, fn, error));
  }

  /**
   * Hands one partition's fetched batches to the handler, one stored batch at a time: records
   * are decoded just before they are processed, so they die young instead of piling up for the
   * whole fetch.
   */
  private async processPartition(r: FetchPartitionResult, c: PartitionCursor, epoch: number): Promise<void> {
    if (r.error) {
      const e = errorFromData(r.error);
      if (e.code === 'UNKNOWN_TOPIC_OR_PARTITION') return this.unavailable(c, e);
      throw e;
    }
    // Where the broker started reading: the position, or where the reset policy put it.
    if (c.epoch !== epoch) return;
    c.position = r.offset;
    // Checked here, not only when the fetch came back: with the cooperative protocol the
    // assignment changes while the cycle runs, and live() below trusts an unchanged generation.
    if (r.batches.length === 0 || this.positions.get(c.topic, c.partition) !== c) return;
    this.busy.add(c);
    try {
      await this.processBatches(r, c, epoch);
    } finally {
      this.busy.delete(c);
      if (this.idleWaiters.length) for (const f of this.idleWaiters.splice(0)) f();
    }
  }

  private async processBatches(r: FetchPartitionResult, c: PartitionCursor, epoch: number): Promise<void> {
    // Runs once per record: the assignment lookup only happens when the assignment changed.
    const generation = this.positions.generation;
    const live = () => this.running && c.epoch === epoch && !c.paused &&
      (this.positions.generation === generation || this.positions.get(c.topic, c.partition) === c);
    const pause = () => {
      this.positions.pause(c.topic, [c.partition]);
      return () => this.positions.pause(c.topic, [c.partition], false);
    };
    const heartbeat = async () => { await this.m?.heartbeat(); };
    let budget = this.fetchConfig.maxRecordsPerPartition;
    for (const stored of r.batches) {
      if (!live() || budget <= 0) return;
      // The broker checked the stored bytes' CRC-32C where it read them (log/reader.ts).
      const messages: KafkaMessage[] = [];
      // A compressed batch loads the codec on first use.
      decodeBatch(stored.compression ? await (await import('../../protocol/compression.js')).plainBatch(stored) : stored, messages, c.position!, budget);
      release(stored.payload);
      budget -= messages.length;
      if (messages.length === 0) {
        // Everything in it lies below the position (compacted away or already processed).
        c.position = Math.max(c.position!, stored.baseOffset + stored.lastOffsetDelta + 1);
        continue;
      }
      await this.processBatch(r, c, epoch, messages, live, pause, heartbeat);
      // Not all resolved (eachBatch without auto-resolve, a failure, a seek): the next fetch
      // starts from the position; later batches must not be handed over past a gap.
      if (c.epoch !== epoch || (c.position ?? -1) <= Number(messages[messages.length - 1]!.offset)) return;
    }
  }

  private async processBatch(
    r: FetchPartitionResult, c: PartitionCursor, epoch: number, messages: KafkaMessage[],
    live: () => boolean, pause: () => () => void, heartbeat: () => Promise<void>,
  ): Promise<void> {
    // KafkaJS's batch figures: lags are counted from the batch's last and first offsets.
    const high = r.high, firstOffset = messages[0]!.offset, lastOffset = messages[messages.length - 1]!.offset;
    const lag = (o: string) => String(Math.max(0, high - 1 - Number(o)));
    const info = { topic: c.topic, partition: c.partition, highWatermark: String(high), offsetLag: lag(lastOffset), offsetLagLow: lag(firstOffset), batchSize: messages.length, firstOffset, lastOffset };
    this.events.emit(CONSUMER_EVENTS.START_BATCH_PROCESS, info);
    const started = Date.now();
    if (this.run.eachMessage) {
      // The per-record path: the handler is called directly (no retry closure unless it fails)
      // and the processed hook only when there is one.
      const each = this.run.eachMessage;
      const m = this.m;
      for (const message of messages) {
        if (!live()) break;
        const payload: EachMessagePayload = { topic: c.topic, partition: c.partition, message, heartbeat, pause };
        try {
          await each(payload);
        } catch (e) {
          await this.retry(() => each(payload), e);
        }
        if (c.epoch !== epoch) break; // seek inside the handler wins
        c.position = Number(message.offset) + 1;
        if (m) await m.processed(1);
      }
    } else {
      await this.batch!(this.run, this.positions, this, c, epoch, messages, live, pause, heartbeat, high, this.m);
    }
    this.events.emit(CONSUMER_EVENTS.END_BATCH_PROCESS, { ...info, duration: Date.now() - started });
  }

}
