/**
 * LogStore: the partitioned log of one database. The broker owns exactly one, and is the
 * only writer (the Web Lock `lanes:<db>:broker` guarantees that across tabs and versions).
 *
 * Invariants:
 * - The in-memory partition states are the committed state: they change only after the
 *   transaction writing them has completed, so a failed append leaves offsets untouched.
 * - Per partition, offsets are strictly increasing and never reused: logEndOffset only grows,
 *   also across compaction (which raises offset skips) and retention (which moves the start).
 * - Each partition has exactly one active (unsealed) segment; sealed segments change only by
 *   the cleaner, which raises their version.
 * - Writes that change partition or topic state (appends, the cleaner's writes, topic changes)
 *   run one at a time through `exclusive` and compute their new state inside it, so no write
 *   commits a state derived from a snapshot that another write replaced meanwhile.
 * - A lazy store (`lazy: true`, the broker's) opens with the producer-id counter only; a
 *   topic's row is read when a request names the topic (`useTopics`; `useAllTopics` for what
 *   lists them all), a partition's row and active segment are read when it is first used (`usePartition`,
 *   `useTopic`), its sealed segments when something needs them (`useSegments`, `useAll`), and a
 *   producer's state on a partition when that producer first appends there (`useProducer`), so
 *   open time grows neither with the log nor with the number of partitions or producers.
 *   Appends only add sealed segments at the end and the cleaner works on fully loaded
 *   partitions, so the older segments read later go in front. A partition is written only once
 *   loaded, so a load never installs state older than a committed write; a load that finishes
 *   after its topic was deleted or replaced installs nothing. Sync accessors (`partition`,
 *   `watermarks`, `producerState`) need their state loaded: every async entry point uses it first.
 * - `topics` holds every stored topic once `useAllTopics` ran (eager stores: at open); before,
 *   each topic that was looked up. A lookup that raced a topic write (create, grow, alter,
 *   delete) is read again, so a deleted topic never comes back and a created one is never hidden.
 * - Producer ids at or above the counter read at open were handed out by this store, so their
 *   states exist only as this store wrote them: the map is complete for them without a read.
 * - `tail` holds the batches the appender committed last, per partition (tail-window.ts); reads
 *   at the log end are answered from it (`tailRead`), everything else reads IndexedDB. A deleted
 *   topic's windows go with it.
 * - A topic's row `createdAt` is its generation: a topic deleted and created again by this store
 *   gets a later one even within the same millisecond (the tail window and the replica's dedupe
 *   key tell the two apart by it).
 */
import { TxnIndex } from './txn-index.js';
import { TopicExistsError, TopicNotFoundError, InvalidArgumentError, StorageError } from '../errors.js';
import type { RecordBatch } from '../protocol/record-batch.js';
import { parseTopicConfig, type TopicConfig } from '../protocol/topic-config.js';
import type { ConfigEntry } from '../types.js';
import { done, openLogDb, S, transaction, type KeyRangeCtor, type LogDb, type LostReason, type ProducerRow, type SegmentRow, type TopicRow } from './log-db.js';
import { checkNumPartitions, checkPartitionCount, tpKey } from '../protocol/topic-partition.js';
import { TailWindow } from './tail-window.js';
import { newerProducerState, producerCarriedBy, withCarried } from './carried-state.js';

/** In-memory state of a partition. */
export interface PartitionState {
  topic: string;
  partition: number;
  logStartOffset: number;
  /**
   * Sealed segments, oldest first. While `olderUnloaded` is set (lazy stores), only those sealed
   * since the partition was loaded; `useSegments` reads the older ones in front of them.
   */
  sealed: SegmentRow[];
  active: SegmentRow;
  /** True while sealed segments older than `sealed[0]` (or the active one) are not loaded. */
  olderUnloaded?: boolean;
  /**
   * The producer whose current state on this partition may be stored only in the partition's
   * last batch, not in its producers row (carried-state.ts); undefined when none.
   */
  carrier?: number;
}

/** Notified after an append commits. */
export type AppendListener = (topic: string, partition: number, logEndOffset: number) => void;

/** Options of LogStore.open. */
export interface LogStoreOptions {
  indexedDB: IDBFactory;
  IDBKeyRange: KeyRangeCtor;
  /** The IndexedDB database name. */
  name: string;
  /** Clock, injectable for retention tests. */
  now?: () => number;
  /**
   * Called once when the database connection is gone (another connection deletes or upgrades
   * the database, or the browser cleared it); the store is closed by then.
   */
  onLost?: (reason: LostReason, newVersion: number | null) => void;
  /**
   * Load partitions (their rows and segments) on first use instead of at open (default false:
   * everything is loaded before open resolves).
   */
  lazy?: boolean;
}


/** Builds an empty active segment. */
export function newSegment(topic: string, partition: number, baseOffset: number, now: number): SegmentRow {
  return { topic, partition, baseOffset, nextOffset: baseOffset, sizeBytes: 0, batchCount: 0, recordCount: 0, firstTimestamp: -1, maxTimestamp: -1, createdAt: now, sealedAt: -1, version: 0 };
}

/**
 * Seals a partition's active segment at `now` and opens the next one where it ended. Pure:
 * returns the new partition state and the sealed row to write; the caller writes both
 * segments in one transaction and installs the state after it commits.
 */
export function sealSegment(p: PartitionState, now: number): { state: PartitionState; sealed: SegmentRow } {
  const sealed: SegmentRow = { ...p.active, sealedAt: now };
  return { sealed, state: { ...p, sealed: [...p.sealed, sealed], active: newSegment(p.topic, p.partition, sealed.nextOffset, now) } };
}

/** The partitioned log of one database. */
export class LogStore {
  readonly topics = new Map<string, TopicRow>();
  readonly partitions = new Map<string, PartitionState>();
  readonly producers = new Map<string, ProducerRow>();
  readonly now: () => number;
  /** Per partition, the end of what the sync replica acknowledged (local offsets; see sync-meta.ts). */
  readonly replicated = new Map<string, number>();
  /** Local topics that mirror a replica topic (into -> replica topic): never pushed back. */
  readonly mirrors = new Map<string, string>();
  /** True once sync is configured for this log: retention then keeps unreplicated segments. */
  syncEnabled = false;
  /** Open transactions and aborted ranges (last stable offset, read-committed filtering). */
  readonly txns = new TxnIndex();
  private listeners = new Set<AppendListener>();
  /** The last committed batches per partition, for reads at the log end. */
  readonly tail = new TailWindow();
  private nextProducerId = 1;
  /** Producer id and epoch of each transactionalId seen by this store (cache of `meta`). */
  private readonly txnEpochs = new Map<string, { producerId: number; producerEpoch: number }>();
  private writing: Promise<unknown> = Promise.resolve();
  /** Loads in flight, per partition key (lazy stores). */
  private loading = new Map<string, Promise<void>>();
  private loadingOlder = new Map<string, Promise<void>>();
  /** Producer ids from here on were allocated by this store (lazy stores; -1: eager, all loaded). */
  private producerIdsFrom = -1;
  /** Producer states looked up and not stored (lazy stores), so each is read once. */
  private producersChecked = new Set<string>();
  private loadingProducers = new Map<string, Promise<void>>();
  /** True when `topics` holds every stored topic (eager stores, or after useAllTopics). */
  private topicsComplete = true;
  /** Topic names looked up and not stored (lazy stores). */
  private topicsChecked = new Set<string>();
  /** Raised by every committed topic write: lookups that overlap one read again. */
  private topicWrites = 0;
  /** The generation (createdAt) of each topic this store deleted: a new one must be later. */
  private readonly deletedGenerations = new Map<string, number>();
  private allTopics: Promise<void> | undefined;
  /** Every partition is loaded once this resolves (set at open for an eager store). */
  private allLoaded: Promise<void> | undefined;
  /** True when open loaded every partition. */
  private eager = false;
  closed = false;

  private constructor(readonly db: LogDb, readonly KR: KeyRangeCtor, readonly name: string, now?: () => number) {
    this.now = now ?? (() => Date.now());
  }

  /** Opens a database and loads topics, partitions, segments and producer states. */
  static async open(o: LogStoreOptions): Promise<LogStore> {
    let store: LogStore | undefined;
    const db = await openLogDb(o.indexedDB, o.name, {
      IDBKeyRange: o.IDBKeyRange,
      onLost: (reason, newVersion) => {
        if (!store) return;
        store.closed = true;
        o.onLost?.(reason, newVersion);
      },
    });
    store = new LogStore(db, o.IDBKeyRange, o.name, o.now);
    try {
      await store.load(o.lazy === true);
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  private async load(lazy: boolean): Promise<void> {
    if (lazy) {
      const tx = transaction(this.db, [S.meta], 'readonly', 'open');
      const [npid] = await Promise.all([
        tx.objectStore(S.meta).get('nextProducerId'),
        this.txns.load(tx.objectStore(S.meta) as never, this.KR),
      ]);
      this.topicsComplete = false;
      this.nextProducerId = (npid as number | undefined) ?? 1;
      this.producerIdsFrom = this.nextProducerId;
      return;
    }
    // One transaction for all of it, the partitions' last batches included: another connection
    // (the broker, when this store is the service worker's) may append meanwhile, and the
    // transaction index must describe the same log as the ends the last batches carry. Read in
    // two transactions, a transaction opened in between would have its records below the end
    // but be missing from the index, so they would count as committed (stable).
    const tx = transaction(this.db, [S.topics, S.partitions, S.segments, S.producers, S.meta, S.batches], 'readonly', 'open');
    const bos = tx.objectStore(S.batches);
    const lastOf = async (p: { topic: string; partition: number }) => {
      // The last key, then that one value (a value cursor may read ahead, see loadPartition).
      const c = await bos.openKeyCursor(this.partitionRange(p.topic, p.partition, -Infinity), 'prev');
      return c ? bos.get(c.primaryKey) : undefined;
    };
    const [topics, [parts, lasts], segs, prods, npid] = await Promise.all([
      tx.objectStore(S.topics).getAll(),
      tx.objectStore(S.partitions).getAll().then(async (ps) => [ps, await Promise.all(ps.map(lastOf))] as const),
      tx.objectStore(S.segments).getAll(),
      tx.objectStore(S.producers).getAll(),
      tx.objectStore(S.meta).get('nextProducerId'),
      this.txns.load(tx.objectStore(S.meta) as never, this.KR),
    ]);
    this.eager = true;
    this.allLoaded = Promise.resolve();
    for (const t of topics) this.topics.set(t.topic, t);
    const bySeg = new Map<string, SegmentRow[]>();
    for (const s of segs) {
      const k = tpKey(s.topic, s.partition);
      let list = bySeg.get(k);
      if (!list) bySeg.set(k, (list = []));
      list.push(s); // getAll returns key order: oldest first
    }
    for (const pr of prods) this.producers.set(`${pr.producerId}:${tpKey(pr.topic, pr.partition)}`, pr);
    // Each partition's last batch carries its active segment's counters and its producer's state.
    parts.forEach((p, i) => {
      const last = lasts[i];
      this.partitions.set(tpKey(p.topic, p.partition), withCarried(this.stateOf(p, bySeg.get(tpKey(p.topic, p.partition)) ?? []), last));
      const carried = producerCarriedBy(last);
      if (carried) this.offerProducerState(carried);
    });
    this.nextProducerId = (npid as number | undefined) ?? 1;
  }

  /** The partition state of a stored partition row and its segments (oldest first). */
  private stateOf(p: { topic: string; partition: number; logStartOffset: number }, list: SegmentRow[]): PartitionState {
    const active = list.find((s) => s.sealedAt === -1) ?? newSegment(p.topic, p.partition, list.at(-1)?.nextOffset ?? p.logStartOffset, this.now());
    return { topic: p.topic, partition: p.partition, logStartOffset: p.logStartOffset, sealed: list.filter((s) => s.sealedAt !== -1), active };
  }

  /** True when the rows of these topic names are known (loaded, or known not to exist). */
  knowsTopics(names: Iterable<unknown>): boolean {
    if (this.topicsComplete) return true;
    for (const n of names) if (typeof n === 'string' && !this.topics.has(n) && !this.topicsChecked.has(n)) return false;
    return true;
  }

  /**
   * Reads the rows of the named topics that are not known yet (lazy stores: one transaction of
   * keyed reads). Afterwards `topics` says for each of them whether it exists.
   */
  async useTopics(names: Iterable<unknown>): Promise<void> {
    for (;;) {
      if (this.topicsComplete) return;
      const missing = [...new Set([...names].filter((n): n is string => typeof n === 'string' && !this.topics.has(n) && !this.topicsChecked.has(n)))];
      if (missing.length === 0) return;
      const gen = this.topicWrites;
      const os = transaction(this.db, [S.topics], 'readonly', 'metadata').objectStore(S.topics);
      const rows = await Promise.all(missing.map((n) => os.get(n)));
      if (gen !== this.topicWrites || this.topicsComplete) continue; // a topic write overlapped: read again
      missing.forEach((n, i) => {
        const row = rows[i];
        if (row) this.topics.set(n, row);
        else this.topicsChecked.add(n);
      });
      return;
    }
  }

  /** Reads every topic row (lazy stores, once): what lists or walks all topics needs it. */
  useAllTopics(): Promise<void> {
    if (this.topicsComplete) return Promise.resolve();
    this.allTopics ??= (async () => {
      for (;;) {
        const gen = this.topicWrites;
        const rows = await transaction(this.db, [S.topics], 'readonly', 'metadata').objectStore(S.topics).getAll();
        if (gen !== this.topicWrites) continue;
        for (const t of rows) this.topics.set(t.topic, t);
        this.topicsComplete = true;
        this.topicsChecked.clear();
        return;
      }
    })().finally(() => { this.allTopics = undefined; });
    return this.allTopics;
  }

  /**
   * Loads a partition if it is not loaded yet (one read of its row and segments). Unknown
   * topics and partitions are left alone: the sync accessors then throw their clear errors.
   */
  usePartition(topic: string, partition: number): Promise<void> {
    const k = tpKey(topic, partition);
    if (this.eager || this.partitions.has(k)) return Promise.resolve();
    if (!this.knowsTopics([topic])) return this.useTopics([topic]).then(() => this.usePartition(topic, partition));
    const row = this.topics.get(topic);
    if (!row || !Number.isInteger(partition) || partition < 0 || partition >= row.numPartitions) return Promise.resolve();
    let p = this.loading.get(k);
    if (!p) {
      p = this.loadPartition(row, partition).finally(() => this.loading.delete(k));
      this.loading.set(k, p);
    }
    return p;
  }

  private async loadPartition(row: TopicRow, partition: number): Promise<void> {
    const { topic } = row;
    const tx = transaction(this.db, [S.partitions, S.segments, S.batches, S.producers], 'readonly', `load ${topic}-${partition}`);
    const [part, last, [lastBatch, carrierRow]] = await Promise.all([
      tx.objectStore(S.partitions).get([topic, partition]) as Promise<{ topic: string; partition: number; logStartOffset: number } | undefined>,
      tx.objectStore(S.segments).openCursor(this.partitionRange(topic, partition, -Infinity), 'prev').then((c) => c?.value as SegmentRow | undefined),
      // The last batch carries the active segment's counters and its producer's state; that
      // producer's row is read too (in the same transaction), as the newer of the two counts.
      // The key first, then that one value: a value cursor may read ahead several 100 kB
      // batches (Firefox's does), where only the last is needed.
      tx.objectStore(S.batches).openKeyCursor(this.partitionRange(topic, partition, -Infinity), 'prev').then(async (c) => {
        const b = c ? await tx.objectStore(S.batches).get(c.primaryKey) : undefined;
        const id = producerCarriedBy(b)?.producerId;
        return [b, id === undefined ? undefined : await tx.objectStore(S.producers).get([id, topic, partition])] as const;
      }),
    ]);
    const k = tpKey(topic, partition);
    // Installed only if nothing replaced the topic meanwhile and no write installed a newer state.
    if (this.topics.get(topic)?.createdAt !== row.createdAt || this.partitions.has(k)) return;
    const p = part ?? { topic, partition, logStartOffset: 0 };
    // The last segment is the active one (a partition always has one written); older ones later.
    const state = withCarried(this.stateOf(p, last ? [last] : []), lastBatch);
    this.partitions.set(k, last ? { ...state, olderUnloaded: true } : state);
    const carried = newerProducerState(carrierRow, producerCarriedBy(lastBatch));
    if (carried) {
      this.offerProducerState(carried);
      this.producersChecked.add(`${carried.producerId}:${k}`);
    }
  }

  /** Loads a partition and all its sealed segments (what retention, timestamps and segment lists need). */
  async useSegments(topic: string, partition: number): Promise<void> {
    await this.usePartition(topic, partition);
    const k = tpKey(topic, partition);
    const p = this.partitions.get(k);
    if (!p?.olderUnloaded) return;
    let load = this.loadingOlder.get(k);
    if (!load) {
      const createdAt = this.topics.get(topic)?.createdAt;
      const before = p.sealed[0]?.baseOffset ?? p.active.baseOffset;
      load = (async () => {
        const older: SegmentRow[] = await transaction(this.db, [S.segments], 'readonly', `load ${topic}-${partition}`).objectStore(S.segments).getAll(this.partitionRange(topic, partition, -Infinity, before, true));
        const cur = this.partitions.get(k);
        if (!cur?.olderUnloaded || this.topics.get(topic)?.createdAt !== createdAt) return;
        const first = cur.sealed[0]?.baseOffset ?? cur.active.baseOffset;
        this.partitions.set(k, { ...cur, sealed: [...older.filter((s) => s.sealedAt !== -1 && s.baseOffset < first), ...cur.sealed], olderUnloaded: false });
      })().finally(() => this.loadingOlder.delete(k));
      this.loadingOlder.set(k, load);
    }
    await load;
  }

  /** Loads every partition of a topic (see usePartition). */
  async useTopic(topic: string): Promise<void> {
    await this.useTopics([topic]);
    const n = this.topics.get(topic)?.numPartitions ?? 0;
    const loads: Promise<void>[] = [];
    for (let p = 0; p < n; p++) loads.push(this.usePartition(topic, p));
    await Promise.all(loads);
  }

  /** Loads every partition of the log (the cleaner, sync and watches need them all). */
  useAll(): Promise<void> {
    this.allLoaded ??= (async () => {
      await this.useAllTopics();
      const loads: Promise<void>[] = [];
      for (const t of [...this.topics.values()]) for (let p = 0; p < t.numPartitions; p++) loads.push(this.useSegments(t.topic, p));
      await Promise.all(loads);
    })();
    return this.allLoaded;
  }

  /**
   * Loads the stored state of producer `producerId` on a partition if one may exist and is not
   * in memory yet (lazy stores: one keyed read, once). The appender uses it before planning an
   * idempotent append, so a retry of a batch written before the broker opened is still
   * recognised. Ids this store handed out, and every id of an eager store, need no read.
   */
  useProducer(producerId: number, topic: string, partition: number): Promise<void> {
    if (!this.needsProducer(producerId, topic, partition)) return Promise.resolve();
    const k = `${producerId}:${tpKey(topic, partition)}`;
    let p = this.loadingProducers.get(k);
    if (!p) {
      p = (async () => {
        await this.useTopics([topic]);
        const createdAt = this.topics.get(topic)?.createdAt;
        const row = await transaction(this.db, [S.producers], 'readonly', `load producer ${producerId}`).objectStore(S.producers).get([producerId, topic, partition]);
        // Installed only if no append installed a newer state and the topic was not replaced meanwhile.
        if (this.topics.get(topic)?.createdAt !== createdAt) return;
        if (row) this.offerProducerState(row);
        this.producersChecked.add(k);
      })().finally(() => this.loadingProducers.delete(k));
      this.loadingProducers.set(k, p);
    }
    return p;
  }

  /** True when `useProducer` has to read: a lazy store's state of an older producer, not looked up yet. */
  needsProducer(producerId: number, topic: string, partition: number): boolean {
    if (this.producerIdsFrom < 0 || !(producerId >= 0) || producerId >= this.producerIdsFrom) return false;
    const k = `${producerId}:${tpKey(topic, partition)}`;
    return !this.producers.has(k) && !this.producersChecked.has(k);
  }

  /** Closes the database connection. */
  close(): void {
    this.closed = true;
    this.db.close();
  }

  // ---- state access -------------------------------------------------------------------------

  /** The topic's row; throws TopicNotFoundError. */
  topic(topic: string): TopicRow {
    const t = this.topics.get(topic);
    if (!t && !this.knowsTopics([topic])) throw new StorageError(`topic ${JSON.stringify(topic)} is not loaded yet`, { retriable: true, details: { topic } });
    if (!t) throw new TopicNotFoundError(`topic ${JSON.stringify(topic)} does not exist`, { details: { topic } });
    return t;
  }

  /** The partition's state; throws TopicNotFoundError naming the partition. */
  partition(topic: string, partition: number): PartitionState {
    const t = this.topic(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= t.numPartitions) {
      throw new TopicNotFoundError(`partition ${String(partition)} of topic ${JSON.stringify(topic)} does not exist (it has ${t.numPartitions}: 0..${t.numPartitions - 1})`, { details: { topic, partition } });
    }
    const p = this.partitions.get(tpKey(topic, partition));
    if (!p) throw new StorageError(`partition ${topic}-${partition} is not loaded yet`, { retriable: true, details: { topic, partition } });
    return p;
  }

  /** Low and high watermarks of a partition. */
  watermarks(topic: string, partition: number): { low: number; high: number } {
    const p = this.partition(topic, partition);
    return { low: p.logStartOffset, high: p.active.nextOffset };
  }

  /** Stored size of a partition's segments, in bytes. */
  partitionBytes(p: PartitionState): number {
    let n = p.active.sizeBytes;
    for (const s of p.sealed) n += s.sizeBytes;
    return n;
  }

  /** End of what the replica holds of a partition (0 when nothing was acknowledged). */
  replicatedOf(topic: string, partition: number): number {
    return this.replicated.get(tpKey(topic, partition)) ?? 0;
  }

  /** Raises the in-memory replicated offset of a partition (never lowers it); true when it moved. */
  setReplicated(topic: string, partition: number, offset: number): boolean {
    const k = tpKey(topic, partition);
    if ((this.replicated.get(k) ?? 0) >= offset) return false;
    this.replicated.set(k, offset);
    return true;
  }

  /** Producer state of one producer on one partition (lazy stores: after `useProducer`). */
  producerState(producerId: number, topic: string, partition: number): ProducerRow | undefined {
    return this.producers.get(`${producerId}:${tpKey(topic, partition)}`);
  }

  /**
   * Installs a stored producer state read at load unless memory holds a newer one (an append
   * since, or the partition's last batch carried a newer one).
   */
  offerProducerState(row: ProducerRow): void {
    const k = `${row.producerId}:${tpKey(row.topic, row.partition)}`;
    this.producers.set(k, newerProducerState(this.producers.get(k), row)!);
  }

  /** Records a committed producer state. */
  setProducerState(row: ProducerRow): void {
    this.producers.set(`${row.producerId}:${tpKey(row.topic, row.partition)}`, row);
  }

  /** Replaces a partition's committed state. */
  setPartition(p: PartitionState): void {
    this.partitions.set(tpKey(p.topic, p.partition), p);
  }

  /** Key range of one partition in the batches or segments store. */
  partitionRange(topic: string, partition: number, from = 0, to = Infinity, openEnd = false): IDBKeyRange {
    return this.KR.bound([topic, partition, from], [topic, partition, to], false, openEnd);
  }

  /**
   * Runs `fn` after every earlier exclusive write finished. Not reentrant: `fn` must not wait
   * for anything that takes the lock (createTopic, createPartitions, alterConfig, deleteTopic,
   * Appender.append, the cleaner's runCleaner and deleteRecords).
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writing.then(fn, fn);
    this.writing = run.catch(() => undefined);
    return run;
  }

  // ---- wake-ups -----------------------------------------------------------------------------

  /** Subscribes to committed appends; returns an unsubscribe function. */
  onAppend(l: AppendListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Tells listeners a partition grew. */
  notifyAppend(topic: string, partition: number, end: number): void {
    for (const l of this.listeners) l(topic, partition, end);
  }

  // ---- topics -------------------------------------------------------------------------------

  /** Creates a topic with `numPartitions` empty partitions. */
  createTopic(topic: string, numPartitions: number, configEntries?: ConfigEntry[], internal = false): Promise<TopicRow> {
    return this.exclusive(() => this.createTopicNow(topic, numPartitions, configEntries, internal));
  }

  private async createTopicNow(topic: string, numPartitions: number, configEntries: ConfigEntry[] | undefined, internal: boolean): Promise<TopicRow> {
    validateTopicName(topic);
    await this.useTopics([topic]);
    checkNumPartitions(topic, numPartitions);
    const config = parseTopicConfig(configEntries);
    if (this.topics.has(topic)) throw new TopicExistsError(`topic ${JSON.stringify(topic)} already exists`, { details: { topic } });
    const now = this.now();
    const row: TopicRow = { topic, numPartitions, config, createdAt: Math.max(now, (this.deletedGenerations.get(topic) ?? -Infinity) + 1), internal };
    const states = this.writePartitions(row, 0, numPartitions, now);
    const tx = transaction(this.db, [S.topics, S.partitions, S.segments], 'readwrite', `createTopics ${topic}`);
    const writes: Promise<unknown>[] = [tx.objectStore(S.topics).put(row)];
    for (const p of states) {
      writes.push(tx.objectStore(S.partitions).put({ topic, partition: p.partition, logStartOffset: 0 }));
      writes.push(tx.objectStore(S.segments).put(p.active));
    }
    await done(tx, `createTopics ${topic}`, writes);
    this.topicWrites++;
    this.topicsChecked.delete(topic);
    this.topics.set(topic, row);
    for (const p of states) this.setPartition(p);
    return row;
  }

  private writePartitions(row: TopicRow, from: number, to: number, now: number): PartitionState[] {
    const out: PartitionState[] = [];
    for (let i = from; i < to; i++) out.push({ topic: row.topic, partition: i, logStartOffset: 0, sealed: [], active: newSegment(row.topic, i, 0, now) });
    return out;
  }

  /** Grows a topic to `count` partitions (Kafka's createPartitions: count is the new total). */
  createPartitions(topic: string, count: number): Promise<void> {
    return this.exclusive(() => this.createPartitionsNow(topic, count));
  }

  private async createPartitionsNow(topic: string, count: number): Promise<void> {
    await this.useTopics([topic]);
    const t = this.topic(topic);
    checkPartitionCount(topic, t.numPartitions, count);
    const now = this.now();
    const row: TopicRow = { ...t, numPartitions: count };
    const states = this.writePartitions(row, t.numPartitions, count, now);
    const tx = transaction(this.db, [S.topics, S.partitions, S.segments], 'readwrite', `createPartitions ${topic}`);
    const writes: Promise<unknown>[] = [tx.objectStore(S.topics).put(row)];
    for (const p of states) {
      writes.push(tx.objectStore(S.partitions).put({ topic, partition: p.partition, logStartOffset: 0 }));
      writes.push(tx.objectStore(S.segments).put(p.active));
    }
    await done(tx, `createPartitions ${topic}`, writes);
    this.topicWrites++;
    this.topics.set(topic, row);
    for (const p of states) this.setPartition(p);
  }

  /** Changes configs of a topic (entries are applied over the current ones). */
  alterConfig(topic: string, entries: ConfigEntry[]): Promise<TopicConfig> {
    return this.exclusive(() => this.alterConfigNow(topic, entries));
  }

  private async alterConfigNow(topic: string, entries: ConfigEntry[]): Promise<TopicConfig> {
    await this.useTopics([topic]);
    const t = this.topic(topic);
    const config = parseTopicConfig(entries, t.config);
    const row: TopicRow = { ...t, config };
    const tx = transaction(this.db, [S.topics], 'readwrite', `alterConfigs ${topic}`);
    await done(tx, `alterConfigs ${topic}`, [tx.objectStore(S.topics).put(row)]);
    this.topicWrites++;
    this.topics.set(topic, row);
    return config;
  }

  /** Deletes a topic with all its records, segments and producer states. */
  deleteTopic(topic: string): Promise<void> {
    return this.exclusive(() => this.deleteTopicNow(topic));
  }

  private async deleteTopicNow(topic: string): Promise<void> {
    await this.useTopics([topic]);
    const t = this.topic(topic);
    const tx = transaction(this.db, [S.topics, S.partitions, S.segments, S.batches, S.producers], 'readwrite', `deleteTopics ${topic}`);
    const writes: Promise<unknown>[] = [tx.objectStore(S.topics).delete(topic)];
    for (let p = 0; p < t.numPartitions; p++) {
      writes.push(tx.objectStore(S.partitions).delete([topic, p]));
      writes.push(tx.objectStore(S.segments).delete(this.partitionRange(topic, p, -Infinity)));
      writes.push(tx.objectStore(S.batches).delete(this.partitionRange(topic, p, -Infinity)));
    }
    // Producer states are keyed by producer id first, and a lazy store holds only those it
    // used: the stored keys (keys only, no values) say which rows belong to this topic.
    for (const r of writes) r.catch(() => undefined);
    const prodKeys = (await tx.objectStore(S.producers).getAllKeys()).filter((k) => k[1] === topic);
    for (const k of prodKeys) writes.push(tx.objectStore(S.producers).delete(k));
    await done(tx, `deleteTopics ${topic}`, writes);
    this.topicWrites++;
    this.deletedGenerations.set(topic, t.createdAt);
    this.topics.delete(topic);
    if (!this.topicsComplete) this.topicsChecked.add(topic);
    for (let p = 0; p < t.numPartitions; p++) { this.partitions.delete(tpKey(topic, p)); this.tail.drop(tpKey(topic, p)); }
    for (const [k, pr] of this.producers) if (pr.topic === topic) this.producers.delete(k);
    for (let p = 0; p < t.numPartitions; p++) {
      const suffix = `:${tpKey(topic, p)}`;
      for (const k of this.producersChecked) if (k.endsWith(suffix)) this.producersChecked.delete(k);
    }
  }

  // ---- producers ----------------------------------------------------------------------------

  /** The id the next initProducerId hands out. */
  get nextProducerIdToAllocate(): number {
    return this.nextProducerId;
  }

  /**
   * Never hand out an id below `id`: a log reopened after its database was deleted starts its
   * counter over, while producers of the lost log still send with their ids.
   */
  reserveProducerIdsBelow(id: number): void {
    if (id > this.nextProducerId) this.nextProducerId = id;
  }

  /** Allocates a new producer id (epoch 0), persisted so ids are never reused. */
  async initProducerId(): Promise<{ producerId: number; producerEpoch: number }> {
    // Taken before the await: two producers connecting at once must never share an id (the
    // log would answer the second one's batches as duplicates of the first's). An id whose
    // write fails is never handed out.
    const id = this.nextProducerId++;
    const tx = transaction(this.db, [S.meta], 'readwrite', 'initProducerId');
    await done(tx, 'initProducerId', [tx.objectStore(S.meta).put(id + 1, 'nextProducerId')]);
    return { producerId: id, producerEpoch: 0 };
  }

  /**
   * The producer id and a new epoch for a transactionalId: the first call allocates an id
   * (epoch 0); each later one bumps the epoch, which fences every producer holding an older one.
   * Persisted in `meta` under `['txn', transactionalId]`, so fencing survives a reload.
   */
  async initTransactionalProducer(transactionalId: string): Promise<{ producerId: number; producerEpoch: number }> {
    // Taken before the await, as initProducerId does, so the persisted counter only grows.
    const fresh = this.nextProducerId++;
    const tx = transaction(this.db, [S.meta], 'readwrite', 'initProducerId');
    const meta = tx.objectStore(S.meta);
    const prev = (await meta.get(['txn', transactionalId])) as { producerId: number; producerEpoch: number } | undefined;
    const next = prev ? { producerId: prev.producerId, producerEpoch: prev.producerEpoch + 1 } : { producerId: fresh, producerEpoch: 0 };
    await done(tx, 'initProducerId', [meta.put(fresh + 1, 'nextProducerId'), meta.put(next, ['txn', transactionalId])]);
    this.txnEpochs.set(transactionalId, next);
    return next;
  }

  /** The current producer id and epoch of a transactionalId, if any producer ever used it. */
  async transactionalProducer(transactionalId: string): Promise<{ producerId: number; producerEpoch: number } | undefined> {
    const known = this.txnEpochs.get(transactionalId);
    if (known) return known;
    const row = (await transaction(this.db, [S.meta], 'readonly', 'transactionalProducer').objectStore(S.meta).get(['txn', transactionalId])) as { producerId: number; producerEpoch: number } | undefined;
    if (row && !this.txnEpochs.has(transactionalId)) this.txnEpochs.set(transactionalId, row);
    return this.txnEpochs.get(transactionalId) ?? row;
  }

  // ---- reads --------------------------------------------------------------------------------

  /** Keeps a batch the appender has just committed in the partition's tail window. */
  rememberCommitted(batch: RecordBatch): void {
    const t = this.topics.get(batch.topic);
    if (t) this.tail.add(tpKey(batch.topic, batch.partition), t.createdAt, batch);
  }

  /**
   * The committed batches from the one holding `offset` to the log end, from memory, when the
   * tail window holds all of them inside the active segment; undefined otherwise (read
   * IndexedDB). The batches are shared: copy before handing out or changing them.
   */
  tailRead(topic: string, partition: number, offset: number): RecordBatch[] | undefined {
    const t = this.topics.get(topic);
    const p = this.partitions.get(tpKey(topic, partition));
    if (!t || !p) return undefined;
    return this.tail.read(tpKey(topic, partition), offset, { generation: t.createdAt, activeBase: p.active.baseOffset, low: p.logStartOffset, high: p.active.nextOffset });
  }

  /** Reads the batch rows of a partition whose base offsets lie in [from, to). */
  async readBatches(topic: string, partition: number, from: number, to: number, count?: number): Promise<RecordBatch[]> {
    return transaction(this.db, [S.batches], 'readonly', `read ${topic}-${partition}`).objectStore(S.batches).getAll(this.partitionRange(topic, partition, from, to, true), count);
  }
}

/**
 * Kafka's topic name rule: 1-249 chars of [a-zA-Z0-9._-], not "." or "..". The names of
 * Object.prototype's members (`constructor`, `__proto__`, `toString`...) are legal topics: code
 * keyed by topic uses Maps, or builds objects with own properties (Object.fromEntries).
 */
export function validateTopicName(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > 249 || !/^[a-zA-Z0-9._-]+$/.test(topic) || topic === '.' || topic === '..') {
    throw new InvalidArgumentError(`topic name ${JSON.stringify(topic)} is invalid: use 1-249 characters of a-z, A-Z, 0-9, '.', '_' and '-', not "." or ".."`, { details: { topic } });
  }
}
