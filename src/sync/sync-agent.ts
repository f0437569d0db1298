/**
 * The sync agent: the thin I/O shell around `sync-state.ts`. It runs in the broker while a tab
 * is open and in the service worker when none is; whichever holds the Web Lock
 * `lanes:<db>:sync` uploads, the other waits.
 *
 * Invariants:
 * - Only the holder of the sync lock pushes (the broker waits for it; the service worker takes
 *   it or, in `drain`, waits its turn); where Web Locks do not exist (Node) the agent is alone.
 * - A push reads the batches from the partition's replicated offset as the log stores them and
 *   sends them unchanged (the replica checks their CRC); the acknowledged end is persisted
 *   (sync-meta `saveReplicated`) before the state machine, status and `isolation: 'replicated'`
 *   readers learn of it. A crash anywhere makes the next uploader resend from the persisted end,
 *   and the replica answers the overlap as duplicates: exactly once in the end.
 * - Every pushed batch carries its topic's generation (the topic row's createdAt), part of the
 *   replica's dedupe key: a topic deleted and created again starts its offsets and sequences
 *   over, and must not be answered with the old topic's batches as duplicates.
 * - Only stable records are pushed: a partition's push ends at its last stable offset (an open
 *   transaction's records wait for its marker), and markers and aborted transactional batches
 *   go emptied (offsets kept, no records), so a replica never holds an aborted record.
 * - Every state change is announced on BroadcastChannel `lanes:<db>:sync` (status, and the
 *   replicated ends), so tabs and the other uploader see it.
 * - Several pushes may be open (`maxInFlightRequests`): the next one is read, framed and gzipped
 *   while earlier ones are on the wire, and is sent only when the state machine says so
 *   (`pushReady`: every earlier push of its partitions succeeded), so per partition requests
 *   reach the replica in order and acknowledgements are persisted in order.
 * - A push the replica refuses with a rejection naming one of its batches (`batches[i]...`)
 *   reports that batch (`refused`), so the state machine holds back its partition only.
 * - Work is scheduled with a MessageChannel task (`queueTask`), never a zero timer: a hidden tab
 *   hosting the broker has its timers throttled to about one a second.
 */
import { names } from '../protocol/broker-api.js';
import type { PushBatch } from '../protocol/replica-wire.js';
import { payloadCrc, type RecordBatch } from '../protocol/record-batch.js';
import { plainBatches } from '../protocol/compression.js';
import { emptied } from '../log/txn-index.js';
import type { LogStore } from '../log/log-store.js';
import { saveReplicated } from '../log/sync-meta.js';
import { queueTask } from '../protocol/next-task.js';
import { failureOf, ReplicaClient, type PreparedPush } from './replica-client.js';
import {
  initialSyncState, nextAction, pushReady, reduceSync,
  type PartitionFacts, type PushRange, type SyncAction, type SyncConfig, type SyncEvent, type SyncFailure, type SyncState,
} from './sync-state.js';
import { syncStatusOf, type SyncStatusCore } from './sync-status.js';

/** Who runs an agent. */
export type SyncRole = 'broker' | 'service-worker';

/** A message on the sync channel. */
export type SyncChannelMessage =
  | { type: 'status'; role: SyncRole; status: SyncStatusCore }
  | { type: 'replicated'; role: SyncRole; acks: { topic: string; partition: number; replicated: number }[] };

/** Options of a sync agent. */
export interface SyncAgentOptions {
  store: LogStore;
  database: string;
  url: string;
  deviceId: string;
  role: SyncRole;
  /** The token to use now (null: none yet). */
  token: () => string | null;
  config?: Partial<SyncConfig>;
  now?: () => number;
  random?: () => number;
  fetch?: typeof fetch;
}

/** Most batches read in one IndexedDB request. */
const BATCHES_PER_READ = 256;

/** Facts of every pushable partition of a log. */
export function partitionFacts(store: LogStore): PartitionFacts[] {
  const out: PartitionFacts[] = [];
  for (const p of store.partitions.values()) {
    const t = store.topics.get(p.topic);
    if (!t || t.internal) continue;
    const replicated = store.replicatedOf(p.topic, p.partition);
    let pendingBytes = 0;
    for (const s of [...p.sealed, p.active]) if (s.nextOffset > replicated) pendingBytes += s.sizeBytes;
    // Only what is stable is pushable: an open transaction's records wait for its marker.
    const stable = store.txns.lastStable(p.topic, p.partition, p.active.nextOffset);
    out.push({
      topic: p.topic, partition: p.partition, replicated, logEnd: stable, sealedEnd: Math.min(p.active.baseOffset, stable),
      pendingBytes, mirrored: store.mirrors.has(p.topic),
    });
  }
  return out;
}

function locks(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}

function onLine(): boolean {
  const n = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  return n?.onLine ?? true;
}

/** Uploads a log's records to the replica. */
export class SyncAgent {
  state: SyncState;
  readonly client: ReplicaClient;
  private readonly now: () => number;
  private readonly random: () => number;
  private channel: BroadcastChannel | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private cancelKick: (() => void) | undefined;
  private pumping = false;
  private draining = false;
  /** Pushes started and not yet settled (each settles without throwing). */
  private readonly sends = new Set<Promise<void>>();
  /** Woken on every state change (a push waiting for its turn looks again). */
  private changeWaiters: (() => void)[] = [];
  /** Stored size of a batch, as last read: sizes the next read to what a request takes. */
  private avgBatchBytes = 4096;
  private again = false;
  private stopped = false;
  private releaseLock: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private listeners = new Set<(s: SyncStatusCore) => void>();
  private readonly onNet = () => this.kick();
  /** Each topic's generation (its row's createdAt) as the state machine knows it. */
  private readonly generations = new Map<string, number>();

  constructor(private readonly o: SyncAgentOptions) {
    this.now = o.now ?? (() => Date.now());
    this.random = o.random ?? Math.random;
    this.client = new ReplicaClient({ url: o.url, token: o.token, fetch: o.fetch });
    this.state = initialSyncState(o.config, o.token() ? 'ok' : 'missing', onLine());
    if (typeof BroadcastChannel === 'function') this.channel = new BroadcastChannel(names.syncChannel(o.database));
    const g = globalThis as { addEventListener?: (t: string, l: () => void) => void };
    g.addEventListener?.('online', this.onNet);
    g.addEventListener?.('offline', this.onNet);
    this.unsubscribe = o.store.onAppend(() => this.kick());
  }

  /** Listens to status changes; returns a remover. */
  onStatus(l: (s: SyncStatusCore) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** The current status (after taking in what the log holds now). */
  status(): SyncStatusCore {
    if (!this.stopped && !this.pumping) this.refresh();
    return syncStatusOf(this.state, this.now());
  }

  /** Feeds an event to the state machine and announces the new status. */
  dispatch(e: SyncEvent): void {
    const before = this.state;
    this.state = reduceSync(this.state, e);
    if (this.state !== before) {
      this.announce();
      for (const w of this.changeWaiters.splice(0)) w();
    }
  }

  private changed(): Promise<void> {
    return new Promise((r) => this.changeWaiters.push(r));
  }

  private announce(): void {
    const status = syncStatusOf(this.state, this.now());
    for (const l of this.listeners) l(status);
    this.channel?.postMessage({ type: 'status', role: this.o.role, status } satisfies SyncChannelMessage);
  }

  /** The token changed (a tab stored a fresh one). */
  tokenChanged(): void {
    this.dispatch({ type: 'token', now: this.now(), present: this.o.token() !== null });
    this.kick();
  }

  /** Retries now: drops the backoff wait (a retry button). */
  retry(): void {
    this.dispatch({ type: 'retry', now: this.now() });
    this.kick();
  }

  /** Network state reported by a tab (a worker's navigator.onLine may lag behind the page's). */
  network(online: boolean): void {
    this.dispatch(online ? { type: 'online', now: this.now() } : { type: 'offline' });
    this.kick();
  }

  /** Broker mode: waits for the sync lock and uploads while holding it, until stop(). */
  start(): void {
    const l = locks();
    if (!l) {
      this.dispatch({ type: 'lock', now: this.now(), held: true });
      this.kick();
      return;
    }
    const hold = new Promise<void>((r) => { this.releaseLock = r; });
    void l.request(names.syncLock(this.o.database), async () => {
      if (this.stopped) return;
      this.dispatch({ type: 'lock', now: this.now(), held: true });
      this.kick();
      await hold;
    }).catch(() => undefined);
    this.kick();
  }

  /**
   * Service-worker mode, called while holding the sync lock: uploads until nothing is pending
   * and answers 'done', or throws the failure that stopped it (offline, backoff, unauthorized),
   * so a Background Sync event fails and the browser retries it later.
   */
  async drainHeld(): Promise<'done'> {
    this.dispatch({ type: 'lock', now: this.now(), held: true });
    this.draining = true;
    try {
      for (;;) {
        this.refresh();
        const a = nextAction(this.state, this.now());
        if (a.kind === 'push') { await this.startPush(a); continue; }
        // Whatever comes next, the pushes still open settle first.
        if (this.sends.size > 0) { await Promise.race(this.sends); continue; }
        if (a.kind === 'wait' && a.reason === 'linger') { await new Promise((r) => setTimeout(r, Math.max(0, a.until - this.now()))); continue; }
        if (a.kind === 'idle' && a.reason === 'nothing-pending') return 'done';
        const err = this.state.lastError;
        throw new Error(err ? `sync stopped: ${err.message}` : `sync cannot run now: ${a.reason}`);
      }
    } finally {
      this.draining = false;
      this.dispatch({ type: 'lock', now: this.now(), held: false });
    }
  }

  /** Stops uploading and lets the lock go. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.cancelKick?.();
    this.unsubscribe?.();
    const g = globalThis as { removeEventListener?: (t: string, l: () => void) => void };
    g.removeEventListener?.('online', this.onNet);
    g.removeEventListener?.('offline', this.onNet);
    this.releaseLock?.();
    // A push still in flight finishes after this: it must not post on the closed channel.
    this.channel?.close();
    this.channel = undefined;
    for (const w of this.idleWaiters.splice(0)) w();
    for (const w of this.changeWaiters.splice(0)) w();
  }

  /** Resolves when nothing is left to send (for tests and flush-before-close): all replicated, or held back (`blocked`). */
  whenIdle(): Promise<void> {
    this.status();
    const a = nextAction(this.state, this.now());
    if (a.kind === 'idle' && a.reason === 'nothing-pending' && this.sends.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Reloads partition facts from the log (topics created, deleted, appended, sealed). */
  private refresh(): void {
    const facts = partitionFacts(this.o.store);
    const live = new Set(facts.map((f) => f.topic));
    // A topic deleted (or deleted and created again: another generation) since the last look is
    // removed from the state machine first, so nothing of the old topic carries over.
    const gone = new Set<string>();
    for (const p of Object.values(this.state.partitions)) {
      const now = this.o.store.topics.get(p.topic)?.createdAt;
      if (!live.has(p.topic) || now !== this.generations.get(p.topic)) gone.add(p.topic);
    }
    for (const topic of gone) this.dispatch({ type: 'removed', topic });
    this.generations.clear();
    for (const topic of live) this.generations.set(topic, this.o.store.topics.get(topic)!.createdAt);
    if (this.state.online !== onLine()) this.dispatch(onLine() ? { type: 'online', now: this.now() } : { type: 'offline' });
    this.dispatch({ type: 'partitions', now: this.now(), partitions: facts });
  }

  /** Schedules a pump in a later task (coalesces bursts of appends; not a timer, see the invariants). */
  kick(): void {
    if (this.stopped) return;
    if (this.pumping) { this.again = true; return; }
    if (this.cancelKick) return;
    clearTimeout(this.timer);
    this.cancelKick = queueTask(() => { this.cancelKick = undefined; void this.pump(); });
  }

  private async pump(): Promise<void> {
    if (this.stopped || this.pumping || this.draining || !this.state.holdsLock) return;
    this.pumping = true;
    try {
      for (;;) {
        this.again = false;
        this.refresh();
        const a = nextAction(this.state, this.now());
        if (a.kind === 'push') { await this.startPush(a); if (this.stopped) return; continue; }
        if (a.kind === 'wait') {
          clearTimeout(this.timer);
          this.timer = setTimeout(() => void this.pump(), Math.max(0, a.until - this.now()));
        }
        if (a.kind === 'idle' && a.reason === 'nothing-pending' && this.sends.size === 0) for (const w of this.idleWaiters.splice(0)) w();
        if (!this.again) return;
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Reads the batches of one push request and opens it in the state machine; its framing,
   * compression, sending and acknowledgement go on in the background ({@link send}), so the
   * next request is read while this one travels.
   */
  private async startPush(a: Extract<SyncAction, { kind: 'push' }>): Promise<void> {
    const store = this.o.store;
    const batches: RecordBatch[] = [];
    const ranges: PushRange[] = [];
    /** Each topic's generation (its row's createdAt) when its batches were read: part of their dedupe key. */
    const generations = new Map<string, number>();
    // At least one batch per request, whatever the configuration says (an empty push acknowledges nothing).
    let budget = Math.max(1, a.maxBytes);
    let full = false;
    for (const p of a.partitions) {
      if (budget <= 0 || full) break;
      const generation = store.topics.get(p.topic)?.createdAt;
      if (generation === undefined) continue;
      generations.set(p.topic, generation);
      let from = p.from;
      const end = Math.min(p.to ?? Infinity, store.txns.lastStable(p.topic, p.partition, store.partition(p.topic, p.partition).active.nextOffset));
      // Read about what the budget takes (not a whole partition for a 1 MiB request), more if short.
      while (!full && budget > 0 && from < end) {
        const want = Math.min(BATCHES_PER_READ, Math.ceil(budget / this.avgBatchBytes) + 1);
        const rows = await store.readBatches(p.topic, p.partition, from, end, want);
        // The topic was deleted (and maybe created again) during the read: these rows are not its now.
        if (store.topics.get(p.topic)?.createdAt !== generation) break;
        // Nothing left to read below the log end (compacted or deleted away): the range is empty.
        if (rows.length === 0) { from = Math.max(from, end); break; }
        let size = 0;
        for (const row of rows) {
          size += row.sizeBytes;
          if (batches.length > 0 && row.sizeBytes > budget) { full = true; break; }
          // The replica gets committed transactions only: markers and aborted batches go emptied
          // (their offsets, no records), so no replica reader ever sees an aborted record.
          const b = row.control || (row.transactional && store.txns.isAborted(row.topic, row.partition, row.producerId, row.baseOffset)) ? emptied(row) : row;
          batches.push(b);
          budget -= b.sizeBytes;
          from = b.baseOffset + b.lastOffsetDelta + 1;
        }
        this.avgBatchBytes = Math.max(64, size / rows.length);
        if (rows.length < want) break;
      }
      // A partition the request has no room for is not part of it (it stays free for the next one).
      if (from > p.from) ranges.push({ topic: p.topic, partition: p.partition, from: p.from, to: from });
    }
    this.dispatch({ type: 'pushStarted', id: a.id, ranges });
    // Refused (an earlier push of one of these partitions failed meanwhile): nothing is sent.
    if (this.state.inFlight.find((f) => f.id === a.id)?.ranges !== ranges) return;
    const t = this.send(a.id, batches, ranges, generations).finally(() => { this.sends.delete(t); this.kick(); });
    this.sends.add(t);
  }

  /** Frames and gzips a started push, sends it when its turn comes, persists and reports the outcome. Never throws. */
  private async send(id: number, batches: RecordBatch[], ranges: PushRange[], generations: ReadonlyMap<string, number>): Promise<void> {
    const store = this.o.store;
    try {
      let prepared: PreparedPush | null = null;
      if (batches.length > 0) {
        // The replica reads records out of every payload and has no codec field: a compressed
        // batch goes as its plain records, with the CRC of those bytes.
        const plain = await plainBatches(batches);
        prepared = await this.client.preparePush({ deviceId: this.o.deviceId, batches: plain.map((b, i) => toPushBatch(b, b !== batches[i], generations.get(b.topic))) });
      }
      for (let r = pushReady(this.state, id); r !== 'send'; r = pushReady(this.state, id)) {
        if (r === 'dropped' || this.stopped) return;
        await this.changed();
      }
      if (prepared) await this.client.sendPush(prepared);
      // A topic deleted (and maybe created again) while its push travelled: its acknowledgement
      // is not the new topic's.
      const acks = ranges.filter((r) => r.to > r.from && store.topics.get(r.topic)?.createdAt === generations.get(r.topic))
        .map((r) => ({ topic: r.topic, partition: r.partition, replicated: r.to }));
      await saveReplicated(store, acks);
      const bytes = new Map<string, number>();
      for (const b of batches) bytes.set(`${b.topic}\u0000${b.partition}`, (bytes.get(`${b.topic}\u0000${b.partition}`) ?? 0) + b.sizeBytes);
      if (acks.length) this.channel?.postMessage({ type: 'replicated', role: this.o.role, acks } satisfies SyncChannelMessage);
      for (const ack of acks) store.notifyAppend(ack.topic, ack.partition, store.partition(ack.topic, ack.partition).active.nextOffset);
      this.dispatch({ type: 'pushSucceeded', id, now: this.now(), acks: acks.map((x) => ({ ...x, bytes: bytes.get(`${x.topic}\u0000${x.partition}`) ?? 0 })) });
    } catch (e) {
      const error = failureOf(e);
      this.dispatch({ type: 'pushFailed', id, now: this.now(), random: this.random(), error, ...refusedBatch(error, batches) });
    }
  }
}

/**
 * The batch a rejection names (`batches[i]...`, the replica's field of a refused record or
 * batch), as the state machine holds its partition back; nothing for other failures.
 */
export function refusedBatch(error: SyncFailure, batches: readonly RecordBatch[]): { refused?: { topic: string; partition: number; baseOffset: number } } {
  if (error.kind !== 'rejected' || !error.field) return {};
  const m = /^batches\[(\d+)\]/.exec(error.field);
  const b = m ? batches[Number(m[1])] : undefined;
  return b ? { refused: { topic: b.topic, partition: b.partition, baseOffset: b.baseOffset } } : {};
}

/**
 * A stored batch as a push frame carries it; `topicGeneration` is its topic's generation (the
 * topic row's createdAt), so the replica tells a topic created again from its earlier self.
 */
export function toPushBatch(b: RecordBatch, decompressed = false, topicGeneration = 0): PushBatch {
  return {
    topic: b.topic, partition: b.partition, baseOffset: b.baseOffset, lastOffsetDelta: b.lastOffsetDelta, topicGeneration,
    producerId: b.producerId, producerEpoch: b.producerEpoch, baseSequence: b.baseSequence, count: b.count,
    firstTimestamp: b.firstTimestamp, maxTimestamp: b.maxTimestamp, crc: decompressed ? payloadCrc(b.payload) : b.crc, payload: b.payload,
  };
}
