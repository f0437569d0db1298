/**
 * The I/O shell of a consumer's group membership. The decisions (when to join, heartbeat,
 * drain, commit, revoke) are made by the pure state machine in membership-state.ts; this
 * file performs its commands against the broker, the runner and the clock, and feeds the
 * outcomes back. It also holds the member Web Lock that tells the coordinator at once when
 * this tab is gone, and hears rebalances on the group's BroadcastChannel.
 *
 * Invariants (beside those of membership-state.ts):
 * - The member lock is held before the first join and released only after leaving.
 * - Commands run in the order they are given; an outcome is fed back only through `dispatch`,
 *   so the state machine sees every event one at a time.
 * - A partition taken away from this member (cooperative revocation) keeps its cursor here
 *   until its offset is committed, so the commit uses the position its last handler reached.
 * - The runner is parked (beforeFetch waits) and stops between records only while the state
 *   is `stale` (eager rebalance or fenced); with the cooperative protocol it never waits for
 *   a rebalance.
 * - The hot path (`processed`, called after every record) counts and reads the clock; it
 *   commits when `autoCommitThreshold` is reached or `autoCommitInterval` has passed, or after
 *   every record when neither is set (KafkaJS). A timer commits on the interval too, so an
 *   idle stream's processed offsets are committed.
 */
import { InvalidArgumentError, isFenced, isRebalancing, LanesError, NotConnectedError } from '../../errors.js';
import { names, type BrokerApi, type JoinGroupResult } from '../../protocol/broker-api.js';
import { randomId } from '../../protocol/ids.js';
import { tpKey } from '../../protocol/topic-partition.js';
import type { Connection } from '../connection.js';
import { CONSUMER_EVENTS, type Instrumentation } from '../instrumentation.js';
import { retryConfig, type RetryOptions } from '../retry.js';
import {
  initialMemberState, memberStep, type CommitReason, type MemberCommand, type MemberEvent, type MemberState, type MemberTimer,
  type TopicPartitions,
} from './membership-state.js';
import { Positions, type PartitionCursor } from './positions.js';
import { resolveSubscription } from './subscription.js';
import { MetadataRefresh } from './metadata-refresh.js';

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
  /** Backoff of join retries. */
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

function has(tp: TopicPartitions, topic: string, partition: number): boolean {
  return tp[topic]?.includes(partition) ?? false;
}

/** The membership of one consumer. */
export class Membership {
  readonly memberId: string;
  private subscription: (string | RegExp)[] = [];
  /** Where partitions without a committed offset start (subscribe's fromBeginning). */
  fromBeginning = false;
  private state: MemberState | undefined;
  private active = false;
  private runner: RunnerControl | undefined;
  private timers = new Map<MemberTimer, ReturnType<typeof setTimeout>>();
  private settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  private stateChanged: (() => void)[] = [];
  private isParked = false;
  private lastResult: JoinGroupResult | undefined;
  private joinStarted = 0;
  /** Cursors of partitions being revoked, until their offsets are committed. */
  private revoking: PartitionCursor[] = [];
  private committed = new Map<string, number>();
  private sinceCommit = 0;
  private lastCommitAt = Date.now();
  private heartbeatInFlight: Promise<void> | undefined;
  private leaving: Promise<void> = Promise.resolve();
  private channel: BroadcastChannel | undefined;
  private releaseLock: (() => void) | undefined;
  /** run()'s auto-commit settings, read when the membership starts. */
  autoCommit: AutoCommit = { enabled: true, interval: 5000, threshold: null };
  /** Called when the group refuses this member for good after run() returned (a crash). */
  onFailure: (error: unknown) => void = () => undefined;
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

  /** The generation of the current assignment (-1 before the first). */
  get generationId(): number {
    return this.state?.generationId ?? -1;
  }

  /** The assignor the group chose. */
  get protocol(): string {
    return this.state?.protocol ?? '';
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
  private resolveTopics(broker: BrokerApi): Promise<string[]> {
    return resolveSubscription(broker, this.subscription, {
      allowAutoTopicCreation: this.o.allowAutoTopicCreation, numPartitions: this.conn.config.defaultNumPartitions,
      metadataMaxAge: this.o.metadataMaxAge ?? 300_000, first: this.generationId < 0,
    });
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
        if (!e || e.groupId !== this.o.groupId || e.type !== 'rebalance' || !this.active) return;
        this.dispatch({ type: 'rebalance', generationId: e.generationId, now: this.now() });
      };
    }
    (globalThis as { addEventListener?: (t: string, f: () => void) => void }).addEventListener?.('pagehide', this.onPageHide);
    if (this.subscription.some((t) => t instanceof RegExp)) {
      this.refresh = new MetadataRefresh(this.o.metadataMaxAge ?? 300_000,
        async () => resolveSubscription(await this.broker(), this.subscription, { allowAutoTopicCreation: false, metadataMaxAge: 0, first: false }),
        () => { if (this.active) this.dispatch({ type: 'rebalance', generationId: this.generationId, now: this.now() }); });
      this.refresh.start();
    }
    this.state = initialMemberState({
      cooperative: this.o.protocols.every((p) => p === 'cooperative-sticky'),
      heartbeatInterval: this.o.heartbeatInterval,
      autoCommit: this.autoCommit.enabled,
      autoCommitInterval: this.autoCommit.enabled && (this.autoCommit.interval ?? 0) > 0 ? this.autoCommit.interval : null,
      retry: retryConfig(this.o.retry),
      random: Math.random,
    });
    this.sinceCommit = 0;
    this.lastCommitAt = this.now();
    const settled = new Promise<void>((resolve, reject) => { this.settle = { resolve, reject }; });
    this.dispatch({ type: 'start', now: this.now() });
    await settled;
  }

  /** Feeds an event to the state machine and performs the commands it answers with. */
  private dispatch(e: MemberEvent): void {
    if (!this.state) return;
    const { state, commands } = memberStep(this.state, e);
    const staleBefore = this.state.stale;
    this.state = state;
    for (const c of commands) this.exec(c);
    if (staleBefore && !state.stale) this.positions.wake();
    for (const f of this.stateChanged.splice(0)) f();
  }

  private exec(c: MemberCommand): void {
    switch (c.type) {
      case 'join': this.join(c.owned); return;
      case 'heartbeat': this.sendHeartbeat(c.generationId); return;
      case 'assign': this.assign(c.assignment, c.revoked); return;
      case 'drain': void this.drain(c.partitions).then(() => this.dispatch({ type: 'drained', now: this.now() })); return;
      case 'commit': this.autoCommitNow(c.partitions, c.reason); return;
      case 'setTimer': this.setTimer(c.timer, c.ms); return;
      case 'clearTimer': clearTimeout(this.timers.get(c.timer)); this.timers.delete(c.timer); return;
      case 'rebalancing': this.events.emit(CONSUMER_EVENTS.REBALANCING, { groupId: this.o.groupId, memberId: this.memberId }); return;
      case 'groupJoin':
        this.events.emit(CONSUMER_EVENTS.GROUP_JOIN, {
          duration: this.now() - this.joinStarted, groupId: this.o.groupId, isLeader: this.lastResult?.leaderId === this.memberId,
          leaderId: this.lastResult?.leaderId ?? '', groupProtocol: c.protocol,
          memberId: this.memberId, memberAssignment: c.assignment, generationId: c.generationId,
        });
        return;
      case 'settled': this.settle?.resolve(); this.settle = undefined; return;
      case 'failed':
        if (this.settle) { this.settle.reject(c.error); this.settle = undefined; } else queueMicrotask(() => this.onFailure(c.error));
        return;
      case 'leave': this.leaving = this.leaving.then(() => this.sendLeave()); return;
    }
  }

  private setTimer(timer: MemberTimer, ms: number): void {
    clearTimeout(this.timers.get(timer));
    const t = setTimeout(() => { this.timers.delete(timer); this.dispatch({ type: 'timer', timer, now: this.now() }); }, ms);
    (t as { unref?: () => void }).unref?.();
    this.timers.set(timer, t);
  }

  private join(owned: TopicPartitions): void {
    this.revoking = [];
    this.joinStarted = this.now();
    void (async () => {
      const broker = await this.broker();
      const topics = await this.resolveTopics(broker);
      this.refresh?.joined(topics);
      return broker.joinGroup({
        groupId: this.o.groupId, memberId: this.memberId, groupInstanceId: this.o.groupInstanceId, clientId: this.o.clientId,
        topics, owned, protocols: this.o.protocols,
        sessionTimeout: this.o.sessionTimeout, rebalanceTimeout: this.o.rebalanceTimeout,
      });
    })().then(
      (res) => {
        this.lastResult = res;
        this.dispatch({ type: 'joined', generationId: res.generationId, protocol: res.protocol, assignment: res.assignment, now: this.now() });
      },
      (error: unknown) => {
        const retriable = isRebalancing(error) || (error instanceof LanesError && error.retriable);
        this.dispatch({ type: 'joinFailed', retriable, error, now: this.now() });
      },
    );
  }

  /** Replaces the runner's partitions with the assignment of the last join. */
  private assign(assignment: TopicPartitions, revoked: TopicPartitions): void {
    for (const c of this.positions.all()) if (has(revoked, c.topic, c.partition)) this.revoking.push(c);
    const committed = new Map((this.lastResult?.committed ?? []).map((c) => [tpKey(c.topic, c.partition), c.offset]));
    const next: { topic: string; partition: number; position: number | null; reset: 'earliest' | 'latest' }[] = [];
    const reset = this.fromBeginning ? 'earliest' as const : 'latest' as const;
    for (const [topic, parts] of Object.entries(assignment)) {
      for (const partition of parts) {
        const k = tpKey(topic, partition);
        const c = committed.get(k);
        if (c !== undefined && !this.positions.get(topic, partition)) this.committed.set(k, c);
        next.push({ topic, partition, position: c ?? null, reset });
      }
    }
    this.positions.set(next);
  }

  /** Waits until the runner no longer processes `partitions` ('all': until it is parked). */
  private async drain(partitions: TopicPartitions | 'all'): Promise<void> {
    if (partitions !== 'all') {
      const cursors = this.revoking.filter((c) => has(partitions, c.topic, c.partition));
      await this.runner?.whenIdle(cursors);
      return;
    }
    this.positions.wake(); // ends a fetch that is waiting at the log end
    while (this.runner && !this.isParked && this.state?.stale && this.active) {
      await new Promise<void>((r) => this.stateChanged.push(r));
    }
  }

  /** The runner calls this before each fetch: parks it while an eager rejoin is in progress. */
  async beforeFetch(): Promise<void> {
    while (this.state?.stale && this.runner && this.active) {
      this.isParked = true;
      for (const f of this.stateChanged.splice(0)) f();
      await new Promise<void>((r) => this.stateChanged.push(r));
      this.isParked = false;
    }
  }

  /** True while this member's assignment is being replaced as a whole: batches stop between records. */
  isStale(): boolean {
    return this.state?.stale ?? false;
  }

  /** The runner started (again). */
  runnerStarted(runner: RunnerControl): void {
    this.runner = runner;
  }

  /** The runner stopped: nothing to wait for any more. */
  runnerStopped(): void {
    this.runner = undefined;
    this.isParked = false;
    for (const f of this.stateChanged.splice(0)) f();
  }

  private sendHeartbeat(generationId: number): void {
    const ref = { groupId: this.o.groupId, memberId: this.memberId, generationId };
    this.heartbeatInFlight = (async () => {
      let outcome: 'ok' | 'rebalancing' | 'fenced' | 'failed' = 'ok';
      try {
        await (await this.broker()).heartbeat(ref);
        this.events.emit(CONSUMER_EVENTS.HEARTBEAT, { groupId: this.o.groupId, memberId: this.memberId, groupGenerationId: generationId });
      } catch (e) {
        outcome = isFenced(e) ? 'fenced' : isRebalancing(e) ? 'rebalancing' : 'failed';
      }
      this.heartbeatInFlight = undefined;
      this.dispatch({ type: 'heartbeatDone', generationId, outcome, now: this.now() });
    })();
  }

  /**
   * A handler's heartbeat(): sends one only when heartbeatInterval has passed since the last
   * (KafkaJS's throttle), and waits for the one in flight.
   */
  async heartbeat(): Promise<void> {
    if (!this.active) return;
    this.dispatch({ type: 'heartbeatRequested', now: this.now() });
    await this.heartbeatInFlight;
  }

  /** Offsets processed but not committed, of owned partitions (and, with `revoking`, of those being revoked). */
  uncommitted(only?: TopicPartitions): OffsetToCommit[] {
    const out: OffsetToCommit[] = [];
    const cursors = only ? this.revoking.filter((c) => has(only, c.topic, c.partition)) : [...this.positions.all(), ...this.revoking];
    for (const c of cursors) {
      if (c.position === null) continue;
      if (this.committed.get(tpKey(c.topic, c.partition)) !== c.position) out.push({ topic: c.topic, partition: c.partition, offset: c.position });
    }
    return out;
  }

  private autoCommitNow(partitions: TopicPartitions | 'all', reason: CommitReason): void {
    const offsets = this.uncommitted(partitions === 'all' ? undefined : partitions);
    const done = this.commitOwned(offsets).catch(() => undefined).then(() => this.dispatch({ type: 'committed', reason, now: this.now() }));
    if (reason === 'leave') this.leaving = this.leaving.then(() => done);
  }

  /** Commits offsets (default: every owned partition's position). A fencing answer is fed to the state machine and rethrown. */
  async commit(offsets = this.uncommitted()): Promise<void> {
    if (offsets.length === 0) return;
    if (this.generationId < 0 && this.state) throw new NotConnectedError('commitOffsets: this consumer is not a member of its group (not running, or disconnected)');
    const generationId = this.generationId;
    // KafkaJS's COMMIT_OFFSETS shape: offsets grouped by topic, as strings.
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const o of offsets) { const l = byTopic.get(o.topic) ?? []; l.push({ partition: o.partition, offset: String(o.offset) }); byTopic.set(o.topic, l); }
    const info = { groupId: this.o.groupId, memberId: this.memberId, groupGenerationId: generationId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) };
    try {
      await (await this.broker()).commitOffsets({ groupId: this.o.groupId, memberId: this.memberId, generationId, offsets });
    } catch (e) {
      // Also when the caller drops the error (commits before a rejoin or on leave): it is seen.
      this.events.emit(CONSUMER_EVENTS.COMMIT_OFFSETS_ERROR, { ...info, error: e });
      if (isFenced(e)) this.dispatch({ type: 'fenced', generationId, now: this.now() });
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
    if (!this.autoCommit.enabled || this.isStale() || !this.active) return;
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
    this.dispatch({ type: 'stop', now: this.now() });
    this.active = false;
    this.settle?.reject(new NotConnectedError('the consumer stopped before it joined its group'));
    this.settle = undefined;
    this.channel?.close();
    (globalThis as { removeEventListener?: (t: string, f: () => void) => void }).removeEventListener?.('pagehide', this.onPageHide);
    for (const f of this.stateChanged.splice(0)) f();
    await this.leaving;
    this.releaseLock?.();
    this.releaseLock = undefined;
    this.positions.set([]);
    this.revoking = [];
    this.committed.clear();
    this.state = undefined;
  }

  private async sendLeave(): Promise<void> {
    // A static member does not leave: a reload gets its partitions back without a rebalance;
    // the coordinator drops it only after sessionTimeout (Kafka's KIP-345).
    if (this.o.groupInstanceId !== null) return;
    try {
      await (await this.broker()).leaveGroup({ groupId: this.o.groupId, memberId: this.memberId });
    } catch { /* the lock release tells the coordinator anyway */ }
  }
}
