/**
 * The broker: implements BrokerApi over one LogStore. The same class runs in every host
 * (in-page, SharedWorker, leader tab); hosts only differ in how clients reach it.
 *
 * Invariants:
 * - One broker per database is the only writer of its log (hosts guarantee it with a Web Lock).
 * - Appends go through the group-committing Appender; everything else that writes (topic admin,
 *   deleteRecords, the cleaner) runs one at a time on the maintenance queue, so the cleaner
 *   never races a delete.
 * - A fetch with nothing to return waits for an append to one of its partitions (or maxWaitMs);
 *   consumers never poll.
 * - A produce whose append woke a waiting fetch is answered in the task after the wake-up, so
 *   the fetch's answer (records from the tail window, no IndexedDB read) leaves first: on the
 *   broker's thread each answer's postMessage costs 0.1-0.3 ms, and the consumer's latency
 *   should not include the producer's acknowledgement.
 * - The database may be deleted, upgraded or cleared under the broker (another connection, the
 *   user clearing site data). The log closes its connection at once, so that never waits for
 *   lanes; the broker then drops everything it held in memory for that log (partitions,
 *   watermarks, groups, committed offsets), ends waiting fetches, and the next call reopens
 *   the database: a fresh log after a deletion, or IncompatibleVersionError (nothing written)
 *   when a newer lanes upgraded it. Calls caught in the middle fail with a retriable StorageError.
 */
import { InvalidArgumentError, LanesError, QuotaExceededError, StorageError, TopicNotFoundError } from '../errors.js';
import { errorToData } from '../protocol/error-data.js';
import { nextTask } from '../protocol/next-task.js';
import { dropReplicated } from '../log/sync-meta.js';
import { Appender } from '../log/appender.js';
import { deleteRecords, runCleaner } from '../log/cleaner.js';
import { LogStore, validateTopicName } from '../log/log-store.js';
import { offsetForTimestamp, readPartition } from '../log/reader.js';
import {
  BROKER_METHODS, PROTOCOL_VERSION, type BrokerApi, type CleanerStats, type ConfigDescription, type FetchPartitionResult, type FetchRequest, type MetadataRequest,
  type PartitionWatermarks, type ProduceRequest, type ProduceResult, type SegmentInfo, type TopicInfo,
} from '../protocol/broker-api.js';
import { describeTopicConfig, parseTopicConfig, type TopicConfig } from '../protocol/topic-config.js';
import type { CommittedOffsetInfo, ConsumerHeartbeatRequest, GroupDescription, GroupHeartbeatResponse, GroupMemberRef, JoinGroupRequest, JoinGroupResult, OffsetCommitRequest, EndTxnRequest } from '../protocol/broker-api.js';
import { OFFSETS_TOPIC } from '../protocol/internal-topics.js';
import { GroupService } from '../group/group-service.js';
import { assertNotInternal } from '../protocol/internal-topics.js';
import { RecentDeletions } from './recent-deletions.js';
import { resolveSubscription } from './subscription.js';
import { validateJoin } from '../group/group-state.js';
import { checkTransactionalId, TxnCoordinator } from './transactions.js';
import type { AppendRequest } from '../log/appender.js';
import { WatchHub } from './watch.js';
import type { WatchRequest, WatchState } from '../protocol/broker-api.js';
import { BrokerSync } from '../sync/broker-sync.js';
import { dropReplicatedSegments } from '../log/cleaner.js';
import type { SyncConfigureRequest, SyncStatus } from '../protocol/broker-api.js';
import type { ConfigEntry, ITopicConfig } from '../types.js';
import { checkNumPartitions, checkPartitionCount, deleteRecordsTarget, tpKey } from '../protocol/topic-partition.js';

/** Options of a broker. */
export interface BrokerOptions {
  host: 'in-page' | 'shared-worker' | 'leader-tab';
  database: string;
  /** How often the log cleaner runs (retention, compaction); 0 disables the timer. Default 30 s. */
  logCleanerIntervalMs?: number;
  /** Told when reopening a lost database fails (e.g. IncompatibleVersionError: a newer lanes upgraded it). */
  onReopenFailed?: (e: unknown) => void;
}

/** Opens the log; `onLost` is to be called when its database connection is gone. */
export type StoreOpener = (onLost: () => void) => Promise<LogStore>;

/** The broker of one database. */
export class Broker implements BrokerApi {
  /** The log; replaced when the database is reopened after a loss. */
  store: LogStore;
  appender: Appender;
  private maintenance: Promise<unknown> = Promise.resolve();
  private cleanerTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Recently deleted topics: a consumer does not auto-create them within its metadata window. */
  private readonly recentDeletions = new RecentDeletions();
  /** Fetches waiting at the log end; close() ends their waits (and their timers) at once. */
  private waiting = new Set<() => void>();
  /** Waiting fetches woken by appends so far: a produce that woke one lets its answer go first. */
  private fetchWakeups = 0;

  /** Consumer groups and committed offsets; set by open(). */
  groups!: GroupService;
  /** Waiting watches: woken by appends, group events and every maintenance task. */
  private readonly watches = new WatchHub(this);
  /** Transactions: transactional produces, commit/abort, fencing, timeouts. */
  readonly txns: TxnCoordinator = ((b: Broker) => new TxnCoordinator({
    get store() { return b.store; },
    get groups() { return b.groups; },
    append: (req) => b.appendWithQuota(req),
    poke: () => b.watches.poke(),
  }))(this);
  /** Sync to the replica (configuration, uploader, mirrors); replaced when the database is reopened. */
  sync: BrokerSync;

  /** Set when the database connection was lost; the next call reopens. */
  private lost = false;
  private reopening: Promise<void> | undefined;
  private reopenStore: (() => Promise<LogStore>) | undefined;

  private constructor(store: LogStore, private readonly options: BrokerOptions) {
    this.store = store;
    this.appender = new Appender(store);
    // Every BrokerApi call first reopens a lost database, then reads the rows of the topics it
    // names that the lazily opened log has not read yet (no cost once they are known).
    const self = this as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    for (const m of BROKER_METHODS) {
      const call = self[m]!;
      const run = (args: unknown[]) => {
        const names = topicsOf(m, args);
        if (names === NO_TOPICS) return call.apply(this, args);
        if (names === ALL_TOPICS) return this.store.useAllTopics().then(() => call.apply(this, args));
        return this.store.knowsTopics(names) ? call.apply(this, args) : this.store.useTopics(names).then(() => call.apply(this, args));
      };
      self[m] = (...args: unknown[]) => (this.lost ? this.ready().then(() => run(args)) : run(args));
    }
    this.sync = this.newSync(store, this.appender);
  }

  private newSync(store: LogStore, appender: Appender): BrokerSync {
    return new BrokerSync(store, appender, this.options.database, (topic, partitions) => this.ensureTopic(topic, partitions));
  }

  /** Creates `topic` with `partitions` partitions, or grows it to that many (mirrors). */
  private ensureTopic(topic: string, partitions: number): Promise<void> {
    return this.serial(async () => {
      const t = this.store.topics.get(topic);
      if (!t) await this.store.createTopic(topic, partitions);
      else if (t.numPartitions < partitions) await this.store.createPartitions(topic, partitions);
      else return;
      this.groups.topicChanged(topic);
    });
  }

  /** Opens the broker of a log: loads committed offsets and starts the cleaner's timer. */
  static async open(store: LogStore, options: BrokerOptions): Promise<Broker> {
    const b = new Broker(store, options);
    await b.attach(store);
    return b;
  }

  /**
   * Opens the broker of the log `openStore` opens, and reopens it whenever its database is
   * deleted, upgraded or cleared under it (see the invariants above).
   */
  static async openLog(openStore: StoreOpener, options: BrokerOptions): Promise<Broker> {
    let broker: Broker | undefined;
    const onLost = () => broker?.lose();
    const store = await openStore(onLost);
    try {
      broker = await Broker.open(store, options);
    } catch (e) {
      store.close();
      throw e;
    }
    broker.reopenStore = () => openStore(onLost);
    return broker;
  }

  /** Loads groups and committed offsets of `store` and wires its wake-ups. */
  private async attach(store: LogStore): Promise<void> {
    this.groups = await GroupService.open(store, this.appender, this.options.database);
    const skipped = this.groups.offsets.skipped;
    if (skipped.length > 0) {
      // Reported, never fatal: the broker starts with every committed offset it could read.
      console.warn(`lanes broker ${JSON.stringify(this.options.database)}: skipped ${skipped.length} unreadable record(s) of __consumer_offsets`, skipped.slice(0, 20));
    }
    store.onAppend(() => this.watches.poke());
    this.groups.onEvent(() => this.watches.poke());
    await this.sync.resume();
    this.scheduleCleaner();
    // Transactions left open by a previous broker time out from when they opened.
    this.txns.schedule();
  }

  /** The database connection is gone: drop the log's in-memory state and end waits. */
  private lose(): void {
    if (this.closed || this.lost) return;
    this.lost = true;
    clearTimeout(this.cleanerTimer);
    for (const end of this.waiting) end();
    this.waiting.clear();
    this.groups.close();
    this.sync.close();
    this.store.close();
    this.watches.poke();
  }

  /** Reopens a lost database (once for all calls waiting on it). */
  private ready(): Promise<void> {
    if (!this.lost) return Promise.resolve();
    if (this.closed) return Promise.reject(new StorageError('the broker is closed', { retriable: true }));
    if (!this.reopenStore) return Promise.reject(new StorageError(`the database of ${JSON.stringify(this.options.database)} was deleted or upgraded under the broker`, { retriable: false }));
    this.reopening ??= (async () => {
      try {
        const store = await this.reopenStore!();
        // Watches in flight read every partition's watermarks on the next wake-up.
        await store.useAll();
        // Producers of the lost log keep sending with their ids: a fresh log must not hand
        // those ids out again, or a new producer's first batch would read as their retry.
        store.reserveProducerIdsBelow(this.store.nextProducerIdToAllocate);
        const appender = new Appender(store);
        this.store = store;
        this.appender = appender;
        this.sync = this.newSync(store, appender);
        this.maintenance = Promise.resolve();
        await this.attach(store);
        this.lost = false;
        this.watches.poke();
      } catch (e) {
        this.options.onReopenFailed?.(e);
        throw e;
      } finally {
        this.reopening = undefined;
      }
    })();
    return this.reopening;
  }

  private scheduleCleaner(): void {
    const every = this.options.logCleanerIntervalMs ?? 30_000;
    if (every <= 0 || this.closed) return;
    this.cleanerTimer = setTimeout(() => {
      // A failed run is told to the tabs (admin LOG_CLEANER_ERROR), not dropped; the next run retries.
      void this.runLogCleaner().catch((e: unknown) => this.groups.notify({ type: 'cleaner-error', error: errorToData(e) })).finally(() => this.scheduleCleaner());
    }, every);
    (this.cleanerTimer as { unref?: () => void }).unref?.();
  }

  /** Runs `fn` after every earlier maintenance task. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.maintenance.then(fn, fn);
    this.maintenance = run.catch(() => undefined);
    // Topic admin, record deletion and the cleaner change what watches see.
    void this.maintenance.then(() => this.watches.poke());
    return run;
  }

  /** Stops the cleaner and closes the database. */
  close(): void {
    this.closed = true;
    this.txns.close();
    clearTimeout(this.cleanerTimer);
    for (const end of this.waiting) end();
    this.waiting.clear();
    this.watches.close();
    if (!this.lost) this.groups.close();
    this.sync.close();
    this.store.close();
  }

  async hello() {
    return { version: PROTOCOL_VERSION, host: this.options.host, database: this.options.database };
  }

  private info(topic: string): TopicInfo {
    const t = this.store.topic(topic);
    return { topic: t.topic, numPartitions: t.numPartitions, config: t.config, internal: t.internal };
  }

  async metadata(req: MetadataRequest): Promise<TopicInfo[]> {
    if (!req.topics) return [...this.store.topics.values()].filter((t) => !t.internal).map((t) => this.info(t.topic));
    const out: TopicInfo[] = [];
    for (const topic of req.topics) {
      if (!this.store.topics.has(topic)) {
        const window = req.notDeletedWithinMs;
        const since = window === undefined ? undefined : this.recentDeletions.deletedWithin(topic, window, this.store.now());
        if (!req.allowAutoTopicCreation || since !== undefined) {
          if (req.allowMissing) continue;
          throw new TopicNotFoundError(since === undefined
            ? `topic ${JSON.stringify(topic)} does not exist and auto-creation is off`
            : `topic ${JSON.stringify(topic)} was deleted ${since} ms ago; it is not auto-created within ${window} ms (metadataMaxAge)`, { details: { topic } });
        }
        validateTopicName(topic);
        assertNotInternal(topic, 'auto-creation');
        await this.serial(async () => {
          if (!this.store.topics.has(topic)) {
            await this.store.createTopic(topic, req.numPartitions ?? 1);
            this.recentDeletions.created(topic);
            this.groups.topicChanged(topic);
          }
        });
      }
      out.push(this.info(topic));
    }
    return out;
  }

  async createTopics(topics: ITopicConfig[], validateOnly: boolean): Promise<boolean> {
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidArgumentError('createTopics needs a non-empty topics array');
    // All-or-nothing: every topic is checked (name, partitions, configs) before any is created.
    for (const t of topics) {
      validateTopicName(t?.topic);
      assertNotInternal(t.topic, 'createTopics');
      checkNumPartitions(t.topic, t.numPartitions ?? 1);
      parseTopicConfig(t.configEntries);
    }
    if (new Set(topics.map((t) => t.topic)).size !== topics.length) throw new InvalidArgumentError('createTopics names a topic twice');
    return this.serial(async () => {
      let createdAll = true;
      for (const t of topics) {
        if (this.store.topics.has(t.topic)) { createdAll = false; continue; }
        if (validateOnly) continue;
        await this.store.createTopic(t.topic, t.numPartitions ?? 1, t.configEntries);
        this.recentDeletions.created(t.topic);
        this.groups.topicChanged(t.topic);
      }
      return createdAll;
    });
  }

  async deleteTopics(topics: string[]): Promise<void> {
    if (new Set(topics).size !== topics.length) throw new InvalidArgumentError('deleteTopics names a topic twice', { details: { field: 'topics' } });
    await this.serial(async () => {
      for (const t of topics) {
        assertNotInternal(t, 'deleteTopics', this.store.topic(t).internal);
      }
      for (const t of topics) {
        await this.store.deleteTopic(t);
        this.recentDeletions.deleted(t, this.store.now());
        await dropReplicated(this.store, t);
        await this.groups.offsets.deleteTopic(t);
        this.groups.topicChanged(t);
      }
    });
  }

  async createPartitions(topicPartitions: { topic: string; count: number }[], validateOnly = false): Promise<void> {
    if (!Array.isArray(topicPartitions)) throw new InvalidArgumentError('createPartitions needs topicPartitions: [{ topic, count }]');
    if (new Set(topicPartitions.map((tp) => tp?.topic)).size !== topicPartitions.length) throw new InvalidArgumentError('createPartitions names a topic twice', { details: { field: 'topicPartitions' } });
    await this.serial(async () => {
      // All-or-nothing: every count is checked before any topic grows.
      for (const tp of topicPartitions) checkPartitionCount(tp.topic, this.store.topic(tp.topic).numPartitions, tp.count);
      if (validateOnly) return;
      for (const tp of topicPartitions) {
        await this.store.createPartitions(tp.topic, tp.count);
        this.groups.topicChanged(tp.topic);
      }
    });
  }

  async alterConfigs(topic: string, entries: ConfigEntry[], validateOnly = false): Promise<TopicConfig> {
    if (validateOnly) return parseTopicConfig(entries, this.store.topic(topic).config);
    return this.serial(() => this.store.alterConfig(topic, entries));
  }

  async describeConfigs(topic: string): Promise<ConfigDescription[]> {
    return describeTopicConfig(this.store.topic(topic).config);
  }

  async initProducerId(req?: { transactionalId?: string }) {
    if (req?.transactionalId === undefined) return this.store.initProducerId();
    return this.txns.initProducer(checkTransactionalId(req.transactionalId));
  }

  /** Ends a transaction (see broker/transactions.ts): markers and offsets in one IndexedDB transaction. */
  async endTransaction(req: EndTxnRequest): Promise<void> {
    return this.txns.endTransaction(req);
  }

  async produce(req: ProduceRequest): Promise<ProduceResult[]> {
    // Only the broker writes internal topics (its OffsetStore appends through the appender
    // directly); a user write there would be read back as committed offsets.
    if (req && Array.isArray(req.batches)) {
      for (const b of req.batches) {
        assertNotInternal(b?.topic, 'produce', this.store.topics.get(b?.topic)?.internal);
        // Markers and the transactional flag are the broker's to write.
        if (b && ('control' in b || 'transactional' in b)) throw new InvalidArgumentError(`produce: a batch for ${b.topic}-${b.partition} may not carry control or transactional`, { details: { topic: b.topic, partition: b.partition } });
      }
    }
    if (req && ('meta' in req || 'committed' in req)) throw new InvalidArgumentError('produce: unknown request fields meta/committed');
    if (req?.transactionalId !== undefined) return this.txns.produce(req as ProduceRequest & { transactionalId: string });
    return this.appendWithQuota(req);
  }

  /** Appends a request; under quota pressure with sync on, drops replicated segments and tries once more. */
  private async appendWithQuota(req: AppendRequest): Promise<ProduceResult[]> {
    try {
      const woken = this.fetchWakeups;
      const results = await this.appender.append(req);
      if (this.fetchWakeups !== woken) await nextTask();
      return results;
    } catch (e) {
      if (!(e instanceof QuotaExceededError) || !this.store.syncEnabled) throw e;
      // Under quota pressure replicated segments go first; then one more try.
      const freed = await this.serial(() => dropReplicatedSegments(this.store));
      if (freed > 0) {
        try { return await this.appender.append(req); } catch (again) { if (!(again instanceof QuotaExceededError)) throw again; }
      }
      const s = this.sync.status();
      throw new QuotaExceededError(
        `storage quota exceeded; nothing of this send was written. ${s.pendingRecords} records (${s.pendingBytes} bytes) are waiting to reach the sync replica and are kept until it acknowledges them`,
        { cause: e, details: { pendingRecords: s.pendingRecords, pendingBytes: s.pendingBytes, freedSegments: freed } },
      );
    }
  }

  async fetch(req: FetchRequest): Promise<FetchPartitionResult[]> {
    if (!req || !Array.isArray(req.partitions)) throw new InvalidArgumentError('fetch needs partitions');
    const wanted = new Set(req.partitions.map((p) => tpKey(p.topic, p.partition)));
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((r) => { wake = r; });
    const unsubscribe = this.store.onAppend((t, p) => {
      if (!wanted.has(tpKey(t, p))) return;
      this.fetchWakeups++;
      wake();
    });
    try {
      const first = await this.readAll(req);
      // A fetch that resolved -1 / -2 or reset an offset answers at once: the consumer holds on to
      // where it starts (a read after the wait would resolve it again, past what woke it).
      if (req.maxWaitMs <= 0 || first.some((r, i) => r.batches.length > 0 || r.error || r.offset !== req.partitions[i]!.offset)) return first;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let done!: () => void;
      await Promise.race([woken, new Promise<void>((r) => {
        done = r;
        timer = setTimeout(r, req.maxWaitMs);
        this.waiting.add(r);
      })]);
      this.waiting.delete(done);
      clearTimeout(timer);
      if (this.closed) return first;
      return await this.readAll(req);
    } finally {
      unsubscribe();
    }
  }

  private async readAll(req: FetchRequest): Promise<FetchPartitionResult[]> {
    const results = await Promise.all(req.partitions.map(async (fp): Promise<FetchPartitionResult> => {
      let offset = fp.offset;
      const read1 = (at: number) => readPartition(this.store, fp.topic, fp.partition, at, req.maxBytesPerPartition, req.maxRecordsPerPartition ?? Infinity);
      try {
        const read = await read1(offset).catch((e: unknown) => {
          // -1 / -2 (latest / earliest), and Kafka's auto.offset.reset of an offset out of range.
          if (!(e instanceof LanesError && e.code === 'OFFSET_OUT_OF_RANGE' && (offset < 0 || fp.reset))) throw e;
          const { low, high } = e.details as { low: number; high: number };
          offset = offset === -2 || (offset >= 0 && (offset < low || fp.reset === 'earliest')) ? low : high;
          return read1(offset);
        });
        // Transactions: read-committed readers stop at the last stable offset and get aborted
        // batches emptied; nobody gets a marker's record. Applied to whatever the read returned
        // (IndexedDB or a cache at the log end), so every fetch path filters the same way.
        const v = this.store.txns.visible(fp.topic, fp.partition, read.batches, read.high, req.readUncommitted === true);
        const r = { ...read, batches: v.batches, lastStable: v.lastStable };
        if (req.isolation === 'replicated') {
          // Only what the replica holds; acknowledged ranges end on batch boundaries.
          const cap = this.store.replicatedOf(fp.topic, fp.partition);
          return { topic: fp.topic, partition: fp.partition, offset, high: Math.min(r.high, cap), low: r.low, lastStable: Math.min(r.lastStable, cap), batches: r.batches.filter((b) => b.baseOffset < cap) };
        }
        return { topic: fp.topic, partition: fp.partition, offset, high: r.high, low: r.low, lastStable: r.lastStable, batches: r.batches };
      } catch (e) {
        let low = -1, high = -1;
        try { ({ low, high } = this.store.watermarks(fp.topic, fp.partition)); } catch { /* unknown partition */ }
        return { topic: fp.topic, partition: fp.partition, offset: fp.offset, high, low, batches: [], error: errorToData(e) };
      }
    }));
    // Cap the total: keep whole batches while under maxBytes, at least the first one found.
    let total = 0;
    for (const r of results) {
      const kept = [];
      for (const b of r.batches) {
        if (total > 0 && total + b.sizeBytes > req.maxBytes) break;
        kept.push(b);
        total += b.sizeBytes;
      }
      r.batches = kept;
    }
    return results;
  }

  async listOffsets(topic: string): Promise<PartitionWatermarks[]> {
    const t = this.store.topic(topic);
    await this.store.useTopic(topic);
    const out: PartitionWatermarks[] = [];
    for (let p = 0; p < t.numPartitions; p++) {
      const w = this.store.watermarks(topic, p);
      out.push({ partition: p, ...w, replicated: this.store.replicatedOf(topic, p), lastStable: this.store.txns.lastStable(topic, p, w.high) });
    }
    return out;
  }

  async offsetsForTimestamp(topic: string, timestamp: number) {
    const t = this.store.topic(topic);
    if (!Number.isFinite(timestamp)) throw new InvalidArgumentError(`timestamp must be a number of milliseconds; got ${String(timestamp)}`);
    const out: { partition: number; offset: number }[] = [];
    for (let p = 0; p < t.numPartitions; p++) out.push({ partition: p, offset: await offsetForTimestamp(this.store, topic, p, timestamp) });
    return out;
  }

  async deleteRecords(topic: string, partitions: { partition: number; offset: number }[]) {
    assertNotInternal(topic, 'deleteRecords', this.store.topics.get(topic)?.internal);
    await this.store.useTopic(topic);
    return this.serial(async () => {
      // All-or-nothing: every offset is checked against its watermarks before any moves.
      for (const p of partitions) {
        const { low, high } = this.store.watermarks(topic, p.partition);
        deleteRecordsTarget(topic, p.partition, p.offset, low, high);
      }
      const out: { partition: number; lowWatermark: number }[] = [];
      for (const p of partitions) out.push({ partition: p.partition, lowWatermark: await deleteRecords(this.store, topic, p.partition, p.offset) });
      return out;
    });
  }

  async segments(topic: string, partition: number): Promise<SegmentInfo[]> {
    await this.store.useSegments(topic, partition);
    const p = this.store.partition(topic, partition);
    return [...p.sealed, p.active].map((s) => ({
      topic, partition, baseOffset: s.baseOffset, nextOffset: s.nextOffset, sizeBytes: s.sizeBytes,
      recordCount: s.recordCount, sealed: s.sealedAt !== -1, version: s.version,
    }));
  }

  async runLogCleaner(topics?: string[]): Promise<CleanerStats> {
    return this.serial(() => runCleaner(this.store, topics));
  }

  async joinGroup(req: JoinGroupRequest): Promise<JoinGroupResult> {
    return this.groups.join(req);
  }

  async heartbeat(ref: GroupMemberRef): Promise<void> {
    return this.groups.heartbeat(ref);
  }

  /** A consumer's heartbeat: its subscription is resolved here (subscription.ts), then its member runs it. */
  async groupHeartbeat(req: ConsumerHeartbeatRequest): Promise<GroupHeartbeatResponse> {
    validateJoin({ ...req, topics: [] }); // before a first heartbeat may auto-create topics
    const topics = await resolveSubscription(req, (r) => this.metadata(r), () => this.store.topics.values());
    const { subscription: _s, allowAutoTopicCreation: _a, numPartitions: _n, metadataMaxAge: _m, first: _f, ...rest } = req;
    return this.groups.groupHeartbeat({ ...rest, topics });
  }

  async leaveGroup(ref: { groupId: string; memberId: string }): Promise<void> {
    return this.groups.leave(ref);
  }

  async commitOffsets(req: OffsetCommitRequest): Promise<void> {
    await this.groups.commit(req);
    // The committed offsets change in memory after their append has been announced.
    this.watches.poke();
  }

  async fetchOffsets(groupId: string, topics?: string[]): Promise<CommittedOffsetInfo[]> {
    return this.groups.fetchOffsets(groupId, topics);
  }

  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    return groupIds.map((g) => this.groups.describe(g));
  }

  async listGroups() {
    return this.groups.list();
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    return this.serial(() => this.groups.deleteGroups(groupIds));
  }

  async watch(req: WatchRequest): Promise<WatchState> {
    await this.store.useAll();
    return this.watches.watch(req);
  }

  async syncConfigure(req: SyncConfigureRequest): Promise<SyncStatus> {
    return this.sync.configure(req);
  }

  async syncSetToken(token: string | null): Promise<void> {
    return this.sync.setToken(token);
  }

  async syncStatus(): Promise<SyncStatus> {
    return this.sync.status();
  }

  async syncRetry(): Promise<void> {
    this.sync.retry();
  }

  async syncNetwork(online: boolean): Promise<void> {
    this.sync.network(online === true);
  }

  async syncMirror(req: { topic: string; into: string }): Promise<void> {
    return this.sync.mirror(req);
  }

  async syncStopMirror(into: string): Promise<void> {
    return this.sync.stopMirror(into);
  }
}

const NO_TOPICS: readonly string[] = [];
const ALL_TOPICS: readonly string[] = [];
const topicNames = (list: unknown, field?: string): unknown[] => (Array.isArray(list) ? list.map((x) => (field ? (x as Record<string, unknown> | null)?.[field] : x)) : []);

/**
 * The topics whose rows a broker call reads (the log opens lazily and reads a topic's row when
 * a call first names it): NO_TOPICS for calls that read none, ALL_TOPICS for calls that list or
 * walk every topic, and for any call not named here.
 */
function topicsOf(method: (typeof BROKER_METHODS)[number], args: unknown[]): readonly unknown[] {
  const a = args[0] as Record<string, unknown> | undefined;
  switch (method) {
    case 'hello': case 'initProducerId': case 'heartbeat': case 'leaveGroup':
    case 'syncSetToken': case 'syncStatus': case 'syncNetwork': case 'syncRetry':
      return NO_TOPICS;
    case 'produce': return topicNames(a?.batches, 'topic');
    case 'endTransaction': return [...topicNames((a?.offsets as Record<string, unknown> | undefined)?.offsets, 'topic'), OFFSETS_TOPIC];
    case 'fetch': return topicNames(a?.partitions, 'topic');
    case 'metadata': return Array.isArray(a?.topics) ? a.topics : ALL_TOPICS;
    case 'listOffsets': case 'offsetsForTimestamp': case 'deleteRecords': case 'segments': case 'alterConfigs': case 'describeConfigs':
      return [args[0]];
    case 'createTopics': return topicNames(args[0], 'topic');
    case 'deleteTopics': return topicNames(args[0]);
    case 'createPartitions': return topicNames(args[0], 'topic');
    case 'commitOffsets': return [...topicNames(a?.offsets, 'topic'), OFFSETS_TOPIC];
    case 'fetchOffsets': return Array.isArray(args[1]) ? args[1] : NO_TOPICS;
    case 'joinGroup': return Array.isArray(a?.topics) ? a.topics : ALL_TOPICS;
    case 'groupHeartbeat': return Array.isArray(a?.subscription) && a.subscription.every((t) => typeof t === 'string') ? a.subscription : ALL_TOPICS;
    default: return ALL_TOPICS;
  }
}
