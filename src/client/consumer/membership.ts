/**
 * A consumer's membership of its group: joins through the broker's coordinator, holds the
 * member Web Lock that tells the coordinator at once when this tab is gone, heartbeats, hears
 * rebalances on the group's BroadcastChannel, revokes and commits before rejoining, and
 * fences itself when the coordinator says its generation is stale.
 *
 * Invariants:
 * - The member lock is held before the first join and released only after leaving.
 * - While a (re)join is in progress the runner is parked (beforeFetch waits) and batches in
 *   progress stop between records (isStale), so a partition is never processed by this tab
 *   after it was reported as not owned.
 * - Cooperative protocol (every assignor cooperative-sticky): partitions are kept through a
 *   rebalance and only the moved ones are revoked, then the member rejoins so their new owners
 *   get them. Eager protocol (range, roundrobin): everything is revoked before joining.
 * - Offsets are committed (autoCommit) for every partition before it is revoked.
 * - A partition paused before a rebalance is still paused after it when this member keeps it
 *   (eager protocols give everything up and get it back: the pause must survive that).
 * - A rebalance event whose generation is older than ours is a rebalance we already took part in.
 */
import { isFenced, isRebalancing, LanesError, InvalidArgumentError } from '../../errors.js';
import { names, type BrokerApi, type JoinGroupResult } from '../../protocol/broker-api.js';
import { randomId } from '../../protocol/ids.js';
import type { Connection } from '../connection.js';
import { CONSUMER_EVENTS, type Instrumentation } from '../instrumentation.js';
import { Positions, type PartitionCursor } from './positions.js';
import { tpKey } from '../../protocol/topic-partition.js';

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
}

/** Auto-commit settings of run(). */
export interface AutoCommit {
  enabled: boolean;
  interval: number | null;
  threshold: number | null;
}

/** The membership of one consumer. */
export class Membership {
  readonly memberId: string;
  generationId = -1;
  protocol = '';
  private subscription: (string | RegExp)[] = [];
  fromBeginning = false;
  private joining: Promise<void> | undefined;
  /** True while a join request is pending at the coordinator (which exempts it from expiry). */
  private joinPending = false;
  private stale = false;
  private fenced = false;
  private parked: (() => void) | undefined;
  private parkedSignal: Promise<void> | undefined;
  runnerActive = false;
  private stopRunner: () => void = () => undefined;
  private runnerStop = new Promise<void>((r) => { this.stopRunner = r; });
  private isParked = false;
  private sinceCommit = 0;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private channel: BroadcastChannel | undefined;
  private releaseLock: (() => void) | undefined;
  private active = false;
  private committed = new Map<string, number>();
  private lastCommit = Date.now();
  autoCommit: AutoCommit = { enabled: true, interval: 5000, threshold: null };
  private onPageHide = () => { void this.leave(); };

  constructor(
    private readonly conn: Connection,
    readonly o: GroupOptions,
    private readonly positions: Positions,
    private readonly events: Instrumentation,
  ) {
    this.memberId = `${o.clientId}-${randomId()}`;
  }

  private broker(): Promise<BrokerApi> {
    return this.conn.broker();
  }

  private get cooperative(): boolean {
    return this.o.protocols.every((p) => p === 'cooperative-sticky');
  }

  /** Adds topics to the subscription. */
  subscribe(topics: (string | RegExp)[], fromBeginning: boolean): void {
    for (const t of topics) {
      if (typeof t !== 'string' && !(t instanceof RegExp)) throw new InvalidArgumentError(`subscribe: topics must be strings or RegExps; got ${String(t)}`);
    }
    this.subscription.push(...topics);
    this.fromBeginning = fromBeginning;
    if (this.active) void this.rejoin();
  }

  /** Topic names the subscription covers now; creates missing named topics when allowed. */
  private async resolveTopics(broker: BrokerApi): Promise<string[]> {
    const names = new Set<string>();
    const plain = this.subscription.filter((t): t is string => typeof t === 'string');
    if (plain.length) {
      const infos = await broker.metadata({ topics: plain, allowAutoTopicCreation: this.o.allowAutoTopicCreation, numPartitions: this.conn.config.defaultNumPartitions });
      for (const i of infos) names.add(i.topic);
    }
    const patterns = this.subscription.filter((t): t is RegExp => t instanceof RegExp);
    if (patterns.length) {
      for (const i of await broker.metadata({})) if (patterns.some((p) => { p.lastIndex = 0; return p.test(i.topic); })) names.add(i.topic);
    }
    return [...names].sort();
  }

  /** Takes the member lock, starts heartbeats and listening, and joins. */
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
        if (e.generationId < this.generationId) return;
        void this.rejoin();
      };
    }
    (globalThis as { addEventListener?: (t: string, f: () => void) => void }).addEventListener?.('pagehide', this.onPageHide);
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.o.heartbeatInterval);
    (this.heartbeatTimer as { unref?: () => void }).unref?.();
    await this.rejoin();
  }

  /**
   * Sends a heartbeat; a rebalance or fencing answer triggers a rejoin. Heartbeats go on while a
   * rejoin waits for the runner to park (a slow handler must not cost the session); they pause
   * only while the join request itself is pending, as the coordinator does not expire it then.
   */
  async heartbeat(): Promise<void> {
    if (!this.active || this.joinPending || this.generationId < 0) return;
    try {
      await (await this.broker()).heartbeat({ groupId: this.o.groupId, memberId: this.memberId, generationId: this.generationId });
      this.events.emit(CONSUMER_EVENTS.HEARTBEAT, { groupId: this.o.groupId, memberId: this.memberId, groupGenerationId: this.generationId });
    } catch (e) {
      if (!this.active) return;
      if (isFenced(e)) this.fenced = true;
      if (isRebalancing(e)) void this.rejoin();
    }
  }

  /** True while this member's assignment is being replaced: batches stop between records. */
  isStale(): boolean {
    return this.stale;
  }

  /** The runner calls this before each fetch: parks it while a join is in progress. */
  async beforeFetch(): Promise<void> {
    while (this.joining && this.runnerActive) {
      this.isParked = true;
      this.parked?.();
      // A stopping consumer does not wait for a round that other members may hold up.
      await Promise.race([this.joining.catch(() => undefined), this.runnerStop]);
      this.isParked = false;
    }
  }

  /** The runner started (again): joins park it. */
  runnerStarted(): void {
    this.runnerActive = true;
    this.runnerStop = new Promise<void>((r) => { this.stopRunner = r; });
  }

  /** The runner stopped: nothing to wait for any more. */
  runnerStopped(): void {
    this.runnerActive = false;
    this.parked?.();
    this.stopRunner();
  }

  /** Rejoins the group (once at a time); resolves when this member has its new assignment. */
  rejoin(): Promise<void> {
    if (!this.joining) {
      this.stale = true;
      this.events.emit(CONSUMER_EVENTS.REBALANCING, { groupId: this.o.groupId, memberId: this.memberId });
      this.joining = this.joinLoop().finally(() => {
        this.joining = undefined;
        this.stale = false;
        this.positions.wake();
      });
    }
    return this.joining;
  }

  private async waitRunnerParked(): Promise<void> {
    if (!this.runnerActive || this.isParked) return;
    this.parkedSignal ??= new Promise<void>((r) => { this.parked = () => { this.parked = undefined; this.parkedSignal = undefined; r(); }; });
    const signal = this.parkedSignal;
    this.positions.wake(); // ends a fetch that is waiting at the log end
    await signal;
  }

  private async joinLoop(): Promise<void> {
    const paused = new Set<string>(); // pause() outlives a rebalance for partitions this member keeps
    for (let round = 0; this.active; round++) {
      await this.waitRunnerParked();
      if (!this.active) return;
      const broker = await this.broker();
      if (this.autoCommit.enabled && !this.fenced) await this.commit().catch(() => undefined);
      for (const c of this.positions.all()) if (c.paused) paused.add(tpKey(c.topic, c.partition));
      const owned: { [topic: string]: number[] } = {};
      if (this.cooperative && !this.fenced) {
        for (const c of this.positions.all()) (owned[c.topic] ??= []).push(c.partition);
      } else {
        this.positions.set([]); // eager (or fenced): give everything up before joining
      }
      const started = Date.now();
      let res: JoinGroupResult;
      try {
        const topics = await this.resolveTopics(broker);
        this.joinPending = true;
        res = await broker.joinGroup({
          groupId: this.o.groupId, memberId: this.memberId, groupInstanceId: this.o.groupInstanceId, clientId: this.o.clientId,
          topics, owned, protocols: this.o.protocols,
          sessionTimeout: this.o.sessionTimeout, rebalanceTimeout: this.o.rebalanceTimeout,
        });
      } catch (e) {
        this.joinPending = false;
        if (!this.active) return;
        if (isRebalancing(e) || (e instanceof LanesError && e.retriable)) {
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(round, 5))));
          continue;
        }
        throw e;
      }
      this.joinPending = false;
      this.fenced = false;
      this.generationId = res.generationId;
      this.protocol = res.protocol;
      const committed = new Map(res.committed.map((c) => [tpKey(c.topic, c.partition), c.offset]));
      const next: { topic: string; partition: number; position: number | null }[] = [];
      for (const [topic, parts] of Object.entries(res.assignment)) {
        for (const partition of parts) {
          const k = tpKey(topic, partition);
          const c = committed.get(k);
          if (c !== undefined) this.committed.set(k, c);
          next.push({ topic, partition, position: c ?? null });
        }
      }
      const before = new Set(this.positions.all().map((c) => tpKey(c.topic, c.partition)));
      this.positions.set(next.map((n) => ({ ...n, reset: this.fromBeginning ? 'earliest' as const : 'latest' as const })));
      for (const c of this.positions.all()) if (paused.has(tpKey(c.topic, c.partition))) c.paused = true;
      const after = new Set(next.map((n) => tpKey(n.topic, n.partition)));
      const revoked = [...before].filter((k) => !after.has(k));
      for (const k of revoked) this.committed.delete(k);
      this.events.emit(CONSUMER_EVENTS.GROUP_JOIN, {
        duration: Date.now() - started, groupId: this.o.groupId, isLeader: res.leaderId === this.memberId, leaderId: res.leaderId ?? '', groupProtocol: res.protocol,
        memberId: this.memberId, memberAssignment: res.assignment, generationId: res.generationId,
      });
      if (!(this.cooperative && revoked.length > 0)) return;
      // Cooperative: what we gave up is withheld from its new owner until we rejoin.
    }
  }

  /** Offsets this member processed but has not committed. */
  uncommitted(): { topic: string; partition: number; offset: number }[] {
    const out: { topic: string; partition: number; offset: number }[] = [];
    for (const c of this.positions.all()) {
      if (c.position === null) continue;
      const k = tpKey(c.topic, c.partition);
      if (this.committed.get(k) !== c.position) out.push({ topic: c.topic, partition: c.partition, offset: c.position });
    }
    return out;
  }

  /** Commits offsets (default: every owned partition's position). Fencing errors trigger a rejoin and are rethrown. */
  async commit(offsets: { topic: string; partition: number; offset: number; metadata?: string | null }[] = this.uncommitted()): Promise<void> {
    if (offsets.length === 0) return;
    // KafkaJS's COMMIT_OFFSETS shape: offsets grouped by topic, as strings.
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const o of offsets) { const l = byTopic.get(o.topic) ?? []; l.push({ partition: o.partition, offset: String(o.offset) }); byTopic.set(o.topic, l); }
    const info = { groupId: this.o.groupId, memberId: this.memberId, groupGenerationId: this.generationId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) };
    try {
      await (await this.broker()).commitOffsets({ groupId: this.o.groupId, memberId: this.memberId, generationId: this.generationId, offsets });
    } catch (e) {
      // Also when the caller drops the error (commits before a rejoin or on leave): it is seen.
      this.events.emit(CONSUMER_EVENTS.COMMIT_OFFSETS_ERROR, { ...info, error: e });
      if (isFenced(e)) {
        this.fenced = true;
        if (this.active) void this.rejoin();
      }
      throw e;
    }
    for (const o of offsets) this.committed.set(tpKey(o.topic, o.partition), o.offset);
    this.lastCommit = Date.now();
    this.sinceCommit = 0;
    this.events.emit(CONSUMER_EVENTS.COMMIT_OFFSETS, info);
  }

  /** After records were processed: commits when the threshold or interval says so. */
  async processed(_c: PartitionCursor): Promise<void> {
    this.sinceCommit++;
    await this.commitIfNecessary();
  }

  /** KafkaJS's commitOffsetsIfNecessary. */
  async commitIfNecessary(): Promise<void> {
    if (!this.autoCommit.enabled || this.stale) return;
    const pending = this.uncommitted();
    if (pending.length === 0) return;
    const { threshold, interval } = this.autoCommit;
    const byThreshold = threshold !== null && threshold > 0 && this.pendingCount() >= threshold;
    const byInterval = interval !== null && interval >= 0 && Date.now() - this.lastCommit >= interval;
    if (!byThreshold && !byInterval && !(threshold === null && interval === null)) return;
    try {
      await this.commit(pending);
    } catch (e) {
      if (!isRebalancing(e)) throw e;
    }
  }

  private pendingCount(): number {
    return this.sinceCommit;
  }

  /** Commits (autoCommit), leaves the group and releases the member lock. */
  async leave(): Promise<void> {
    if (!this.active) return;
    if (this.autoCommit.enabled && !this.fenced && !this.joining) await this.commit().catch(() => undefined);
    this.active = false;
    clearInterval(this.heartbeatTimer);
    this.channel?.close();
    (globalThis as { removeEventListener?: (t: string, f: () => void) => void }).removeEventListener?.('pagehide', this.onPageHide);
    // A static member does not leave: a reload gets its partitions back without a rebalance;
    // the coordinator drops it only after sessionTimeout (Kafka's KIP-345).
    if (this.o.groupInstanceId === null) {
      try {
        await (await this.broker()).leaveGroup({ groupId: this.o.groupId, memberId: this.memberId });
      } catch { /* the lock release tells the coordinator anyway */ }
    }
    this.releaseLock?.();
    this.positions.set([]);
    this.generationId = -1;
  }
}
