/**
 * A consumer's group membership as a pure state machine [tab; no I/O, no clock, no timers]:
 * events in (`start`, `rebalance`, `joined`, `heartbeatDone`, `drained`, `timer`, ...),
 * commands out (`join`, `heartbeat`, `assign`, `drain`, `commit`, `setTimer`, ...). The shell
 * (membership.ts) performs the commands and feeds their outcomes back as events; the time of
 * every event is passed in, so a test drives rebalances, revocations, heartbeat loss and
 * rejoins with a fake clock and no waits.
 *
 * Phases: idle -> joining -> stable; a rebalance goes stable -> (draining -> committing ->)
 * joining -> stable; stop goes anywhere -> stopped; a join refused for good goes to failed.
 *
 * Invariants:
 * 1. At most one join request is pending, and only in phase `joining`; a `joined` or
 *    `joinFailed` that arrives in another phase is ignored.
 * 2. Eager protocol (range, roundrobin), or a member that was fenced: before joining, the
 *    runner is drained (`stale` is true: batches stop between records and the next fetch
 *    waits), the offsets of everything owned are committed (autoCommit, unless fenced), and the
 *    assignment is emptied. `stale` turns false with the next assignment.
 * 3. Cooperative protocol (every assignor cooperative-sticky): a rebalance never stops the
 *    runner. The member rejoins at once reporting what it owns and keeps processing it; when
 *    the new assignment takes partitions away, only those are revoked: the runner stops them
 *    between records, the member waits for their handlers to return (`drain` of those
 *    partitions), commits their offsets, and rejoins so their new owners get them.
 * 4. Offsets of a partition are committed (autoCommit, not fenced) before it is given up.
 * 5. Heartbeats: one every `heartbeatInterval` while the member has a generation and no join
 *    is pending (the coordinator does not expire a member in a pending join). A heartbeat asked
 *    for by a handler is sent only when `heartbeatInterval` has passed since the last one and
 *    none is in flight: one broker call per interval, however often handlers ask.
 * 6. A rebalance signal for a generation older than ours is one we took part in: ignored. One
 *    that arrives while our join is pending is remembered and, if it is for the generation we
 *    get or a newer one, triggers another rejoin.
 * 7. A fencing answer (IllegalGeneration, UnknownMemberId) counts only for the generation it
 *    was sent with: a late answer about an older generation does not fence the member again.
 * 8. With autoCommitInterval set, a `commit` is issued every interval whether or not records
 *    arrive (an idle stream still gets its processed offsets committed), and on stop.
 * 9. After `stop`, no command but the final commit and `leave`; every timer is cleared.
 */
import { initialRetryTime, nextRetryTime, type RetryConfig } from '../retry.js';

/** Partitions by topic. */
export type TopicPartitions = { [topic: string]: number[] };

/** Where the membership stands. */
export type MemberPhase = 'idle' | 'joining' | 'backoff' | 'stable' | 'draining' | 'committing' | 'stopped' | 'failed';

/** The timers the membership runs. */
export type MemberTimer = 'heartbeat' | 'commit' | 'retryJoin';

/** Fixed settings of a membership. */
export interface MemberConfig {
  /** Every assignor is cooperative-sticky: incremental rebalances. */
  cooperative: boolean;
  heartbeatInterval: number;
  /** Commit processed offsets at all (run's autoCommit). */
  autoCommit: boolean;
  /** Commit every this many ms (run's autoCommitInterval); null: no timer. */
  autoCommitInterval: number | null;
  /** Backoff of join retries. */
  retry: RetryConfig;
  /** Randomness of the backoff jitter, in [0, 1). */
  random: () => number;
}

/** The state; treat as read-only outside this module. */
export interface MemberState {
  readonly config: MemberConfig;
  phase: MemberPhase;
  generationId: number;
  protocol: string;
  assignment: TopicPartitions;
  /** Partitions given up in this generation and not yet released by a rejoin. */
  revoking: TopicPartitions;
  /** True while an eager (or fenced) rejoin is in progress: batches stop and fetches wait. */
  stale: boolean;
  fenced: boolean;
  /** Highest rebalance signal heard while a join was pending. */
  signalled: number;
  heartbeatInFlight: boolean;
  lastHeartbeatAt: number;
  /** Join retries in a row, and the backoff of the last one. */
  joinRetries: number;
  joinRetryTime: number;
}

/** What happened. `now` is the time in ms of the injected clock. */
export type MemberEvent =
  | { type: 'start'; now: number }
  | { type: 'rebalance'; generationId: number; now: number }
  | { type: 'joined'; generationId: number; protocol: string; assignment: TopicPartitions; now: number }
  | { type: 'joinFailed'; retriable: boolean; error: unknown; now: number }
  | { type: 'heartbeatRequested'; now: number }
  | { type: 'heartbeatDone'; generationId: number; outcome: 'ok' | 'rebalancing' | 'fenced' | 'failed'; now: number }
  | { type: 'fenced'; generationId: number; now: number }
  | { type: 'drained'; now: number }
  | { type: 'committed'; reason: CommitReason; now: number }
  | { type: 'timer'; timer: MemberTimer; now: number }
  | { type: 'stop'; now: number };

/** Why a commit is made. */
export type CommitReason = 'interval' | 'revoke' | 'leave';

/** What the shell must do, in order. */
export type MemberCommand =
  | { type: 'join'; owned: TopicPartitions }
  | { type: 'heartbeat'; generationId: number }
  /** Replace the runner's partitions; `revoked` ones stop between records. */
  | { type: 'assign'; assignment: TopicPartitions; revoked: TopicPartitions }
  /** Report `drained` once no handler runs on these partitions ('all': the runner is parked). */
  | { type: 'drain'; partitions: TopicPartitions | 'all' }
  /** Commit processed offsets ('all': every owned partition); report `committed` (failures too). */
  | { type: 'commit'; partitions: TopicPartitions | 'all'; reason: CommitReason }
  | { type: 'setTimer'; timer: MemberTimer; ms: number }
  | { type: 'clearTimer'; timer: MemberTimer }
  | { type: 'rebalancing' }
  | { type: 'groupJoin'; generationId: number; protocol: string; assignment: TopicPartitions }
  /** The member has an assignment: a waiting run() may return. */
  | { type: 'settled' }
  | { type: 'failed'; error: unknown }
  | { type: 'leave' };

/** The initial state. */
export function initialMemberState(config: MemberConfig): MemberState {
  return {
    config, phase: 'idle', generationId: -1, protocol: '', assignment: {}, revoking: {}, stale: false, fenced: false,
    signalled: -1, heartbeatInFlight: false, lastHeartbeatAt: -Infinity, joinRetries: 0, joinRetryTime: 0,
  };
}

/** Partitions of `a` that are not in `b`. */
export function minus(a: TopicPartitions, b: TopicPartitions): TopicPartitions {
  const out: TopicPartitions = {};
  for (const [topic, ps] of Object.entries(a)) {
    const other = new Set(b[topic] ?? []);
    const left = ps.filter((p) => !other.has(p));
    if (left.length) out[topic] = left;
  }
  return out;
}

/** True when no topic lists a partition. */
export function isEmpty(tp: TopicPartitions): boolean {
  return Object.values(tp).every((ps) => ps.length === 0);
}

/** The result of one step. */
export interface Step {
  state: MemberState;
  commands: MemberCommand[];
}

/** Moves the membership one event forward. Never throws; never mutates `s`. */
export function memberStep(s: MemberState, e: MemberEvent): Step {
  const next: MemberState = { ...s };
  const out: MemberCommand[] = [];
  step(next, e, out);
  return { state: next, commands: out };
}

function step(s: MemberState, e: MemberEvent, out: MemberCommand[]): void {
  if (s.phase === 'stopped' || s.phase === 'failed') return; // invariant 9
  const c = s.config;
  switch (e.type) {
    case 'start':
      if (s.phase !== 'idle') return;
      out.push({ type: 'rebalancing' });
      join(s, out);
      if (c.autoCommit && c.autoCommitInterval !== null) out.push({ type: 'setTimer', timer: 'commit', ms: c.autoCommitInterval });
      return;
    case 'rebalance':
      if (s.phase === 'idle') return;
      if (s.phase === 'joining') { s.signalled = Math.max(s.signalled, e.generationId); return; }
      if (s.phase !== 'stable' || e.generationId < s.generationId) return; // already on the way in, or an old round
      rejoin(s, out);
      return;
    case 'joined': {
      if (s.phase !== 'joining') return;
      const revoked = minus(s.assignment, e.assignment);
      s.generationId = e.generationId;
      s.protocol = e.protocol;
      s.assignment = e.assignment;
      s.fenced = false;
      s.stale = false;
      s.joinRetries = 0;
      out.push({ type: 'assign', assignment: e.assignment, revoked });
      out.push({ type: 'groupJoin', generationId: e.generationId, protocol: e.protocol, assignment: e.assignment });
      out.push({ type: 'setTimer', timer: 'heartbeat', ms: c.heartbeatInterval });
      out.push({ type: 'settled' });
      const signalled = s.signalled;
      s.signalled = -1;
      if (!isEmpty(revoked)) {
        // Cooperative (eager members own nothing when they join): release what moved.
        s.revoking = revoked;
        s.phase = 'draining';
        out.push({ type: 'drain', partitions: revoked });
        return;
      }
      s.revoking = {};
      s.phase = 'stable';
      if (signalled >= e.generationId) rejoin(s, out); // invariant 6
      return;
    }
    case 'joinFailed':
      if (s.phase !== 'joining') return;
      if (!e.retriable) {
        s.phase = 'failed';
        clearTimers(out);
        out.push({ type: 'failed', error: e.error });
        return;
      }
      s.joinRetryTime = s.joinRetries === 0 ? initialRetryTime(c.retry, c.random) : nextRetryTime(c.retry, s.joinRetryTime, c.random);
      s.joinRetries++;
      s.phase = 'backoff';
      out.push({ type: 'setTimer', timer: 'retryJoin', ms: s.joinRetryTime });
      return;
    case 'heartbeatRequested':
      if (canHeartbeat(s) && e.now - s.lastHeartbeatAt >= c.heartbeatInterval) heartbeat(s, e.now, out);
      return;
    case 'heartbeatDone':
      s.heartbeatInFlight = false;
      if (e.outcome === 'rebalancing') step(s, { type: 'rebalance', generationId: e.generationId, now: e.now }, out);
      else if (e.outcome === 'fenced') step(s, { type: 'fenced', generationId: e.generationId, now: e.now }, out);
      return;
    case 'fenced':
      if (e.generationId !== s.generationId || s.phase === 'idle') return; // invariant 7
      s.fenced = true;
      if (s.phase === 'stable') rejoin(s, out);
      else if (s.phase === 'draining' && !s.stale) {
        // Fenced while releasing moved partitions: give up everything instead.
        s.stale = true;
        out.push({ type: 'drain', partitions: 'all' });
      }
      // joining: the pending join brings the new generation; backoff/committing: a join follows.
      return;
    case 'drained':
      if (s.phase !== 'draining') return;
      if (c.autoCommit && !s.fenced) {
        s.phase = 'committing';
        out.push({ type: 'commit', partitions: s.stale ? 'all' : s.revoking, reason: 'revoke' });
        return;
      }
      afterRevoke(s, out);
      return;
    case 'committed':
      if (e.reason === 'revoke' && s.phase === 'committing') afterRevoke(s, out);
      return;
    case 'timer':
      if (e.timer === 'heartbeat') {
        if (canHeartbeat(s) && e.now - s.lastHeartbeatAt >= c.heartbeatInterval) heartbeat(s, e.now, out);
        out.push({ type: 'setTimer', timer: 'heartbeat', ms: Math.max(1, c.heartbeatInterval - Math.max(0, e.now - s.lastHeartbeatAt)) });
      } else if (e.timer === 'commit') {
        if (c.autoCommit && c.autoCommitInterval !== null) {
          if (!s.stale && s.generationId >= 0) out.push({ type: 'commit', partitions: 'all', reason: 'interval' });
          out.push({ type: 'setTimer', timer: 'commit', ms: c.autoCommitInterval });
        }
      } else if (e.timer === 'retryJoin' && s.phase === 'backoff') {
        join(s, out);
      }
      return;
    case 'stop': {
      const owned = s.phase !== 'idle' && !s.fenced && !s.stale && s.generationId >= 0;
      s.phase = 'stopped';
      clearTimers(out);
      if (c.autoCommit && owned) out.push({ type: 'commit', partitions: 'all', reason: 'leave' });
      out.push({ type: 'leave' });
      return;
    }
  }
}

function canHeartbeat(s: MemberState): boolean {
  return !s.heartbeatInFlight && s.generationId >= 0 && (s.phase === 'stable' || s.phase === 'draining' || s.phase === 'committing');
}

function heartbeat(s: MemberState, now: number, out: MemberCommand[]): void {
  s.heartbeatInFlight = true;
  s.lastHeartbeatAt = now;
  out.push({ type: 'heartbeat', generationId: s.generationId });
}

function join(s: MemberState, out: MemberCommand[]): void {
  s.phase = 'joining';
  s.signalled = -1;
  out.push({ type: 'join', owned: s.assignment });
}

/** Starts a rejoin from `stable`: at once (cooperative), or after draining everything (eager, fenced). */
function rejoin(s: MemberState, out: MemberCommand[]): void {
  out.push({ type: 'rebalancing' });
  if (s.config.cooperative && !s.fenced) {
    join(s, out);
    return;
  }
  s.stale = true;
  s.phase = 'draining';
  out.push({ type: 'drain', partitions: 'all' });
}

/** What was given up is committed (or cannot be): hand it back to the group by rejoining. */
function afterRevoke(s: MemberState, out: MemberCommand[]): void {
  if (s.stale) {
    const revoked = s.assignment;
    s.assignment = {};
    out.push({ type: 'assign', assignment: {}, revoked });
  }
  s.revoking = {};
  join(s, out);
}

function clearTimers(out: MemberCommand[]): void {
  for (const timer of ['heartbeat', 'commit', 'retryJoin'] as const) out.push({ type: 'clearTimer', timer });
}
