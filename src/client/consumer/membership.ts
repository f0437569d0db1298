/**
 * A consumer's group membership, tab side [tab]. The membership itself (joins, rounds,
 * assignment, fencing) runs in the broker (src/group/member-agent.ts), and so does resolving
 * the subscription to topic names (src/broker/subscription.ts); this side sends heartbeats
 * carrying the subscription and the partitions it owns (`groupHeartbeat`), and
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
import { names, type ConsumerHeartbeatRequest, type GroupHeartbeatResponse } from '../../protocol/broker-api.js';
import { randomId } from '../../protocol/ids.js';
import { groupByTopic, partitionsOf } from '../../protocol/topic-partition.js';
import type { Connection } from '../connection.js';
import { CONSUMER_EVENTS as E, type Instrumentation } from '../instrumentation.js';
import { parseOffset } from '../offsets.js';
import { initialRetryTime, nextRetryTime, type RetryConfig } from '../retry.js';
import type { Positions, PartitionCursor } from './positions.js';

/** Partitions by topic. */
export type TopicPartitions = { [topic: string]: number[] };

/** Group options of consumer(). */
export interface GroupOptions {
  /**
   * What every heartbeat carries besides the member's state: group, client, assignor names in
   * preference order, timeouts, static member id, auto-creation (with KafkaJS's metadataMaxAge:
   * a topic deleted this recently is not auto-created).
   */
  join: Omit<ConsumerHeartbeatRequest, 'memberId' | 'memberEpoch' | 'owned' | 'subscription' | 'first'>;
  heartbeatInterval: number;
  /** Backoff of heartbeat retries. */
  retry: RetryConfig;
}

/** Auto-commit settings of run(). */
export interface AutoCommit {
  enabled: boolean;
  interval: number | null;
  threshold: number | null;
}

/** An offset to commit, as the API takes it: offset a decimal string or a number; optional metadata (KafkaJS). */
export type OffsetToCommit = { topic: string; partition: number; offset: string | number; metadata?: string | null };

/** What the membership needs of the runner. */
export interface RunnerControl {
  /** Resolves once no handler runs on these partitions. */
  whenIdle(cursors: PartitionCursor[]): Promise<void>;
}

/** Offsets grouped by topic, as KafkaJS's payloads carry them. */
export function byTopic<P>(list: { topic: string; partition: number; offset: number | string }[], f: (partition: number, offset: string) => P) {
  const m = new Map<string, P[]>();
  for (const o of list) (m.get(o.topic) ?? m.set(o.topic, []).get(o.topic)!).push(f(o.partition, String(o.offset)));
  return [...m].map(([topic, partitions]) => ({ topic, partitions }));
}

/** The membership of one consumer. */
export type Membership = ReturnType<typeof createMembership>;

/**
 * The membership of one consumer. `onFailure` is called when the group refuses this member for
 * good after run() returned (a crash); `now` is the clock (injected by tests).
 */
export function createMembership(
  conn: Connection, o: GroupOptions, positions: Positions, events: Instrumentation,
  onFailure: (error: unknown) => void, now: () => number = Date.now,
) {
  const { groupId, clientId } = o.join;
  const memberId = `${clientId}-${randomId()}`;
  const subscription: (string | RegExp)[] = [];
  const broker = () => conn.broker(events, 'consumer');
  const emit = (type: string, payload: object = {}) => events.emit(type, { groupId, memberId, ...payload });
  let fromBeginning = false;
  let autoCommit: AutoCommit = { enabled: true, interval: 5000, threshold: null };
  let epoch = -1;
  /** The next heartbeat is the first of this run: it may auto-create topics, and fails on a missing one. */
  let first = true;
  let active = false;
  let runner: RunnerControl | undefined;
  let settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  /** Cursors of partitions being revoked, until their offsets are committed. */
  let revoking: PartitionCursor[] = [];
  let sinceCommit = 0;
  let lastCommitAt = 0;
  let beating: Promise<void> | undefined;
  let again = false;
  let lastBeatAt = -Infinity;
  let joinStarted = 0;
  let retries = 0;
  let retryTime = 0;
  let timers: ReturnType<typeof setTimeout>[] = [];
  let channel: BroadcastChannel | undefined;
  let releaseLock: (() => void) | undefined;
  const owned = () => [...positions.all(), ...revoking];
  const later = (fn: () => void, ms: number, every?: boolean) => {
    const t = (every ? setInterval : setTimeout)(fn, ms);
    (t as { unref?: () => void }).unref?.();
    timers.push(t);
  };
  const g = globalThis as unknown as { addEventListener?: Window['addEventListener']; removeEventListener?: Window['removeEventListener']; navigator?: Navigator };
  const onPageHide = () => { void m.leave(); };

  const rebalancing = () => emit(E.REBALANCING);

  /** Sends a heartbeat now, or right after the one in flight. */
  const beat = (): Promise<void> => {
    if (!active) return Promise.resolve();
    if (beating) { again = true; return beating; }
    return (beating = (async () => {
      do {
        again = false;
        await heartbeatOnce();
      } while (again && active);
    })().finally(() => { beating = undefined; }));
  };

  const heartbeatOnce = async () => {
    const sent = epoch;
    if (sent < 0) joinStarted = now();
    else lastBeatAt = now(); // a join is no heartbeat (a handler's first heartbeat() is sent)
    let res: GroupHeartbeatResponse;
    try {
      const own = groupByTopic(owned());
      res = await (await broker()).groupHeartbeat({ ...o.join, memberId, memberEpoch: sent, owned: own, subscription, first });
    } catch (e) {
      if (!active) return;
      if (isFenced(e)) return lose();
      if (!(isRebalancing(e) || (e instanceof LanesError && e.retriable))) return fail(e);
      retryTime = retries++ === 0 ? initialRetryTime(o.retry) : nextRetryTime(o.retry, retryTime);
      return later(() => { void beat(); }, retryTime);
    }
    retries = 0;
    first = false;
    if (!active) return;
    if (sent >= 0) emit(E.HEARTBEAT, { groupGenerationId: res.memberEpoch });
    if (res.fenced) return lose();
    reconcile(res);
  };

  /** Moves to the answer's target: new partitions start, revoked ones stop (then commit and are acknowledged). */
  const reconcile = (res: GroupHeartbeatResponse) => {
    const target = res.assignment;
    if (res.memberEpoch !== epoch) {
      epoch = res.memberEpoch;
      emit(E.GROUP_JOIN, {
        duration: now() - joinStarted, isLeader: res.leaderId === memberId, leaderId: res.leaderId ?? '',
        groupProtocol: res.protocol, memberAssignment: target, generationId: epoch,
      });
    }
    const revoked = positions.all().filter((c) => !partitionsOf(target, c.topic)?.includes(c.partition));
    const reset = fromBeginning ? 'earliest' as const : 'latest' as const;
    const next = Object.entries(target).flatMap(([topic, ps]) => ps.map((partition) => {
      const committed = res.committed.find((c) => c.topic === topic && c.partition === partition)?.offset;
      return { topic, partition, position: committed ?? null, reset, committed };
    }));
    if (revoked.length || next.some((c) => !positions.get(c.topic, c.partition))) {
      revoking.push(...revoked);
      positions.set(next); // kept partitions keep their cursors
    }
    settle?.resolve();
    settle = undefined;
    if (revoked.length) void release(revoked);
  };

  /**
   * Waits for the handlers on revoked partitions, commits them, and acknowledges. Not part of
   * the heartbeat in flight: heartbeats go on meanwhile (still reporting them owned), so a slow
   * handler never costs this member its session.
   */
  const release = async (revoked: PartitionCursor[]) => {
    await runner?.whenIdle(revoked);
    // Not when fenced meanwhile: then they are no longer being revoked, and must not be committed.
    if (autoCommit.enabled && active) await commitOwned(uncommitted(revoked.filter((c) => revoking.includes(c)))).catch(() => undefined);
    revoking = revoking.filter((c) => !revoked.includes(c));
    void beat(); // acknowledge: this heartbeat no longer owns them
  };

  /** Fenced: gives up everything without committing (another member may own it now) and joins again. */
  const lose = async () => {
    const all = owned();
    positions.set([]);
    await runner?.whenIdle(all);
    revoking = [];
    epoch = -1;
    again = true;
  };

  const fail = (error: unknown) => {
    if (settle) settle.reject(error); else queueMicrotask(() => onFailure(error));
    settle = undefined;
  };

  /** Offsets processed but not committed, of `cursors` (default: owned partitions and those being revoked). */
  const uncommitted = (cursors = owned()) => cursors.filter((c) => c.position !== null && c.committed !== c.position)
    .map((c) => ({ topic: c.topic, partition: c.partition, offset: c.position! }));

  /**
   * Auto-commit of owned positions. A topic deleted meanwhile (TopicNotFoundError naming it) is
   * left out and the rest committed: its partitions are being dropped, and they must not keep
   * the other partitions' progress from being committed.
   */
  const commitOwned = async (offsets: OffsetToCommit[]): Promise<void> => {
    for (;;) {
      try {
        return await m.commit(offsets);
      } catch (e) {
        const gone = e instanceof LanesError && e.code === 'UNKNOWN_TOPIC_OR_PARTITION' ? e.details.topic : undefined;
        const rest = offsets.filter((x) => x.topic !== gone);
        if (typeof gone !== 'string' || rest.length === offsets.length) throw e;
        offsets = rest;
      }
    }
  };

  /** Auto-commit is due: autoCommitThreshold reached, autoCommitInterval passed, or neither set (every time). */
  const due = () => {
    const { threshold: t, interval: i } = autoCommit;
    return t !== null && t > 0 && sinceCommit >= t || (i === null ? t === null : i >= 0 && now() - lastCommitAt >= i);
  };

  const m = {
    memberId,
    /** The generation (member epoch) of the current assignment (-1 before the first). */
    get generationId(): number { return epoch; },
    /** True while the consumer is running in its group. */
    get running(): boolean { return active; },

    /** The subscription, checked. */
    subscribe(list: (string | RegExp)[], fromStart: boolean): void {
      for (const t of list) {
        if (typeof t !== 'string' && !(t instanceof RegExp)) throw new InvalidArgumentError(`subscribe: topics must be strings or RegExps; got ${String(t)}`);
      }
      subscription.push(...list);
      fromBeginning = fromStart;
    },

    /** True when `topic` is covered by the subscription. */
    subscribes(topic: string): boolean {
      return subscription.some((t) => (typeof t === 'string' ? t === topic : ((t.lastIndex = 0), t.test(topic))));
    },

    /** Takes the member lock, starts listening, and joins with `runner` running; resolves with the first assignment. */
    async start(commit: AutoCommit, r: RunnerControl): Promise<void> {
      runner = r;
      autoCommit = commit;
      if (active) return;
      if (subscription.length === 0) throw new InvalidArgumentError('subscribe to at least one topic before run()');
      active = true;
      const locks = g.navigator?.locks;
      if (locks) {
        await new Promise<void>((granted) => {
          void locks.request(names.memberLock(conn.config.database, memberId), () => {
            granted();
            return new Promise<void>((r) => { releaseLock = r; });
          });
        });
      }
      if (typeof BroadcastChannel === 'function') {
        channel = new BroadcastChannel(names.groupChannel(conn.config.database));
        (channel as { unref?: () => void }).unref?.();
        channel.onmessage = ({ data: e }: MessageEvent<{ groupId: string; type: string; generationId: number }>) => {
          // Only news: a round of our generation, or a generation we do not have (a join in
          // flight brings its own answer).
          if (e?.groupId !== groupId || !active || epoch < 0) return;
          if (e.type === 'rebalance' && e.generationId >= epoch) { rebalancing(); void beat(); }
          if (e.type === 'stable' && e.generationId > epoch) void beat();
        };
      }
      g.addEventListener?.('pagehide', onPageHide);
      sinceCommit = 0;
      lastCommitAt = now();
      first = true;
      const settled = new Promise<void>((resolve, reject) => { settle = { resolve, reject }; });
      rebalancing();
      later(() => { if (!beating) void beat(); }, o.heartbeatInterval, true);
      if (commit.enabled && (commit.interval ?? 0) > 0) later(() => { if (epoch >= 0) void commitOwned(uncommitted()).catch(() => undefined); }, commit.interval!, true);
      void beat();
      await settled;
    },

    /** The runner stopped: nothing to wait for any more. */
    runnerStopped(): void {
      runner = undefined;
    },

    /**
     * A handler's heartbeat(): sends one only when heartbeatInterval has passed since the last
     * (KafkaJS's throttle). It does not wait for the answer: during a rebalance the answer waits
     * for the round, and the round may be waiting for this very handler to return.
     */
    async heartbeat(): Promise<void> {
      if (active && !beating && now() - lastBeatAt >= o.heartbeatInterval) void beat();
    },

    /** eachBatch's uncommittedOffsets(): processed offsets not committed yet, KafkaJS's shape. */
    uncommittedOffsets() {
      return { topics: byTopic(uncommitted(), (p, offset) => ({ partition: String(p), offset })) };
    },

    /**
     * Commits offsets (default: every owned partition's position), checked and named after
     * `field`; each keeps its `metadata` (KafkaJS). A fencing answer makes the member heartbeat
     * at once, and is rethrown.
     */
    async commit(list: OffsetToCommit[] = uncommitted(), field = 'commitOffsets'): Promise<void> {
      const offsets = list.map((x, i) => {
        if (x.metadata != null && typeof x.metadata !== 'string') {
          throw new InvalidArgumentError(`${field}[${i}].metadata must be a string or null; got ${typeof x.metadata}`, { details: { index: i } });
        }
        return { topic: x.topic, partition: x.partition, offset: parseOffset(x.offset, `${field}[${i}].offset`), metadata: x.metadata ?? null };
      });
      if (offsets.length === 0) return;
      if (epoch < 0 && active) throw new NotConnectedError('commitOffsets: this consumer is not a member of its group (not running, or disconnected)');
      const generationId = epoch;
      // KafkaJS's COMMIT_OFFSETS shape: offsets grouped by topic, as strings.
      const info = { groupGenerationId: generationId, topics: byTopic(offsets, (partition, offset) => ({ partition, offset })) };
      try {
        await (await broker()).commitOffsets({ groupId, memberId, generationId, offsets });
      } catch (e) {
        // Also when the caller drops the error (commits on revoke or on leave): it is seen.
        emit(E.COMMIT_OFFSETS_ERROR, { ...info, error: e });
        if (isFenced(e)) void beat();
        throw e;
      }
      for (const x of offsets) {
        const c = owned().find((c) => c.topic === x.topic && c.partition === x.partition);
        if (c) c.committed = x.offset;
      }
      lastCommitAt = now();
      sinceCommit = 0;
      emit(E.COMMIT_OFFSETS, info);
    },

    /**
     * After `count` records were processed (hot path): commits when autoCommitThreshold is
     * reached or autoCommitInterval has passed, or every time when neither is set (KafkaJS).
     */
    async processed(count: number): Promise<void> {
      sinceCommit += count;
      if (autoCommit.enabled && due()) await m.commitIfNecessary();
    },

    /** KafkaJS's commitOffsetsIfNecessary: commits when the threshold or the interval says so. */
    async commitIfNecessary(): Promise<void> {
      if (!autoCommit.enabled || !active || !due()) return;
      const pending = uncommitted();
      if (pending.length === 0) return;
      try {
        await commitOwned(pending);
      } catch (e) {
        if (!isRebalancing(e)) throw e;
      }
    },

    /** Commits (autoCommit), leaves the group and releases the member lock. */
    async leave(): Promise<void> {
      if (!active) return;
      for (const t of timers.splice(0)) clearInterval(t);
      channel?.close();
      g.removeEventListener?.('pagehide', onPageHide);
      if (autoCommit.enabled && epoch >= 0) await commitOwned(uncommitted()).catch(() => undefined);
      active = false;
      settle?.reject(new NotConnectedError('the consumer stopped before it joined its group'));
      settle = undefined;
      // A static member does not leave: a reload gets its partitions back without a rebalance;
      // the coordinator drops it only after sessionTimeout (Kafka's KIP-345).
      if (o.join.groupInstanceId === null) {
        try {
          await (await broker()).leaveGroup({ groupId, memberId });
        } catch { /* the lock release tells the broker anyway */ }
      }
      releaseLock?.();
      releaseLock = undefined;
      positions.set([]);
      revoking = [];
      epoch = -1;
    },
  };
  return m;
}
