/**
 * The appender: validates produce requests and writes them with group commit, so many small
 * sends share one IndexedDB transaction (the cost of a commit is per transaction, not per byte).
 *
 * Invariants:
 * - At most one write transaction of the appender is in flight; requests that arrive meanwhile
 *   wait and are committed together in the next one. Each commit runs under
 *   LogStore.exclusive, so it never interleaves with the cleaner's or topic admin's writes.
 * - A request is all-or-nothing: every batch of it is validated against the state it will be
 *   written on before any of its puts is issued; a refused request writes nothing.
 * - An append resolves only after its transaction completed; results and wake-ups follow commit,
 *   and so does the tail window (LogStore.tail), which gets the committed batches before the
 *   wake-ups go out. Readers are woken before the appends resolve.
 * - Batches of a transaction (`transactional`, set by the broker only) are stored flagged as
 *   such; a request's `meta` hook adds, in the same IndexedDB transaction, the meta rows it
 *   returns (the transaction index); its `committed` hook runs after commit and before anyone
 *   is answered or woken.
 * - Control batches (transaction markers) skip the sequence checks: they are the broker's.
 * - Idempotence: a batch whose (producerId, epoch, baseSequence) matches one of the producer's
 *   last five on that partition is answered with its original offsets and not written again.
 * - An append puts one row per batch: the batch carries the active segment's counters and its
 *   producer's state (carried-state.ts). The segment rows go along only when the segment rolls,
 *   the previous carrier's producers row only when the carrier changes.
 */
import { InvalidArgumentError, InvalidProducerEpochError, InvalidRecordError, OutOfOrderSequenceError, RecordTooLargeError } from '../errors.js';
import type { ProduceBatch, ProduceRequest, ProduceResult } from '../protocol/broker-api.js';
import type { RecordBatch } from '../protocol/record-batch.js';
import { payloadCrc } from '../protocol/record-batch.js';
import { checkCodec } from '../protocol/compression.js';
import { batchKey, S, writeTransaction, type LogDb, type LogStoreName, type MetaKey, type MetaValue, type ProducerRow, type SegmentRow, type WriteTx } from './log-db.js';
import { sealSegment, type LogStore, type PartitionState } from './log-store.js';

import { tpKey } from '../protocol/topic-partition.js';
import { carriedBy } from './carried-state.js';

/** The stores an append writes: batches always; segments, producers and meta when a step needs them. */
function appendTx(db: LogDb, rows: boolean, meta: boolean): WriteTx {
  const stores: LogStoreName[] = rows ? [S.batches, S.segments, S.producers] : [S.batches];
  if (meta) stores.push(S.meta);
  return writeTransaction(db, stores, 'produce');
}

/** Records for one partition from one producer request (the wire type), or a broker's marker. */
export type AppendBatch = ProduceBatch & { control?: 'COMMIT' | 'ABORT'; transactional?: boolean };
/** A meta row to write (value) or delete (value undefined) with an append. */
export interface MetaPut { key: MetaKey; value: MetaValue | undefined }
/** A produce request: one producer (-1 without idempotence), batches for distinct partitions. */
export interface AppendRequest extends ProduceRequest {
  batches: AppendBatch[];
  /** Meta rows to write in the same IndexedDB transaction, given where the batches landed. */
  meta?: (results: AppendResult[]) => MetaPut[];
  /** Runs after the commit, before the append resolves and readers are woken. */
  committed?: (results: AppendResult[]) => void;
}
/** Where a batch landed; `duplicate` when it was a retry of a batch already written. */
export type AppendResult = ProduceResult;

/** Bytes a batch row costs beyond its payload (header fields), for segment sizing. */
export const BATCH_OVERHEAD = 64;
const RECENT = 5;

interface Pending {
  request: AppendRequest;
  resolve: (r: AppendResult[]) => void;
  reject: (e: unknown) => void;
}

/** What the plan of one batch says: answer it as a duplicate, or write it. */
interface Step {
  dup?: AppendResult;
  /** The batch, the partition's state after it, a sealed segment to write, and the previous carrier's producer row to write. */
  write?: { state: PartitionState; batch: RecordBatch; sealed?: SegmentRow; flush?: ProducerRow };
}

/** Group-committing writer of a LogStore. */
export class Appender {
  private queue: Pending[] = [];
  private running = false;
  /** Transactions committed (for stats and benchmarks). */
  commits = 0;

  constructor(private readonly store: LogStore) {}

  /** Appends a request; resolves after its transaction commits. */
  append(request: AppendRequest): Promise<AppendResult[]> {
    // Partitions and producer states not loaded yet (lazy store) are loaded first; requests
    // keep their order.
    const loads: Promise<void>[] = [];
    const store = this.store;
    for (const b of Array.isArray(request?.batches) ? request.batches : []) {
      if (!b || typeof b.topic !== 'string') continue;
      if (!store.partitions.has(tpKey(b.topic, b.partition))) loads.push(store.usePartition(b.topic, b.partition));
      if (store.needsProducer(request.producerId, b.topic, b.partition)) loads.push(store.useProducer(request.producerId, b.topic, b.partition));
    }
    if (loads.length === 0 && this.gated === 0) return this.enqueue(request);
    this.gated++;
    const go = this.gate.then(() => Promise.all(loads)).then(() => undefined, () => undefined);
    this.gate = go;
    return go.then(() => {
      this.gated--;
      return this.enqueue(request);
    });
  }

  /** Requests waiting for their partitions to load, in order, and how many. */
  private gate: Promise<void> = Promise.resolve();
  private gated = 0;

  private enqueue(request: AppendRequest): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length) {
        await this.store.exclusive(() => this.commit(this.queue.splice(0)));
      }
    } finally {
      this.running = false;
    }
  }

  private async commit(items: Pending[]): Promise<void> {
    const store = this.store;
    const now = store.now();
    const parts = new Map<string, PartitionState>();
    const prods = new Map<string, ProducerRow>();
    const accepted: { p: Pending; steps: Step[]; results: AppendResult[] }[] = [];
    const touched = new Map<string, PartitionState>();
    const committed: RecordBatch[] = [];
    // Every request is planned before the transaction starts, so it covers only the stores
    // the accepted steps write (most appends: the batches store alone).
    let rows = false;
    let withMeta = false;
    for (const p of items) {
      try {
        const steps = this.plan(p.request, parts, prods, now);
        for (const st of steps) if (st.write && (st.write.sealed || st.write.flush)) rows = true;
        if (p.request.meta) withMeta = true;
        accepted.push({ p, steps, results: [] });
      } catch (e) {
        p.reject(e);
      }
    }
    if (!accepted.some((a) => a.steps.some((st) => st.write) || a.p.request.meta)) {
      // Every request was refused or a pure duplicate: nothing to write.
      for (const a of accepted) a.results.push(...a.steps.map((st) => st.dup!));
      for (const a of accepted) a.p.request.committed?.(a.results);
      for (const a of accepted) a.p.resolve(a.results);
      return;
    }
    // The transaction starts before the CRCs are computed: the storage backend sets it up meanwhile.
    const tx = appendTx(store.db, rows, withMeta);
    for (const a of accepted) {
      const results = a.results;
      for (const step of a.steps) {
        if (step.dup) { results.push(step.dup); continue; }
        const { state, batch, sealed, flush } = step.write!;
        // Requests without promises: tx.done reports a failed put as the transaction's abort.
        if (sealed) {
          tx.put(S.segments, sealed);
          tx.put(S.segments, state.active);
        }
        if (flush) tx.put(S.producers, flush);
        batch.crc = payloadCrc(batch.payload);
        tx.put(S.batches, batch, batchKey(batch));
        committed.push(batch);
        touched.set(tpKey(state.topic, state.partition), state);
        results.push({ topic: batch.topic, partition: batch.partition, baseOffset: batch.baseOffset, logAppendTime: batch.logAppendTime, logStartOffset: state.logStartOffset, duplicate: false });
      }
      if (a.p.request.meta) {
        // As the puts above: a failed request aborts the transaction, which tx.done reports.
        for (const m of a.p.request.meta(results)) {
          if (m.value === undefined) tx.delete(S.meta, m.key);
          else tx.put(S.meta, m.value, m.key);
        }
      }
    }
    // Every put is issued: commit now rather than after the puts' success events.
    tx.commit();
    try {
      await tx.done;
    } catch (e) {
      for (const a of accepted) a.p.reject(e);
      return;
    }
    this.commits++;
    for (const s of parts.values()) store.setPartition(s);
    for (const r of prods.values()) store.setProducerState(r);
    // Before the wake-ups: a fetch woken by this commit reads these batches from memory.
    for (const b of committed) store.rememberCommitted(b);
    for (const a of accepted) a.p.request.committed?.(a.results);
    // Wake-ups before answers: a fetch waiting at the log end then starts its answer (from the
    // tail window) ahead of the producers' continuations in the microtask queue, whose first
    // step is scheduling their own answer (Broker.appendWithQuota).
    try {
      for (const s of touched.values()) store.notifyAppend(s.topic, s.partition, s.active.nextOffset);
    } finally {
      for (const a of accepted) a.p.resolve(a.results);
    }
  }

  /**
   * Validates a request against the working state and returns what to write. Mutates the
   * working maps only when the whole request is valid.
   */
  private plan(r: AppendRequest, parts: Map<string, PartitionState>, prods: Map<string, ProducerRow>, now: number): Step[] {
    const store = this.store;
    if (!r || !Array.isArray(r.batches) || r.batches.length === 0) throw new InvalidArgumentError('produce request has no batches');
    const seen = new Set<string>();
    const localParts = new Map<string, PartitionState>();
    const localProds = new Map<string, ProducerRow>();
    const steps: Step[] = [];

    for (const b of r.batches) {
      const k = tpKey(b.topic, b.partition);
      if (seen.has(k)) throw new InvalidArgumentError(`produce request has two batches for ${b.topic}-${b.partition}`, { details: { topic: b.topic, partition: b.partition } });
      seen.add(k);
      const topic = store.topic(b.topic);
      const base = localParts.get(k) ?? parts.get(k) ?? store.partition(b.topic, b.partition);
      const rec = b.records;
      if (!rec || !(rec.payload instanceof Uint8Array) || !Number.isInteger(rec.count) || rec.count < 1) {
        throw new InvalidRecordError(`batch for ${b.topic}-${b.partition} carries no records`, { details: { topic: b.topic, partition: b.partition } });
      }
      checkCodec(rec.compression, `batch for ${b.topic}-${b.partition}`);
      if (rec.maxRecordBytes > topic.config.maxMessageBytes) {
        throw new RecordTooLargeError(`a record of ${rec.maxRecordBytes} bytes exceeds max.message.bytes=${topic.config.maxMessageBytes} of topic ${JSON.stringify(b.topic)}`, {
          details: { topic: b.topic, partition: b.partition, size: rec.maxRecordBytes, max: topic.config.maxMessageBytes },
        });
      }

      // idempotence
      let producer: ProducerRow | undefined;
      if (r.producerId >= 0 && !b.control) {
        const pk = `${r.producerId}:${k}`;
        const prev = localProds.get(pk) ?? prods.get(pk) ?? store.producerState(r.producerId, b.topic, b.partition);
        const lastSeq = b.baseSequence + rec.count - 1;
        if (prev && r.producerEpoch < prev.epoch) {
          throw new InvalidProducerEpochError(`producer ${r.producerId} epoch ${r.producerEpoch} is older than ${prev.epoch}: it was fenced`, { details: { producerId: r.producerId, epoch: r.producerEpoch } });
        }
        if (prev && r.producerEpoch === prev.epoch) {
          const dup = prev.recent.find((x) => x.firstSeq === b.baseSequence && x.lastSeq === lastSeq);
          if (dup) {
            steps.push({ dup: { topic: b.topic, partition: b.partition, baseOffset: dup.baseOffset, logAppendTime: dup.logAppendTime, logStartOffset: base.logStartOffset, duplicate: true } });
            continue;
          }
          if (b.baseSequence !== prev.lastSequence + 1) {
            throw new OutOfOrderSequenceError(`producer ${r.producerId} sent sequence ${b.baseSequence} to ${b.topic}-${b.partition}; expected ${prev.lastSequence + 1}`, {
              details: { producerId: r.producerId, topic: b.topic, partition: b.partition, expected: prev.lastSequence + 1, got: b.baseSequence },
            });
          }
        } else if (b.baseSequence !== 0) {
          throw new OutOfOrderSequenceError(`producer ${r.producerId} is new to ${b.topic}-${b.partition} (epoch ${r.producerEpoch}) and must start at sequence 0; got ${b.baseSequence}`, {
            details: { producerId: r.producerId, topic: b.topic, partition: b.partition, expected: 0, got: b.baseSequence },
          });
        }
        producer = {
          producerId: r.producerId, topic: b.topic, partition: b.partition, epoch: r.producerEpoch, lastSequence: lastSeq,
          recent: [...(prev && prev.epoch === r.producerEpoch ? prev.recent : []), { firstSeq: b.baseSequence, lastSeq, baseOffset: 0, logAppendTime: -1 }].slice(-RECENT),
          updatedAt: now,
        };
        localProds.set(pk, producer);
      }

      // segment roll, then placement
      const size = rec.payload.length + BATCH_OVERHEAD;
      let state: PartitionState = { ...base, active: { ...base.active } };
      let sealed: SegmentRow | undefined;
      const cfg = topic.config;
      if (state.active.batchCount > 0 && (state.active.sizeBytes + size > cfg.segmentBytes || now - state.active.createdAt >= cfg.segmentMs)) {
        ({ state, sealed } = sealSegment(state, now));
      }
      const baseOffset = state.active.nextOffset;
      const appendTime = cfg.timestampType === 'LogAppendTime';
      const batch: RecordBatch = {
        topic: b.topic, partition: b.partition, baseOffset, lastOffsetDelta: rec.count - 1, count: rec.count,
        firstTimestamp: appendTime ? now : rec.firstTimestamp, maxTimestamp: appendTime ? now : rec.maxTimestamp,
        timestampType: cfg.timestampType, logAppendTime: appendTime ? now : -1,
        producerId: r.producerId, producerEpoch: r.producerEpoch, baseSequence: b.baseSequence,
        // CRC-32C of the payload: computed right before the put, once the transaction is started.
        crc: 0, sizeBytes: size, payload: rec.payload, segment: state.active.baseOffset, cleanedAt: -1,
      };
      // The stored batch keeps its codec: readers of records decompress (protocol/compression).
      if (rec.compression) batch.compression = rec.compression;
      if (b.transactional || b.control) batch.transactional = true;
      if (b.control) batch.control = b.control;
      const a = state.active;
      a.nextOffset = baseOffset + rec.count;
      a.sizeBytes += size;
      a.batchCount++;
      a.recordCount += rec.count;
      a.firstTimestamp = a.firstTimestamp < 0 ? batch.firstTimestamp : Math.min(a.firstTimestamp, batch.firstTimestamp);
      a.maxTimestamp = Math.max(a.maxTimestamp, batch.maxTimestamp);
      if (producer) {
        const last = producer.recent[producer.recent.length - 1]!;
        last.baseOffset = baseOffset;
        last.logAppendTime = batch.logAppendTime;
      }
      // The batch carries the segment's counters and its producer's state; the previous
      // carrier's state goes to its row when this batch stops carrying it.
      batch.carried = carriedBy(a, producer);
      let flush: ProducerRow | undefined;
      const carrier = producer ? r.producerId : undefined;
      if (state.carrier !== undefined && state.carrier !== carrier) {
        const fk = `${state.carrier}:${k}`;
        flush = localProds.get(fk) ?? prods.get(fk) ?? store.producerState(state.carrier, b.topic, b.partition);
      }
      state.carrier = carrier;
      localParts.set(k, state);
      steps.push({ write: { state, batch, sealed, flush } });
    }
    for (const [k, v] of localParts) parts.set(k, v);
    for (const [k, v] of localProds) prods.set(k, v);
    return steps;
  }
}
