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
 * - Only stable records are pushed: a partition's push ends at its last stable offset (an open
 *   transaction's records wait for its marker), and markers and aborted transactional batches
 *   go emptied (offsets kept, no records), so a replica never holds an aborted record.
 * - Every state change is announced on BroadcastChannel `lanes:<db>:sync` (status, and the
 *   replicated ends), so tabs and the other uploader see it.
 */
import { names } from '../protocol/broker-api.js';
import type { PushBatch } from '../protocol/replica-wire.js';
import { payloadCrc, type RecordBatch } from '../protocol/record-batch.js';
import { plainBatches } from '../protocol/compression.js';
import { emptied } from '../log/txn-index.js';
import type { LogStore } from '../log/log-store.js';
import { saveReplicated } from '../log/sync-meta.js';
import { failureOf, ReplicaClient } from './replica-client.js';
import {
  initialSyncState, nextAction, reduceSync, syncStatusOf,
  type PartitionFacts, type SyncConfig, type SyncEvent, type SyncState, type SyncStatusCore,
} from './sync-state.js';

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
  private pumping = false;
  private again = false;
  private stopped = false;
  private releaseLock: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private listeners = new Set<(s: SyncStatusCore) => void>();
  private readonly onNet = () => this.kick();

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
    if (this.state !== before) this.announce();
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
    try {
      for (;;) {
        this.refresh();
        const a = nextAction(this.state, this.now());
        if (a.kind === 'push') { await this.push(a); continue; }
        if (a.kind === 'wait' && a.reason === 'linger') { await new Promise((r) => setTimeout(r, Math.max(0, a.until - this.now()))); continue; }
        if (a.kind === 'idle' && a.reason === 'nothing-pending') return 'done';
        const err = this.state.lastError;
        throw new Error(err ? `sync stopped: ${err.message}` : `sync cannot run now: ${a.reason}`);
      }
    } finally {
      this.dispatch({ type: 'lock', now: this.now(), held: false });
    }
  }

  /** Stops uploading and lets the lock go. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    const g = globalThis as { removeEventListener?: (t: string, l: () => void) => void };
    g.removeEventListener?.('online', this.onNet);
    g.removeEventListener?.('offline', this.onNet);
    this.releaseLock?.();
    // A push still in flight finishes after this: it must not post on the closed channel.
    this.channel?.close();
    this.channel = undefined;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves when nothing is pending (for tests and flush-before-close). */
  whenIdle(): Promise<void> {
    if (nextAction(this.state, this.now()).kind === 'idle' && this.status().pendingRecords === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Reloads partition facts from the log (topics created, deleted, appended, sealed). */
  private refresh(): void {
    const facts = partitionFacts(this.o.store);
    const live = new Set(facts.map((f) => f.topic));
    for (const p of Object.values(this.state.partitions)) if (!live.has(p.topic)) this.dispatch({ type: 'removed', topic: p.topic });
    if (this.state.online !== onLine()) this.dispatch(onLine() ? { type: 'online', now: this.now() } : { type: 'offline' });
    this.dispatch({ type: 'partitions', now: this.now(), partitions: facts });
  }

  /** Schedules a pump soon (coalesces bursts of appends). */
  kick(): void {
    if (this.stopped) return;
    if (this.pumping) { this.again = true; return; }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), 0);
  }

  private async pump(): Promise<void> {
    if (this.stopped || this.pumping || !this.state.holdsLock) return;
    this.pumping = true;
    try {
      for (;;) {
        this.again = false;
        this.refresh();
        const a = nextAction(this.state, this.now());
        if (a.kind === 'push') { await this.push(a); if (this.stopped) return; continue; }
        if (a.kind === 'wait') {
          clearTimeout(this.timer);
          this.timer = setTimeout(() => void this.pump(), Math.max(0, a.until - this.now()));
        }
        if (a.kind === 'idle' && a.reason === 'nothing-pending') for (const w of this.idleWaiters.splice(0)) w();
        if (!this.again) return;
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Reads, sends and acknowledges one push request. */
  private async push(a: Extract<ReturnType<typeof nextAction>, { kind: 'push' }>): Promise<void> {
    const store = this.o.store;
    const batches: RecordBatch[] = [];
    const ranges: { topic: string; partition: number; from: number; to: number }[] = [];
    let budget = a.maxBytes;
    for (const p of a.partitions) {
      if (budget <= 0) break;
      if (!store.topics.has(p.topic)) continue;
      let from = p.from;
      const end = store.txns.lastStable(p.topic, p.partition, store.partition(p.topic, p.partition).active.nextOffset);
      const rows = await store.readBatches(p.topic, p.partition, from, end, BATCHES_PER_READ);
      for (const row of rows) {
        if (batches.length > 0 && row.sizeBytes > budget) break;
        // The replica gets committed transactions only: markers and aborted batches go emptied
        // (their offsets, no records), so no replica reader ever sees an aborted record.
        const b = row.control || (row.transactional && store.txns.isAborted(row.topic, row.partition, row.producerId, row.baseOffset)) ? emptied(row) : row;
        batches.push(b);
        budget -= b.sizeBytes;
        from = b.baseOffset + b.lastOffsetDelta + 1;
      }
      // Nothing left to read below the log end (compacted or deleted away): the range is empty.
      if (rows.length === 0) from = Math.max(from, end);
      ranges.push({ topic: p.topic, partition: p.partition, from: p.from, to: from });
    }
    this.dispatch({ type: 'pushStarted', id: a.id, ranges });
    try {
      if (batches.length > 0) {
        // The replica reads records out of every payload and has no codec field: a compressed
        // batch goes as its plain records, with the CRC of those bytes.
        const plain = await plainBatches(batches);
        await this.client.push({ deviceId: this.o.deviceId, batches: plain.map((b, i) => toPushBatch(b, b !== batches[i])) });
      }
      const acks = ranges.filter((r) => r.to > r.from).map((r) => ({ topic: r.topic, partition: r.partition, replicated: r.to }));
      await saveReplicated(store, acks);
      const bytes = new Map<string, number>();
      for (const b of batches) bytes.set(`${b.topic}\u0000${b.partition}`, (bytes.get(`${b.topic}\u0000${b.partition}`) ?? 0) + b.sizeBytes);
      if (acks.length) this.channel?.postMessage({ type: 'replicated', role: this.o.role, acks } satisfies SyncChannelMessage);
      for (const ack of acks) store.notifyAppend(ack.topic, ack.partition, store.partition(ack.topic, ack.partition).active.nextOffset);
      this.dispatch({ type: 'pushSucceeded', id: a.id, now: this.now(), acks: acks.map((x) => ({ ...x, bytes: bytes.get(`${x.topic}\u0000${x.partition}`) ?? 0 })) });
    } catch (e) {
      this.dispatch({ type: 'pushFailed', id: a.id, now: this.now(), random: this.random(), error: failureOf(e) });
    }
  }
}

/** A stored batch as a push frame carries it. */
export function toPushBatch(b: RecordBatch, decompressed = false): PushBatch {
  return {
    topic: b.topic, partition: b.partition, baseOffset: b.baseOffset, lastOffsetDelta: b.lastOffsetDelta,
    producerId: b.producerId, producerEpoch: b.producerEpoch, baseSequence: b.baseSequence, count: b.count,
    firstTimestamp: b.firstTimestamp, maxTimestamp: b.maxTimestamp, crc: decompressed ? payloadCrc(b.payload) : b.crc, payload: b.payload,
  };
}
