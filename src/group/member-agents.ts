/**
 * The I/O shell of the broker-side members (member-agent.ts) [broker]: one agent per consumer
 * of a group, created by the consumer's first heartbeat. It performs the agents' commands
 * against the GroupCoordinator (join, liveness checks, leave), feeds the outcomes and the
 * coordinator's rebalance events back, and answers each heartbeat with the member's epoch and
 * target assignment.
 *
 * Invariants:
 * - Events reach an agent one at a time, through `dispatch`; commands run in the order given.
 * - A heartbeat is answered once its agent is not settling (no join under way), so a member's
 *   first heartbeat returns with its first assignment, and a rejoin's with the new one.
 * - An agent whose member the coordinator no longer has (evicted, replaced by a static member
 *   of the same groupInstanceId) is dropped; the member's next heartbeat that claims an epoch
 *   gets UnknownMemberId (fenced), and it rejoins from scratch.
 */
import { InvalidArgumentError, isFenced, isRebalancing, LanesError, UnknownMemberIdError } from '../errors.js';
import type { GroupHeartbeatRequest } from '../protocol/broker-api.js';
import type { GroupCoordinator, GroupEvent } from './coordinator.js';
import { validateJoin } from './group-state.js';
import { agentStep, initialAgentState, isSettling, type AgentEvent, type AgentState, type TopicPartitions } from './member-agent.js';

/** An agent's answer to a heartbeat (before the broker adds committed offsets and the leader). */
export interface AgentAnswer {
  memberEpoch: number;
  protocol: string;
  assignment: TopicPartitions;
  rebalancing: boolean;
  fenced: boolean;
}

interface Entry {
  state: AgentState;
  req: GroupHeartbeatRequest;
  timer: (() => void) | undefined;
  waiters: (() => void)[];
}

const key = (groupId: string, memberId: string) => `${groupId}\u0000${memberId}`;

/** Join retries of an agent (a join superseded or refused for a moment). */
const RETRY = { initialRetryTime: 100, multiplier: 2, maxRetryTime: 2000 };

/** Every broker-side member of one coordinator. */
export class MemberAgents {
  private agents = new Map<string, Entry>();

  constructor(
    private readonly c: GroupCoordinator,
    private readonly o: { now(): number; setTimer(fn: () => void, ms: number): () => void },
  ) {}

  /** A coordinator event: rebalances reach the group's agents; members gone from it are dropped. */
  onGroupEvent(e: GroupEvent): void {
    const members = new Set(this.c.describeGroup(e.groupId).members.map((m) => m.memberId));
    for (const [k, entry] of [...this.agents]) {
      if (entry.req.groupId !== e.groupId) continue;
      if (!members.has(entry.req.memberId) && !isSettling(entry.state) && entry.state.phase !== 'idle') {
        this.drop(k);
        continue;
      }
      if (e.type === 'rebalance') this.dispatch(entry, { type: 'rebalance', generationId: e.generationId, now: this.o.now() });
    }
  }

  /** A member's heartbeat: resolves with its epoch and target once no join of it is under way. */
  async heartbeat(req: GroupHeartbeatRequest): Promise<AgentAnswer> {
    if (!Number.isInteger(req.memberEpoch)) throw new InvalidArgumentError('memberEpoch must be an integer', { details: { field: 'memberEpoch' } });
    validateJoin({ ...req, owned: req.owned });
    const k = key(req.groupId, req.memberId);
    let entry = this.agents.get(k);
    if (entry && req.memberEpoch < 0 && entry.state.generationId >= 0) {
      // The member starts over under the same id (it was fenced, or run() again): a fresh agent.
      this.drop(k);
      entry = undefined;
    }
    if (!entry) {
      if (req.memberEpoch >= 0) {
        throw new UnknownMemberIdError(`member ${req.memberId} is not in group ${req.groupId}; rejoin`, {
          details: { groupId: req.groupId, memberId: req.memberId, generationId: req.memberEpoch },
        });
      }
      entry = {
        state: initialAgentState({ cooperative: req.protocols.every((p) => p === 'cooperative-sticky'), retry: RETRY }),
        req, timer: undefined, waiters: [],
      };
      this.agents.set(k, entry);
    }
    entry.req = req;
    const e = entry;
    this.dispatch(e, { type: 'heartbeat', owned: req.owned, topics: req.topics, now: this.o.now() });
    while (isSettling(e.state)) await new Promise<void>((r) => e.waiters.push(r));
    const s = e.state;
    if (s.phase === 'failed' || s.phase === 'stopped') {
      if (this.agents.get(k) === e) this.agents.delete(k);
      throw s.phase === 'failed' ? s.error : new UnknownMemberIdError(`member ${req.memberId} left group ${req.groupId}`, { details: { groupId: req.groupId, memberId: req.memberId } });
    }
    return { memberEpoch: s.generationId, protocol: s.protocol, assignment: s.target, rebalancing: s.phase !== 'stable', fenced: s.fenced };
  }

  /** The member leaves (stop or disconnect). Idempotent. */
  leave(groupId: string, memberId: string): void {
    const entry = this.agents.get(key(groupId, memberId));
    if (entry) this.dispatch(entry, { type: 'stop', now: this.o.now() });
    else this.c.leave({ groupId, memberId });
    this.drop(key(groupId, memberId));
  }

  /** The member's tab is gone: its agent goes (the coordinator removes the member itself). */
  gone(groupId: string, memberId: string): void {
    this.drop(key(groupId, memberId));
  }

  /** Stops every agent's timer; pending heartbeats end (their joins are rejected by the closing coordinator). */
  close(): void {
    for (const k of [...this.agents.keys()]) this.drop(k);
  }

  private drop(k: string): void {
    const entry = this.agents.get(k);
    if (!entry) return;
    this.agents.delete(k);
    entry.timer?.();
    if (isSettling(entry.state) || entry.state.phase === 'idle') entry.state = { ...entry.state, phase: 'stopped' };
    for (const f of entry.waiters.splice(0)) f();
  }

  private dispatch(entry: Entry, e: AgentEvent): void {
    const { state, commands } = agentStep(entry.state, e);
    entry.state = state;
    const r = entry.req;
    for (const cmd of commands) {
      switch (cmd.type) {
        case 'join':
          this.c.join({
            groupId: r.groupId, memberId: r.memberId, groupInstanceId: r.groupInstanceId ?? null, clientId: r.clientId,
            topics: cmd.topics, owned: cmd.owned, protocols: r.protocols, sessionTimeout: r.sessionTimeout, rebalanceTimeout: r.rebalanceTimeout,
          }).then(
            (res) => this.dispatch(entry, { type: 'joined', generationId: res.generationId, protocol: res.protocol, assignment: res.assignment, now: this.o.now() }),
            (error: unknown) => this.dispatch(entry, { type: 'joinFailed', retriable: isRebalancing(error) || (error instanceof LanesError && error.retriable), error, now: this.o.now() }),
          );
          break;
        case 'keepAlive': {
          let outcome: 'ok' | 'rebalancing' | 'fenced' = 'ok';
          try {
            this.c.heartbeat({ groupId: r.groupId, memberId: r.memberId, generationId: cmd.generationId });
          } catch (error) {
            outcome = isFenced(error) ? 'fenced' : 'rebalancing';
          }
          this.dispatch(entry, { type: 'keptAlive', generationId: cmd.generationId, outcome, now: this.o.now() });
          break;
        }
        case 'setTimer':
          entry.timer?.();
          entry.timer = this.o.setTimer(() => { entry.timer = undefined; this.dispatch(entry, { type: 'timer', timer: cmd.timer, now: this.o.now() }); }, cmd.ms);
          break;
        case 'clearTimer':
          entry.timer?.();
          entry.timer = undefined;
          break;
        case 'leave':
          this.c.leave({ groupId: r.groupId, memberId: r.memberId });
          break;
      }
    }
    if (!isSettling(entry.state)) for (const f of entry.waiters.splice(0)) f();
  }
}
