/**
 * One consumer's group membership, run in the broker on the tab's behalf [broker; pure state
 * machine: no I/O, no clock, no timers]. This is the server-side half of lanes' group protocol,
 * in the spirit of Kafka's KIP-848: the tab sends heartbeats carrying its subscription and the
 * partitions it owns; the agent joins the coordinator's rounds for it, and answers with the
 * member's epoch (the generation) and its target assignment; the tab only reconciles (stops and
 * commits what the target takes away, then acknowledges by heartbeating without it, and starts
 * what the target adds).
 *
 * Events in: `heartbeat` (a tab's call), `rebalance` (the coordinator started a round),
 * `joined` / `joinFailed` (a join's outcome), `keptAlive` (a liveness check's outcome), `timer`,
 * `stop`. Commands out: `join`, `keepAlive`, `setTimer`, `clearTimer`, `leave`. The shell
 * (member-agents.ts) performs them against the GroupCoordinator and feeds outcomes back; the
 * time of every event is passed in, so tests drive rebalances, revocations, heartbeat loss and
 * rejoins with a fake clock and no waits.
 *
 * Phases: idle -> joining -> stable; a rebalance goes stable -> (revoking ->) joining -> stable;
 * stop goes anywhere -> stopped; a join refused for good goes to failed.
 *
 * Invariants:
 * 1. At most one join is pending, and only in phase `joining`; a `joined` or `joinFailed` that
 *    arrives in another phase is ignored.
 * 2. The tab is told to give up a partition (it leaves the target) before the agent reports it
 *    no longer owned; the agent rejoins without it only once the tab acknowledged (a heartbeat
 *    whose `owned` no longer lists it), so the tab has stopped and committed it by then, and
 *    its next owner gets it only after that.
 * 3. Cooperative protocol (every assignor cooperative-sticky): a rebalance never empties the
 *    target. The agent rejoins at once reporting the member's assignment; when the new
 *    assignment takes partitions away, only those leave the target (phase `revoking`).
 * 4. Eager protocol (range, roundrobin), or a fenced member: the target is emptied (`stale`)
 *    and the agent joins owning nothing once the tab acknowledged that it gave everything up.
 *    A fenced member's tab must not commit (`fenced` in the answer).
 * 5. A liveness check (`keepAlive`) goes to the coordinator for every tab heartbeat while the
 *    agent has a generation and no join is pending; its answer fences only for the generation
 *    it was sent with (a late answer about an older generation is ignored).
 * 6. A rebalance for a generation older than ours is one we took part in: ignored. One that
 *    arrives while our join is pending is remembered and, if it is for the generation we get or
 *    a newer one, triggers another rejoin.
 * 7. A changed subscription (pattern subscriptions see new topics) is a rebalance of its own.
 * 8. After `stop`, no command but `leave`; every timer is cleared.
 */
import { partitionsOf } from '../protocol/topic-partition.js';

/** Partitions by topic. */
export type TopicPartitions = { [topic: string]: number[] };

/** Where the agent stands. */
export type AgentPhase = 'idle' | 'joining' | 'backoff' | 'stable' | 'revoking' | 'stopped' | 'failed';

/** Fixed settings of an agent. */
export interface AgentConfig {
  /** Every assignor is cooperative-sticky: incremental rebalances. */
  cooperative: boolean;
  /** Backoff of join retries: first wait, factor per retry, longest wait (ms). */
  retry: { initialRetryTime: number; multiplier: number; maxRetryTime: number };
}

/** The state; treat as read-only outside this module. */
export interface AgentState {
  readonly config: AgentConfig;
  phase: AgentPhase;
  /** The member's epoch: the generation of its current assignment (-1 before the first). */
  generationId: number;
  protocol: string;
  /** The coordinator's assignment of this member in `generationId`. */
  assignment: TopicPartitions;
  /** What the tab must own now: the assignment, less what is being revoked. */
  target: TopicPartitions;
  /** Partitions the tab must give up before the agent rejoins. */
  revoking: TopicPartitions;
  /** What the tab reported owning in its last heartbeat. */
  owned: TopicPartitions;
  /** Subscribed topics the last join reported, and the latest the tab sent. */
  joinedTopics: string[];
  topics: string[];
  /** Everything is being given up (eager rebalance, or fenced). */
  stale: boolean;
  fenced: boolean;
  /** Highest rebalance signal heard while a join was pending. */
  signalled: number;
  keepAliveInFlight: boolean;
  joinRetries: number;
  joinRetryTime: number;
  /** Why the agent failed (answered to the tab). */
  error: unknown;
}

/** What happened. `now` is the time in ms of the injected clock. */
export type AgentEvent =
  | { type: 'heartbeat'; owned: TopicPartitions; topics: string[]; now: number }
  | { type: 'rebalance'; generationId: number; now: number }
  | { type: 'joined'; generationId: number; protocol: string; assignment: TopicPartitions; now: number }
  | { type: 'joinFailed'; retriable: boolean; error: unknown; now: number }
  | { type: 'keptAlive'; generationId: number; outcome: 'ok' | 'rebalancing' | 'fenced'; now: number }
  | { type: 'timer'; timer: AgentTimer; now: number }
  | { type: 'stop'; now: number };

/** The timers an agent runs. */
export type AgentTimer = 'retryJoin';

/** What the shell must do, in order. */
export type AgentCommand =
  | { type: 'join'; owned: TopicPartitions; topics: string[] }
  | { type: 'keepAlive'; generationId: number }
  | { type: 'setTimer'; timer: AgentTimer; ms: number }
  | { type: 'clearTimer'; timer: AgentTimer }
  | { type: 'leave' };

/** The initial state. */
export function initialAgentState(config: AgentConfig): AgentState {
  return {
    config, phase: 'idle', generationId: -1, protocol: '', assignment: {}, target: {}, revoking: {}, owned: {},
    joinedTopics: [], topics: [], stale: false, fenced: false, signalled: -1, keepAliveInFlight: false,
    joinRetries: 0, joinRetryTime: 0, error: undefined,
  };
}

/** Partitions of `a` that are not in `b`. */
export function minus(a: TopicPartitions, b: TopicPartitions): TopicPartitions {
  const out: [string, number[]][] = [];
  for (const [topic, ps] of Object.entries(a)) {
    const other = new Set(partitionsOf(b, topic) ?? []);
    const left = ps.filter((p) => !other.has(p));
    if (left.length) out.push([topic, left]);
  }
  return Object.fromEntries(out); // `__proto__` stays an own data property
}

/** True when no topic lists a partition. */
export function isEmpty(tp: TopicPartitions): boolean {
  return Object.values(tp).every((ps) => ps.length === 0);
}

/** True while the tab's answer must wait: a join is under way and its outcome is the news. */
export function isSettling(s: AgentState): boolean {
  return s.phase === 'joining' || s.phase === 'backoff';
}

/** The result of one step. */
export interface AgentStep {
  state: AgentState;
  commands: AgentCommand[];
}

/** Moves the agent one event forward. Never throws; never mutates `s`. */
export function agentStep(s: AgentState, e: AgentEvent): AgentStep {
  const next: AgentState = { ...s };
  const out: AgentCommand[] = [];
  step(next, e, out);
  return { state: next, commands: out };
}

function step(s: AgentState, e: AgentEvent, out: AgentCommand[]): void {
  if (s.phase === 'stopped' || s.phase === 'failed') return; // invariant 8
  switch (e.type) {
    case 'heartbeat': {
      s.owned = e.owned;
      const topicsChanged = s.phase !== 'idle' && !sameTopics(e.topics, s.topics);
      s.topics = [...e.topics];
      if (s.phase === 'idle') { join(s, out); return; }
      if (s.phase === 'revoking') {
        // Acknowledged once the tab owns nothing it must give up (everything, when stale).
        if (isEmpty(intersect(s.owned, s.stale ? s.owned : s.revoking))) afterRevoke(s, out);
        else keepAlive(s, out);
        return;
      }
      if (s.phase !== 'stable') return;
      if (topicsChanged && !sameTopics(s.topics, s.joinedTopics)) { rejoin(s, out); return; } // invariant 7
      keepAlive(s, out);
      return;
    }
    case 'rebalance':
      if (s.phase === 'idle') return;
      if (s.phase === 'joining') { s.signalled = Math.max(s.signalled, e.generationId); return; }
      if (s.phase !== 'stable' || e.generationId < s.generationId) return; // on the way in already, or an old round
      rejoin(s, out);
      return;
    case 'joined': {
      if (s.phase !== 'joining') return;
      const revoked = minus(s.assignment, e.assignment);
      s.generationId = e.generationId;
      s.protocol = e.protocol;
      s.assignment = e.assignment;
      s.target = e.assignment;
      s.fenced = false;
      s.stale = false;
      s.joinRetries = 0;
      const signalled = s.signalled;
      s.signalled = -1;
      if (!isEmpty(revoked)) {
        // Cooperative (eager members own nothing when they join): the tab releases what moved.
        s.revoking = revoked;
        s.phase = 'revoking';
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
        s.error = e.error;
        out.push({ type: 'clearTimer', timer: 'retryJoin' });
        return;
      }
      s.joinRetryTime = s.joinRetries === 0 ? s.config.retry.initialRetryTime
        : Math.min(s.config.retry.maxRetryTime, s.joinRetryTime * s.config.retry.multiplier);
      s.joinRetries++;
      s.phase = 'backoff';
      out.push({ type: 'setTimer', timer: 'retryJoin', ms: s.joinRetryTime });
      return;
    case 'keptAlive':
      s.keepAliveInFlight = false;
      if (e.outcome === 'rebalancing') step(s, { type: 'rebalance', generationId: e.generationId, now: e.now }, out);
      else if (e.outcome === 'fenced') fence(s, e.generationId, out);
      return;
    case 'timer':
      if (e.timer === 'retryJoin' && s.phase === 'backoff') join(s, out);
      return;
    case 'stop':
      s.phase = 'stopped';
      s.target = {};
      out.push({ type: 'clearTimer', timer: 'retryJoin' });
      out.push({ type: 'leave' });
      return;
  }
}

/** The coordinator no longer knows this member in `generationId` (invariant 5). */
function fence(s: AgentState, generationId: number, out: AgentCommand[]): void {
  if (generationId !== s.generationId) return;
  s.fenced = true;
  if (s.phase === 'stable') { rejoin(s, out); return; }
  if (s.phase === 'revoking' && !s.stale) {
    // Fenced while releasing moved partitions: give up everything instead.
    s.stale = true;
    s.target = {};
  }
}

function keepAlive(s: AgentState, out: AgentCommand[]): void {
  if (s.keepAliveInFlight || s.generationId < 0) return;
  s.keepAliveInFlight = true;
  out.push({ type: 'keepAlive', generationId: s.generationId });
}

function join(s: AgentState, out: AgentCommand[]): void {
  s.phase = 'joining';
  s.signalled = -1;
  s.joinedTopics = [...s.topics];
  out.push({ type: 'join', owned: s.stale ? {} : s.assignment, topics: [...s.topics] });
}

/** Starts a rejoin from `stable`: at once (cooperative), or once the tab gave everything up (eager, fenced). */
function rejoin(s: AgentState, out: AgentCommand[]): void {
  if (s.config.cooperative && !s.fenced) {
    join(s, out);
    return;
  }
  s.stale = true;
  s.target = {};
  s.revoking = s.assignment;
  s.phase = 'revoking';
}

/** The tab gave up what it had to: hand it back to the group by rejoining. */
function afterRevoke(s: AgentState, out: AgentCommand[]): void {
  if (s.stale) s.assignment = {};
  else s.assignment = minus(s.assignment, s.revoking);
  s.revoking = {};
  join(s, out);
}

function intersect(a: TopicPartitions, b: TopicPartitions): TopicPartitions {
  const out: [string, number[]][] = [];
  for (const [topic, ps] of Object.entries(a)) {
    const other = new Set(partitionsOf(b, topic) ?? []);
    const both = ps.filter((p) => other.has(p));
    if (both.length) out.push([topic, both]);
  }
  return Object.fromEntries(out);
}

function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((t) => sa.has(t));
}
