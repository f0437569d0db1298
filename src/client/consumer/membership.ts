/**
 * A consumer's group membership, tab side [tab]. The membership itself (joins, rounds,
 * assignment, fencing) runs in the broker (src/group/member-agent.ts); this side sends
 * heartbeats carrying the subscription and the partitions it owns (`groupHeartbeat`), and
 * reconciles to the target assignment each answer carries: partitions that left the target are
 * stopped between records, their handlers awaited and their offsets committed, then a heartbeat
 * without them acknowledges; partitions that joined the target start from their committed
 * offset. It also holds the member Web Lock that tells the broker at once when this tab is gone,
 * hears rebalances on the group's BroadcastChannel (and heartbeats at once), and commits.
 *
 * Invariants:
 * - The member lock is held before the first heartbeat and released only after leaving.
 * - At most one heartbeat is in flight; one asked for meanwhile is sent right after it.
 * - A partition kept through a rebalance keeps its cursor (its in-memory position); only a
 *   partition new to this member starts from the committed offset.
 * - A revoked partition keeps its cursor here until its offset is committed, so the commit
 *   uses the position its last handler reached; it is acknowledged only after that.
 * - A fenced member gives everything up without committing, and joins again (epoch -1).
 * - The hot path (`processed`, called after every record) counts and reads the clock; it
 *   commits when `autoCommitThreshold` is reached or `autoCommitInterval` has passed, or after
 *   every record when neither is set (KafkaJS). A timer commits on the interval too, so an
 *   idle stream's processed offsets are committed.
 */
import { InvalidArgumentError, isFenced, isRebalancing, LanesError, NotConnectedError } from '../../errors.js';
import { names, type BrokerApi, type GroupHeartbeatResponse } from '../../protocol/broker-api.js';
import { randomId } from '../../protocol/ids.js';
import { tpKey } from '../../protocol/topic-partition.js';
import type { Connection } from '../connection.js';
import { CONSUMER_EVENTS, type Instrumentation } from '../instrumentation.js';
import { initialRetryTime, nextRetryTime, retryConfig, type RetryOptions } from '../retry.js';
import { Positions, type PartitionCursor } from './positions.js';
import { resolveSubscription } from './subscription.js';
import { MetadataRefresh } from './metadata-refresh.js';

/** Partitions by topic. */
export type TopicPartitions = { [topic: string]: number[] };

/** Group options of consumer(). */
export interface GroupOptions {
  groupId: string;
  clientId: string;
  database: string;
  sessionTimeout: number;
  rebalanceTimeout: number;
  heartbeatInterval: number;
  /** Assignor names in preference order. */
  protocols: string[];
  groupInstanceId: string | null;
  allowAutoTopicCreation: boolean;
  /** Backoff of heartbeat retries. */
  retry?: RetryOptions;
  /** KafkaJS's metadataMaxAge: a topic deleted this recently is not auto-created. Default 300000. */
  metadataMaxAge?: number;
}

/** Auto-commit settings of run(). */
export interface AutoCommit {
  enabled: boolean;
  interval: number | null;
  threshold: number | null;
}

/** An offset to commit, with optional metadata (KafkaJS). */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string | null;
}

/** What the membership needs of the runner. */
export interface RunnerControl {
  /** Resolves once no handler runs on these partitions. */
  whenIdle(cursors: PartitionCursor[]): Promise<void>;
}

const has = (tp: TopicPartitions, topic: string, partition: number) => tp[topic]?.includes(partition) ?? false;

/** The membership of one consumer. */
export class Membership {
  readonly memberId: string;
  private subscription: (string | RegExp)[] = [];
  /** Where partitions without a committed offset start (subscribe's fromBeginning). */
  fromBeginning = false;
  /** run()'s auto-commit settings, read when the membership starts. */
  autoCommit: AutoCommit = { enabled: true, interval: 5000, threshold: null };
  /** Called when the group refuses this member for good after run() returned (a crash). */
  onFailure: (error: unknown) => void = () => undefined;
  private epoch = -1;
  private proto = '';
  private topics: string[] = [];
  private active = false;
  private runner: RunnerControl | undefined;
  private settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  /** Cursors of partitions being revoked, until their offsets are committed. */
  private revoking: PartitionCursor[] = [];
  private committed = new Map<string, number>();
  private sinceCommit = 0;
  private lastCommitAt = 0;
  private beating: Promise<void> | undefined;
  private again = false;
  private lastBeatAt = -Infinity;
  private joinStarted = 0;
  private retries = 0;
  private retryTime = 0;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private channel: BroadcastChannel | undefined;
  private releaseLock: (() => void) | undefined;
  private onPageHide = () => { void this.leave(); };
  /** Pattern subscriptions: resolved again every metadataMaxAge (see metadata-refresh.ts). */
  private refresh: MetadataRefresh | undefined;

  constructor(
    private readonly conn: Connection,
    readonly o: GroupOptions,
    private readonly positions: Positions,
    private readonly events: Instrumentation,
    /** The clock; injected by tests. */
    private readonly now: () => number = Date.now,
  ) {
    this.memberId = `${o.clientId}-${randomId()}`;
  }

  private broker(): Promise<BrokerApi> {
    return this.conn.broker(this.events, 'consumer');
  }

  /** The generation (member epoch) of the current assignment (-1 before the first). */
  get generationId(): number {
    return this.epoch;
  }

  /** The assignor the group chose. */
  get protocol(): string {
    return this.proto;
  }

  /** True while the consumer is running in its group. */
  get running(): boolean {
    return this.active;
  }

  /** The subscription, checked. */
  subscribe(topics: (string | RegExp)[], fromBeginning: boolean): void {
    for (const t of topics) {
      if (typeof t !== 'string' && !(t instanceof RegExp)) throw new InvalidArgumentError(`subscribe: topics must be strings or RegExps; got ${String(t)}`);
    }
    this.subscription.push(...topics);
    this.fromBeginning = fromBeginning;
  }

  /** True when `topic` is covered by the subscription. */
  subscribes(topic: string): boolean {
    return this.subscription.some((t) => (typeof t === 'string' ? t === topic : ((t.lastIndex = 0), t.test(topic))));
  }

  /** Topic names the subscription covers now (see subscription.ts for deleted and missing topics). */
  private async resolveTopics(first: boolean): Promise<void> {
    this.topics = await resolveSubscription(await this.broker(), this.subscription, {
      allowAutoTopicCreation: first && this.o.allowAutoTopicCreation, numPartitions: this.conn.config.defaultNumPartitions,
      metadataMaxAge: this.o.metadataMaxAge ?? 300_000, first,
    });
    this.refresh?.joined(this.topics);
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    (t as { unref?: () => void }).unref?.();
    this.timers.push(t);
  }

  /** Takes the member lock, starts listening, and joins; resolves with the first assignment. */
  async start(): Promise<void> {
    if (this.active) return;
    if (this.subscription.length === 0) throw new InvalidArgumentError('subscribe to at least one topic before run()');
    this.active = true;
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    if (locks) {
      await new Promise<void>((granted) => {
        void locks.request(names.memberLock(this.o.database, this.memberId), () => {
          granted();
          return new Promise<void>((r) => { this.releaseLock = r; });
        });
      });
    }
    if (typeof BroadcastChannel === 'function') {
      this.channel = new BroadcastChannel(names.groupChannel(this.o.database));
      (this.channel as { unref?: () => void }).unref?.();
      this.channel.onmessage = (ev: MessageEvent<{ groupId: string; type: string; generationId: number }>) => {
        const e = ev.data;
        // Only news: a round of our generation, or a generation we do not have (a join in
        // flight brings its own answer).
        if (!e || e.groupId !== this.o.groupId || !this.active || this.epoch < 0) return;
        if (e.type === 'rebalance' && e.generationId >= this.epoch) { this.rebalancing(); void this.beat(); }
        if (e.type === 'stable' && e.generationId > this.epoch) void this.beat();
      };
    }
    (globalThis as { addEventListener?: (t: string, f: () => void) => void }).addEventListener?.('pagehide', this.onPageHide);
    if (this.subscription.some((t) => t instanceof RegExp)) {
      this.refresh = new MetadataRefresh(this.o.metadataMaxAge ?? 300_000,
        async () => resolveSubscription(await this.broker(), this.subscription, { allowAutoTopicCreation: false, metadataMaxAge: 0, first: false }),
        () => { if (this.active) void this.resolveTopics(false).then(() => this.beat(), () => undefined); });
      this.refresh.start();
    }
    this.sinceCommit = 0;
    this.lastCommitAt = this.now();
    const settled = new Promise<void>((resolve, reject) => { this.settle = { resolve, reject }; });
    try {
      await this.resolveTopics(true);
    } catch (e) {
      this.settle = undefined;
      throw e;
    }
    this.rebalancing();
    this.every(this.o.heartbeatInterval, () => { if (!this.beating) void this.beat(); });
    const a = this.autoCommit;
    if (a.enabled && (a.interval ?? 0) > 0) this.every(a.interval!, () => { if (this.epoch >= 0) void this.commitOwned(this.uncommitted()).catch(() => undefined); });
    void this.beat();
    await settled;
  }

  private rebalancing(): void {
    this.events.emit(CONSUMER_EVENTS.REBALANCING, { groupId: this.o.groupId, memberId: this.memberId });
  }

  /** Sends a heartbeat now, or right after the one in flight. */
  private beat(): Promise<void> {
    if (!this.active) return Promise.resolve();
    if (this.beating) { this.again = true; return this.beating; }
    this.beating = (async () => {
      do {
        this.again = false;
        await this.heartbeatOnce();
      } while (this.again && this.active);
    })().finally(() => { this.beating = undefined; });
    return this.beating;
  }

  private async heartbeatOnce(): Promise<void> {
    const epoch = this.epoch;
    if (epoch < 0) this.joinStarted = this.now();
    else this.lastBeatAt = this.now(); // a join is no heartbeat (a handler's first heartbeat() is sent)
    let res: GroupHeartbeatResponse;
    try {
      const owned: TopicPartitions = {};
      for (const c of [...this.positions.all(), ...this.revoking]) (owned[c.topic] ??= []).push(c.partition);
      const o = this.o;
      res = await (await this.broker()).groupHeartbeat({
        groupId: o.groupId, memberId: this.memberId, groupInstanceId: o.groupInstanceId, clientId: o.clientId, memberEpoch: epoch,
        topics: this.topics, owned, protocols: o.protocols, sessionTimeout: o.sessionTimeout, rebalanceTimeout: o.rebalanceTimeout,
      });
    } catch (e) {
      if (!this.active) return;
      if (isFenced(e)) return this.lose();
      if (!(isRebalancing(e) || (e instanceof LanesError && e.retriable))) return this.fail(e);
      const cfg = retryConfig(this.o.retry);
      this.retryTime = this.retries++ === 0 ? initialRetryTime(cfg) : nextRetryTime(cfg, this.retryTime);
      const t = setTimeout(() => { void this.beat(); }, this.retryTime);
      (t as { unref?: () => void }).unref?.();
      this.timers.push(t);
      return;
    }
    this.retries = 0;
    if (!this.active) return;
    if (epoch >= 0) this.events.emit(CONSUMER_EVENTS.HEARTBEAT, { groupId: this.o.groupId, memberId: this.memberId, groupGenerationId: res.memberEpoch });
    if (res.fenced) return this.lose();
    this.reconcile(res);
  }

  /** Moves to the answer's target: new partitions start, revoked ones stop (then commit and are acknowledged). */
  private reconcile(res: GroupHeartbeatResponse): void {
    if (res.memberEpoch !== this.epoch) {
      this.epoch = res.memberEpoch;
      this.proto = res.protocol;
      this.events.emit(CONSUMER_EVENTS.GROUP_JOIN, {
        duration: this.now() - this.joinStarted, groupId: this.o.groupId, isLeader: res.leaderId === this.memberId,
        leaderId: res.leaderId ?? '', groupProtocol: res.protocol,
        memberId: this.memberId, memberAssignment: res.assignment, generationId: res.memberEpoch,
      });
    }
    const target = res.assignment;
    const revoked = this.positions.all().filter((c) => !has(target, c.topic, c.partition));
    const added = Object.entries(target).some(([topic, ps]) => ps.some((p) => !this.positions.get(topic, p)));
    if (revoked.length || added) {
      const committed = new Map(res.committed.map((c) => [tpKey(c.topic, c.partition), c.offset]));
      const reset = this.fromBeginning ? 'earliest' as const : 'latest' as const;
      const next: { topic: string; partition: number; position: number | null; reset: 'earliest' | 'latest' }[] = [];
      for (const [topic, ps] of Object.entries(target)) {
        for (const partition of ps) {
          const k = tpKey(topic, partition);
          const c = committed.get(k);
          if (c !== undefined && !this.positions.get(topic, partition)) this.committed.set(k, c);
          next.push({ topic, partition, position: c ?? null, reset });
        }
      }
      this.revoking.push(...revoked);
      this.positions.set(next); // kept partitions keep their cursors
    }
    this.settle?.resolve();
    this.settle = undefined;
    if (revoked.length) void this.release(revoked);
  }

  /**
   * Waits for the handlers on revoked partitions, commits them, and acknowledges. Not part of
   * the heartbeat in flight: heartbeats go on meanwhile (still reporting them owned), so a slow
   * handler never costs this member its session.
   */
  private async release(revoked: PartitionCursor[]): Promise<void> {
    await this.runner?.whenIdle(revoked);
    if (this.autoCommit.enabled && this.active) {
      const only: TopicPartitions = {};
      for (const c of revoked) (only[c.topic] ??= []).push(c.partition);
      await this.commitOwned(this.uncommitted(only)).catch(() => undefined);
    }
    this.revoking = this.revoking.filter((c) => !revoked.includes(c));
    void this.beat(); // acknowledge: this heartbeat no longer owns them
  }

  /** Fenced: gives up everything without committing (another member may own it now) and joins again. */
  private async lose(): Promise<void> {
    const all = [...this.positions.all(), ...this.revoking];
    this.positions.set([]);
    await this.runner?.whenIdle(all);
    this.revoking = [];
    this.epoch = -1;
    this.again = true;
  }

  private fail(error: unknown): void {
    if (this.settle) { this.settle.reject(error); this.settle = undefined; } else queueMicrotask(() => this.onFailure(error));
  }

  /** The runner started (again). */
  runnerStarted(runner: RunnerControl): void {
    this.runner = runner;
  }

  /** The runner stopped: nothing to wait for any more. */
  runnerStopped(): void {
    this.runner = undefined;
  }

  /**
   * A handler's heartbeat(): sends one only when heartbeatInterval has passed since the last
   * (KafkaJS's throttle). It does not wait for the answer: during a rebalance the answer waits
   * for the round, and the round may be waiting for this very handler to return.
   */
  async heartbeat(): Promise<void> {
    if (this.active && !this.beating && this.now() - this.lastBeatAt >= this.o.heartbeatInterval) void this.beat();
  }

  /** Offsets processed but not committed, of owned partitions (and, with `only`, of those being revoked). */
  uncommitted(only?: TopicPartitions): OffsetToCommit[] {
    const out: OffsetToCommit[] = [];
    const cursors = only ? this.revoking.filter((c) => has(only, c.topic, c.partition)) : [...this.positions.all(), ...this.revoking];
    for (const c of cursors) {
      if (c.position === null) continue;
      if (this.committed.get(tpKey(c.topic, c.partition)) !== c.position) out.push({ topic: c.topic, partition: c.partition, offset: c.position });
    }
    return out;
  }

  /** Commits offsets (default: every owned partition's position). A fencing answer makes the member heartbeat at once, and is rethrown. */
  async commit(offsets = this.uncommitted()): Promise<void> {
    if (offsets.length === 0) return;
    if (this.epoch < 0 && this.active) throw new NotConnectedError('commitOffsets: this consumer is not a member of its group (not running, or disconnected)');
    const generationId = this.epoch;
    // KafkaJS's COMMIT_OFFSETS shape: offsets grouped by topic, as strings.
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const o of offsets) { const l = byTopic.get(o.topic) ?? []; l.push({ partition: o.partition, offset: String(o.offset) }); byTopic.set(o.topic, l); }
    const info = { groupId: this.o.groupId, memberId: this.memberId, groupGenerationId: generationId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) };
    try {
      await (await this.broker()).commitOffsets({ groupId: this.o.groupId, memberId: this.memberId, generationId, offsets });
    } catch (e) {
      // Also when the caller drops the error (commits on revoke or on leave): it is seen.
      this.events.emit(CONSUMER_EVENTS.COMMIT_OFFSETS_ERROR, { ...info, error: e });
      if (isFenced(e)) void this.beat();
      throw e;
    }
    for (const o of offsets) this.committed.set(tpKey(o.topic, o.partition), o.offset);
    this.lastCommitAt = this.now();
    this.sinceCommit = 0;
    this.events.emit(CONSUMER_EVENTS.COMMIT_OFFSETS, info);
  }

  /**
   * Auto-commit of owned positions. A topic deleted meanwhile (TopicNotFoundError naming it) is
   * left out and the rest committed: its partitions are being dropped, and they must not keep
   * the other partitions' progress from being committed.
   */
  private async commitOwned(offsets: OffsetToCommit[]): Promise<void> {
    for (;;) {
      try {
        return await this.commit(offsets);
      } catch (e) {
        const gone = e instanceof LanesError && e.code === 'UNKNOWN_TOPIC_OR_PARTITION' ? e.details.topic : undefined;
        const rest = offsets.filter((o) => o.topic !== gone);
        if (typeof gone !== 'string' || rest.length === offsets.length) throw e;
        offsets = rest;
      }
    }
  }

  /**
   * After `count` records were processed (hot path): commits when autoCommitThreshold is
   * reached or autoCommitInterval has passed, or every time when neither is set (KafkaJS).
   */
  async processed(_c: PartitionCursor, count = 1): Promise<void> {
    this.sinceCommit += count;
    const a = this.autoCommit;
    if (!a.enabled) return;
    const due = a.threshold !== null && a.threshold > 0 && this.sinceCommit >= a.threshold ||
      (a.interval === null ? a.threshold === null : this.now() - this.lastCommitAt >= a.interval);
    if (due) await this.commitIfNecessary();
  }

  /** KafkaJS's commitOffsetsIfNecessary: commits when the threshold or the interval says so. */
  async commitIfNecessary(): Promise<void> {
    if (!this.autoCommit.enabled || !this.active) return;
    const { threshold, interval } = this.autoCommit;
    const byThreshold = threshold !== null && threshold > 0 && this.sinceCommit >= threshold;
    const byInterval = interval !== null && interval >= 0 && this.now() - this.lastCommitAt >= interval;
    if (!byThreshold && !byInterval && !(threshold === null && interval === null)) return;
    const pending = this.uncommitted();
    if (pending.length === 0) return;
    try {
      await this.commitOwned(pending);
    } catch (e) {
      if (!isRebalancing(e)) throw e;
    }
  }

  /** Commits (autoCommit), leaves the group and releases the member lock. */
  async leave(): Promise<void> {
    if (!this.active) return;
    this.refresh?.stop();
    this.refresh = undefined;
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.channel?.close();
    (globalThis as { removeEventListener?: (t: string, f: () => void) => void }).removeEventListener?.('pagehide', this.onPageHide);
    if (this.autoCommit.enabled && this.epoch >= 0) await this.commitOwned(this.uncommitted()).catch(() => undefined);
    this.active = false;
    this.settle?.reject(new NotConnectedError('the consumer stopped before it joined its group'));
    this.settle = undefined;
    // A static member does not leave: a reload gets its partitions back without a rebalance;
    // the coordinator drops it only after sessionTimeout (Kafka's KIP-345).
    if (this.o.groupInstanceId === null) {
      try {
        await (await this.broker()).leaveGroup({ groupId: this.o.groupId, memberId: this.memberId });
      } catch { /* the lock release tells the broker anyway */ }
    }
    this.releaseLock?.();
    this.releaseLock = undefined;
    this.positions.set([]);
    this.revoking = [];
    this.committed.clear();
    this.epoch = -1;
  }
}
