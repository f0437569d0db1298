/**
 * The broker-side member (member-agent.ts) alone: events in, commands out, a fake clock and a
 * manual timer queue (setTimer commands), no coordinator and no waits. Drives joins, rebalances
 * (eager and cooperative), revocation of moved partitions and its acknowledgement by the tab,
 * heartbeat loss, fencing, join retries, subscription changes and stop.
 *
 * (The tab's side, now only reconciliation, is covered where it meets the real broker: the
 * handler heartbeat throttle and the interval commit in test/group/consumer-commit-and-heartbeat,
 * the slow handler during eager and cooperative rebalances in test/group/consumer-group-assignment.)
 */
import { describe, expect, it } from 'vitest';
import {
  agentStep, initialAgentState, isSettling, minus, type AgentCommand, type AgentConfig, type AgentEvent, type AgentState, type AgentTimer,
  type TopicPartitions,
} from '../../src/group/member-agent.js';

type Ev = AgentEvent extends infer E ? E extends { now: number } ? Omit<E, 'now'> : never : never;

/** An agent with a fake clock: timers set by commands fire on advance(). */
class Harness {
  now = 0;
  state: AgentState;
  private timers = new Map<AgentTimer, number>();

  constructor(over: Partial<AgentConfig> = {}) {
    this.state = initialAgentState({ cooperative: true, retry: { initialRetryTime: 50, multiplier: 2, maxRetryTime: 150 }, ...over });
  }

  /** Feeds one event; returns the commands it produced (timers are recorded, not returned). */
  send(e: Ev): AgentCommand[] {
    const { state, commands } = agentStep(this.state, { ...e, now: this.now } as AgentEvent);
    this.state = state;
    for (const c of commands) {
      if (c.type === 'setTimer') this.timers.set(c.timer, this.now + c.ms);
      if (c.type === 'clearTimer') this.timers.delete(c.timer);
    }
    return commands.filter((c) => c.type !== 'setTimer' && c.type !== 'clearTimer');
  }

  /** A tab heartbeat reporting `owned` (and topics ['t']). */
  beat(owned: TopicPartitions, topics = ['t']): AgentCommand[] {
    return this.send({ type: 'heartbeat', owned, topics });
  }

  /** Moves the clock, firing due timers in time order; returns the commands they produced. */
  advance(ms: number): AgentCommand[] {
    const end = this.now + ms;
    const out: AgentCommand[] = [];
    for (;;) {
      const due = [...this.timers].filter(([, at]) => at <= end).sort((a, b) => a[1] - b[1])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1];
      out.push(...this.send({ type: 'timer', timer: due[0] }));
    }
    this.now = end;
    return out;
  }

  timer(t: AgentTimer): number | undefined {
    return this.timers.get(t);
  }

  /** The first heartbeat and its join, answered with `assignment`. */
  joinWith(assignment: TopicPartitions, generationId = 1): void {
    this.beat({});
    this.send({ type: 'joined', generationId, protocol: 'cooperative-sticky', assignment });
  }
}

const types = (cs: AgentCommand[]) => cs.map((c) => c.type);

describe('joining', () => {
  it('the first heartbeat joins owning nothing; the answer waits for the join, then carries the assignment as the target', () => {
    const h = new Harness();
    expect(h.beat({})).toEqual([{ type: 'join', owned: {}, topics: ['t'] }]);
    expect(h.state.phase).toBe('joining');
    expect(isSettling(h.state)).toBe(true);
    expect(h.send({ type: 'joined', generationId: 1, protocol: 'cooperative-sticky', assignment: { t: [0, 1] } })).toEqual([]);
    expect(h.state).toMatchObject({ phase: 'stable', generationId: 1, target: { t: [0, 1] }, stale: false });
    expect(isSettling(h.state)).toBe(false);
  });

  it('a retriable join failure retries after a growing backoff (capped); a fatal one fails', () => {
    const h = new Harness();
    h.beat({});
    expect(h.send({ type: 'joinFailed', retriable: true, error: new Error('busy') })).toEqual([]);
    expect(h.state.phase).toBe('backoff');
    expect(isSettling(h.state)).toBe(true); // the tab's answer still waits
    expect(h.advance(49)).toEqual([]);
    expect(h.advance(1)).toEqual([{ type: 'join', owned: {}, topics: ['t'] }]);
    h.send({ type: 'joinFailed', retriable: true, error: new Error('busy') });
    expect(h.advance(99)).toEqual([]);
    expect(types(h.advance(1))).toEqual(['join']);
    h.send({ type: 'joinFailed', retriable: true, error: new Error('busy') });
    expect(h.timer('retryJoin')).toBe(h.now + 150); // 200, capped at maxRetryTime
    h.advance(150);
    const fatal = new Error('no common assignor');
    expect(h.send({ type: 'joinFailed', retriable: false, error: fatal })).toEqual([]);
    expect(h.state).toMatchObject({ phase: 'failed', error: fatal });
    expect(h.advance(10_000)).toEqual([]); // every timer cleared
    expect(h.beat({})).toEqual([]);
  });

  it('a join answer that comes after stop is ignored', () => {
    const h = new Harness();
    h.beat({});
    h.send({ type: 'stop' });
    expect(h.send({ type: 'joined', generationId: 1, protocol: 'p', assignment: { t: [0] } })).toEqual([]);
    expect(h.state.target).toEqual({});
  });
});

describe('heartbeats', () => {
  it('every tab heartbeat checks liveness with the coordinator while stable, none while a join is pending', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    expect(h.beat({ t: [0] })).toEqual([{ type: 'keepAlive', generationId: 1 }]);
    h.send({ type: 'keptAlive', generationId: 1, outcome: 'ok' });
    expect(types(h.beat({ t: [0] }))).toEqual(['keepAlive']);
    h.send({ type: 'keptAlive', generationId: 1, outcome: 'ok' });
    h.send({ type: 'rebalance', generationId: 1 }); // cooperative: joins at once
    expect(h.state.phase).toBe('joining');
    expect(h.beat({ t: [0] })).toEqual([]);
    expect(h.state.owned).toEqual({ t: [0] }); // still recorded
  });

  it('a liveness check still in flight is not doubled', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    expect(types(h.beat({ t: [0] }))).toEqual(['keepAlive']);
    expect(h.beat({ t: [0] })).toEqual([]); // no answer yet
    h.send({ type: 'keptAlive', generationId: 1, outcome: 'ok' });
    expect(types(h.beat({ t: [0] }))).toEqual(['keepAlive']);
  });

  it('heartbeat loss: the coordinator no longer knows the member; the tab gives up everything, uncommitted, then it rejoins', () => {
    const h = new Harness();
    h.joinWith({ t: [0, 1] });
    h.beat({ t: [0, 1] });
    expect(h.send({ type: 'keptAlive', generationId: 1, outcome: 'fenced' })).toEqual([]);
    expect(h.state).toMatchObject({ phase: 'revoking', stale: true, fenced: true, target: {} });
    expect(types(h.beat({ t: [0, 1] }))).toEqual(['keepAlive']); // not yet given up
    h.send({ type: 'keptAlive', generationId: 1, outcome: 'fenced' });
    expect(h.beat({})).toEqual([{ type: 'join', owned: {}, topics: ['t'] }]);
    h.send({ type: 'joined', generationId: 5, protocol: 'cooperative-sticky', assignment: { t: [1] } });
    expect(h.state).toMatchObject({ phase: 'stable', generationId: 5, stale: false, fenced: false, target: { t: [1] } });
  });

  it('a fencing answer about an older generation does not fence the member again', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    h.beat({ t: [0] }); // a check of generation 1 is in flight...
    h.send({ type: 'rebalance', generationId: 1 });
    h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0] } });
    expect(h.send({ type: 'keptAlive', generationId: 1, outcome: 'fenced' })).toEqual([]); // ...and answers late
    expect(h.state).toMatchObject({ phase: 'stable', fenced: false, target: { t: [0] } });
  });

  it('a liveness check answered RebalanceInProgress starts a rejoin', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    h.beat({ t: [0] });
    expect(h.send({ type: 'keptAlive', generationId: 1, outcome: 'rebalancing' })).toEqual([{ type: 'join', owned: { t: [0] }, topics: ['t'] }]);
  });
});

describe('cooperative rebalance', () => {
  it('rejoins at once reporting what the member owns; the target stays whole meanwhile', () => {
    const h = new Harness();
    h.joinWith({ t: [0, 1] });
    expect(h.send({ type: 'rebalance', generationId: 1 })).toEqual([{ type: 'join', owned: { t: [0, 1] }, topics: ['t'] }]);
    expect(h.state).toMatchObject({ stale: false, target: { t: [0, 1] } });
  });

  it('revokes only what moved: the target drops it; the tab acknowledges (no longer owns it), then the agent rejoins owning the rest', () => {
    const h = new Harness();
    h.joinWith({ t: [0, 1, 2] });
    h.send({ type: 'rebalance', generationId: 1 });
    expect(h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0, 2] } })).toEqual([]);
    expect(h.state).toMatchObject({ phase: 'revoking', stale: false, target: { t: [0, 2] }, revoking: { t: [1] } });
    expect(isSettling(h.state)).toBe(false); // the answer goes out: the tab must stop partition 1
    // The handler on partition 1 is slow: the tab's heartbeats still report it, and keep the member alive.
    expect(h.beat({ t: [0, 1, 2] })).toEqual([{ type: 'keepAlive', generationId: 2 }]);
    h.send({ type: 'keptAlive', generationId: 2, outcome: 'ok' });
    // Stopped and committed: the acknowledgement.
    expect(h.beat({ t: [0, 2] })).toEqual([{ type: 'join', owned: { t: [0, 2] }, topics: ['t'] }]);
    h.send({ type: 'joined', generationId: 3, protocol: 'cooperative-sticky', assignment: { t: [0, 2] } });
    expect(h.state).toMatchObject({ phase: 'stable', generationId: 3, revoking: {}, target: { t: [0, 2] } });
  });

  it('a rebalance heard while revoking waits for the acknowledgement', () => {
    const h = new Harness();
    h.joinWith({ t: [0, 1] });
    h.send({ type: 'rebalance', generationId: 1 });
    h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0] } });
    expect(h.send({ type: 'rebalance', generationId: 2 })).toEqual([]);
    expect(h.state.phase).toBe('revoking');
    expect(types(h.beat({ t: [0] }))).toEqual(['join']);
  });

  it('fenced while revoking: gives up everything instead', () => {
    const h = new Harness();
    h.joinWith({ t: [0, 1] });
    h.send({ type: 'rebalance', generationId: 1 });
    h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0] } });
    h.beat({ t: [0, 1] });
    expect(h.send({ type: 'keptAlive', generationId: 2, outcome: 'fenced' })).toEqual([]);
    expect(h.state).toMatchObject({ stale: true, fenced: true, target: {} });
    expect(types(h.beat({ t: [0] }))).toEqual(['keepAlive']); // partition 1 released, 0 not yet
    h.send({ type: 'keptAlive', generationId: 2, outcome: 'fenced' });
    expect(h.beat({})).toEqual([{ type: 'join', owned: {}, topics: ['t'] }]);
  });

  it('a rebalance heard while joining is for our round unless it names the generation we get', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    h.send({ type: 'rebalance', generationId: 1 });
    h.send({ type: 'rebalance', generationId: 1 }); // the same round, heard twice
    expect(types(h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0] } }))).not.toContain('join');
    h.send({ type: 'rebalance', generationId: 2 }); // the next round: we join it...
    expect(h.state.phase).toBe('joining');
    h.send({ type: 'rebalance', generationId: 2 }); // ...and hear it again (liveness answer) while joining
    expect(types(h.send({ type: 'joined', generationId: 3, protocol: 'cooperative-sticky', assignment: { t: [0] } }))).not.toContain('join');
    expect(h.state.phase).toBe('stable');
  });

  it('a rebalance signal from a round we already took part in is ignored', () => {
    const h = new Harness();
    h.joinWith({ t: [0] }, 4);
    expect(h.send({ type: 'rebalance', generationId: 3 })).toEqual([]);
    expect(h.state.phase).toBe('stable');
  });

  it('a newer round that started while our join was pending makes us join again', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    h.send({ type: 'rebalance', generationId: 1 });
    h.send({ type: 'rebalance', generationId: 2 }); // a round after the one we are joining
    expect(h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0] } })).toEqual([
      { type: 'join', owned: { t: [0] }, topics: ['t'] },
    ]);
  });

  it('a subscription that changes (a pattern matched a new topic) rejoins with the new topics', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    expect(h.beat({ t: [0] }, ['t', 'u'])).toEqual([{ type: 'join', owned: { t: [0] }, topics: ['t', 'u'] }]);
    h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0], u: [0] } });
    expect(types(h.beat({ t: [0], u: [0] }, ['u', 't']))).toEqual(['keepAlive']); // same set, other order
  });
});

describe('eager rebalance', () => {
  it('empties the target; once the tab gave everything up (and committed it) the agent joins owning nothing', () => {
    const h = new Harness({ cooperative: false });
    h.joinWith({ t: [0, 1] });
    expect(h.send({ type: 'rebalance', generationId: 1 })).toEqual([]);
    expect(h.state).toMatchObject({ phase: 'revoking', stale: true, fenced: false, target: {} });
    expect(types(h.beat({ t: [1] }))).toEqual(['keepAlive']); // still draining partition 1
    h.send({ type: 'keptAlive', generationId: 1, outcome: 'rebalancing' });
    expect(h.state.phase).toBe('revoking');
    expect(h.beat({})).toEqual([{ type: 'join', owned: {}, topics: ['t'] }]);
    h.send({ type: 'joined', generationId: 2, protocol: 'range', assignment: { t: [1] } });
    expect(h.state).toMatchObject({ phase: 'stable', stale: false, target: { t: [1] } });
  });

  it('a rebalance that comes while giving up is taken by the coming join', () => {
    const h = new Harness({ cooperative: false });
    h.joinWith({ t: [0] });
    h.send({ type: 'rebalance', generationId: 1 });
    expect(h.send({ type: 'rebalance', generationId: 1 })).toEqual([]);
    expect(h.state.phase).toBe('revoking');
  });
});

describe('stop', () => {
  it('clears the retry timer and leaves; nothing after', () => {
    const h = new Harness();
    h.beat({});
    h.send({ type: 'joinFailed', retriable: true, error: new Error('busy') });
    expect(h.send({ type: 'stop' })).toEqual([{ type: 'leave' }]);
    expect(h.advance(10_000)).toEqual([]);
    expect(h.send({ type: 'rebalance', generationId: 5 })).toEqual([]);
    expect(h.beat({ t: [0] })).toEqual([]);
    expect(h.state).toMatchObject({ phase: 'stopped', target: {} });
  });

  it('a stable member leaves at once', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    expect(h.send({ type: 'stop' })).toEqual([{ type: 'leave' }]);
  });
});

describe('minus', () => {
  it('keeps the partitions of a that b lacks', () => {
    expect(minus({ t: [0, 1, 2], u: [0] }, { t: [1], u: [0] })).toEqual({ t: [0, 2] });
  });
});

describe('topics named like Object.prototype members', () => {
  it('minus reads only own entries and keeps __proto__ as data', () => {
    const a = JSON.parse('{"__proto__": [0, 1], "constructor": [2], "toString": [0]}') as TopicPartitions;
    const out = minus(a, { toString: [0] });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.entries(out)).toEqual([['__proto__', [0, 1]], ['constructor', [2]]]);
  });

  it('a cooperative rebalance revokes a moved partition of topic constructor and keeps __proto__', () => {
    const h = new Harness();
    const topics = ['constructor', '__proto__'];
    // Computed keys: `{ __proto__: [...] }` would set the literal's prototype instead.
    h.beat({}, topics);
    h.send({ type: 'joined', generationId: 1, protocol: 'cooperative-sticky', assignment: { constructor: [0, 1], ['__proto__']: [0] } });
    h.send({ type: 'rebalance', generationId: 1 });
    h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { constructor: [0], ['__proto__']: [0] } });
    expect(h.state.phase).toBe('revoking');
    expect(Object.entries(h.state.revoking)).toEqual([['constructor', [1]]]);
    expect(h.beat({ constructor: [0], ['__proto__']: [0] }, topics)).toEqual([{ type: 'join', owned: { constructor: [0], ['__proto__']: [0] }, topics }]);
    h.send({ type: 'joined', generationId: 3, protocol: 'cooperative-sticky', assignment: { constructor: [0], ['__proto__']: [0] } });
    expect(h.state.phase).toBe('stable');
    expect(Object.entries(h.state.target)).toEqual([['constructor', [0]], ['__proto__', [0]]]);
  });
});
