/**
 * The membership state machine alone: events in, commands out, a fake clock and a manual timer
 * queue (setTimer commands), no broker and no waits. Drives joins, rebalances (eager and
 * cooperative), revocation of moved partitions, heartbeats and their loss, fencing, join
 * retries and stop.
 */
import { describe, expect, it } from 'vitest';
import {
  initialMemberState, memberStep, minus, type MemberCommand, type MemberConfig, type MemberEvent, type MemberState, type MemberTimer,
} from '../../../src/client/consumer/membership-state.js';
import { retryConfig } from '../../../src/client/retry.js';

type Ev = MemberEvent extends infer E ? E extends { now: number } ? Omit<E, 'now'> : never : never;

/** A membership with a fake clock: timers set by commands fire on advance(). */
class Harness {
  now = 0;
  state: MemberState;
  /** Every command so far, oldest first. */
  log: MemberCommand[] = [];
  private timers = new Map<MemberTimer, number>();

  constructor(over: Partial<MemberConfig> = {}) {
    this.state = initialMemberState({
      cooperative: true, heartbeatInterval: 100, autoCommit: true, autoCommitInterval: 1000,
      retry: retryConfig({ initialRetryTime: 50, factor: 0, multiplier: 2, maxRetryTime: 1000 }), random: () => 0.5,
      ...over,
    });
  }

  /** Feeds one event; returns the commands it produced (timers are recorded, not returned). */
  send(e: Ev): MemberCommand[] {
    const { state, commands } = memberStep(this.state, { ...e, now: this.now } as MemberEvent);
    this.state = state;
    this.log.push(...commands);
    for (const c of commands) {
      if (c.type === 'setTimer') this.timers.set(c.timer, this.now + c.ms);
      if (c.type === 'clearTimer') this.timers.delete(c.timer);
    }
    return commands.filter((c) => c.type !== 'setTimer' && c.type !== 'clearTimer');
  }

  /** Moves the clock, firing due timers in time order; returns the commands they produced. */
  advance(ms: number): MemberCommand[] {
    const end = this.now + ms;
    const out: MemberCommand[] = [];
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

  timer(t: MemberTimer): number | undefined {
    return this.timers.get(t);
  }

  /** Starts and completes the first join with `assignment`. */
  joinWith(assignment: { [topic: string]: number[] }, generationId = 1): void {
    this.send({ type: 'start' });
    this.send({ type: 'joined', generationId, protocol: 'cooperative-sticky', assignment });
  }
}

const types = (cs: MemberCommand[]) => cs.map((c) => c.type);

describe('joining', () => {
  it('start joins owning nothing; the result assigns, settles and starts heartbeats and the commit timer', () => {
    const h = new Harness();
    expect(h.send({ type: 'start' })).toEqual([{ type: 'rebalancing' }, { type: 'join', owned: {} }]);
    expect(h.state.phase).toBe('joining');
    expect(h.timer('commit')).toBe(1000);
    const out = h.send({ type: 'joined', generationId: 1, protocol: 'cooperative-sticky', assignment: { t: [0, 1] } });
    expect(out).toEqual([
      { type: 'assign', assignment: { t: [0, 1] }, revoked: {} },
      { type: 'groupJoin', generationId: 1, protocol: 'cooperative-sticky', assignment: { t: [0, 1] } },
      { type: 'settled' },
    ]);
    expect(h.state).toMatchObject({ phase: 'stable', generationId: 1, stale: false });
    expect(h.timer('heartbeat')).toBe(100);
  });

  it('a retriable join failure retries after a growing backoff; a fatal one fails', () => {
    const h = new Harness();
    h.send({ type: 'start' });
    expect(h.send({ type: 'joinFailed', retriable: true, error: new Error('busy') })).toEqual([]);
    expect(h.state.phase).toBe('backoff');
    expect(h.advance(49)).toEqual([]);
    expect(h.advance(1)).toEqual([{ type: 'join', owned: {} }]);
    h.send({ type: 'joinFailed', retriable: true, error: new Error('busy') });
    expect(h.advance(99)).toEqual([]);
    expect(types(h.advance(1))).toEqual(['join']);
    const fatal = new Error('no common assignor');
    expect(h.send({ type: 'joinFailed', retriable: false, error: fatal })).toEqual([{ type: 'failed', error: fatal }]);
    expect(h.state.phase).toBe('failed');
    expect(h.advance(10_000)).toEqual([]); // every timer cleared
  });

  it('a join answer that comes after stop is ignored', () => {
    const h = new Harness();
    h.send({ type: 'start' });
    h.send({ type: 'stop' });
    expect(h.send({ type: 'joined', generationId: 1, protocol: 'p', assignment: { t: [0] } })).toEqual([]);
  });
});

describe('heartbeats', () => {
  it('one per heartbeatInterval while stable, none while a join is pending', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    expect(h.advance(100)).toEqual([{ type: 'heartbeat', generationId: 1 }]);
    h.send({ type: 'heartbeatDone', generationId: 1, outcome: 'ok' });
    expect(types(h.advance(100))).toEqual(['heartbeat']);
    h.send({ type: 'heartbeatDone', generationId: 1, outcome: 'ok' });
    h.send({ type: 'rebalance', generationId: 1 }); // cooperative: joins at once
    expect(h.state.phase).toBe('joining');
    expect(h.advance(500).filter((c) => c.type === 'heartbeat')).toEqual([]);
  });

  it('a heartbeat still in flight is not doubled', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    expect(types(h.advance(100))).toEqual(['heartbeat']);
    expect(h.advance(100)).toEqual([]); // no answer yet
    h.send({ type: 'heartbeatDone', generationId: 1, outcome: 'ok' });
    expect(types(h.advance(100))).toEqual(['heartbeat']);
  });

  it('handlers asking for heartbeats make one call per interval however often they ask', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    h.now = 10;
    const first = Array.from({ length: 50 }, () => h.send({ type: 'heartbeatRequested' })).flat();
    expect(first).toEqual([{ type: 'heartbeat', generationId: 1 }]);
    h.send({ type: 'heartbeatDone', generationId: 1, outcome: 'ok' });
    h.now = 60;
    expect(Array.from({ length: 50 }, () => h.send({ type: 'heartbeatRequested' })).flat()).toEqual([]);
    // The timer counts the handler's heartbeat: the next one is due 100 ms after it, not before.
    expect(h.advance(40)).toEqual([]);
    expect(types(h.advance(70))).toEqual(['heartbeat']);
    expect(h.now).toBe(170);
  });

  it('heartbeat loss: an answer saying the member is unknown fences it; it drains, skips the commit, gives up everything and rejoins', () => {
    const h = new Harness();
    h.joinWith({ t: [0, 1] });
    h.advance(100);
    expect(h.send({ type: 'heartbeatDone', generationId: 1, outcome: 'fenced' })).toEqual([{ type: 'rebalancing' }, { type: 'drain', partitions: 'all' }]);
    expect(h.state).toMatchObject({ phase: 'draining', stale: true, fenced: true });
    expect(h.send({ type: 'drained' })).toEqual([
      { type: 'assign', assignment: {}, revoked: { t: [0, 1] } },
      { type: 'join', owned: {} },
    ]);
    h.send({ type: 'joined', generationId: 5, protocol: 'cooperative-sticky', assignment: { t: [1] } });
    expect(h.state).toMatchObject({ phase: 'stable', generationId: 5, stale: false, fenced: false, assignment: { t: [1] } });
  });

  it('a fencing answer about an older generation does not fence the member again', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    h.send({ type: 'rebalance', generationId: 1 });
    h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0] } });
    expect(h.send({ type: 'heartbeatDone', generationId: 1, outcome: 'fenced' })).toEqual([]);
    expect(h.send({ type: 'fenced', generationId: 1 })).toEqual([]);
    expect(h.state).toMatchObject({ phase: 'stable', fenced: false });
  });

  it('a heartbeat answered RebalanceInProgress starts a rejoin', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    h.advance(100);
    expect(h.send({ type: 'heartbeatDone', generationId: 1, outcome: 'rebalancing' })).toEqual([{ type: 'rebalancing' }, { type: 'join', owned: { t: [0] } }]);
  });
});

describe('cooperative rebalance', () => {
  it('rejoins at once reporting what it owns, never stale: the runner goes on', () => {
    const h = new Harness();
    h.joinWith({ t: [0, 1] });
    expect(h.send({ type: 'rebalance', generationId: 1 })).toEqual([{ type: 'rebalancing' }, { type: 'join', owned: { t: [0, 1] } }]);
    expect(h.state.stale).toBe(false);
  });

  it('revokes only what moved: drains those partitions, commits them, then rejoins owning the rest', () => {
    const h = new Harness();
    h.joinWith({ t: [0, 1, 2] });
    h.send({ type: 'rebalance', generationId: 1 });
    const out = h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0, 2] } });
    expect(out).toEqual([
      { type: 'assign', assignment: { t: [0, 2] }, revoked: { t: [1] } },
      { type: 'groupJoin', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0, 2] } },
      { type: 'settled' },
      { type: 'drain', partitions: { t: [1] } },
    ]);
    expect(h.state).toMatchObject({ phase: 'draining', stale: false });
    // The handler on partition 1 is slow: heartbeats go on meanwhile, nothing else happens.
    expect(types(h.advance(100))).toEqual(['heartbeat']);
    h.send({ type: 'heartbeatDone', generationId: 2, outcome: 'ok' });
    expect(h.send({ type: 'drained' })).toEqual([{ type: 'commit', partitions: { t: [1] }, reason: 'revoke' }]);
    expect(h.send({ type: 'committed', reason: 'revoke' })).toEqual([{ type: 'join', owned: { t: [0, 2] } }]);
    h.send({ type: 'joined', generationId: 3, protocol: 'cooperative-sticky', assignment: { t: [0, 2] } });
    expect(h.state).toMatchObject({ phase: 'stable', generationId: 3, revoking: {} });
  });

  it('an interval commit while revoking does not end the revocation', () => {
    const h = new Harness();
    h.joinWith({ t: [0, 1] });
    h.send({ type: 'rebalance', generationId: 1 });
    h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0] } });
    h.send({ type: 'drained' });
    expect(h.send({ type: 'committed', reason: 'interval' })).toEqual([]);
    expect(h.state.phase).toBe('committing');
  });

  it('without autoCommit a revoked partition is released without a commit', () => {
    const h = new Harness({ autoCommit: false, autoCommitInterval: null });
    h.joinWith({ t: [0, 1] });
    h.send({ type: 'rebalance', generationId: 1 });
    h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0] } });
    expect(h.send({ type: 'drained' })).toEqual([{ type: 'join', owned: { t: [0] } }]);
  });

  it('fenced while revoking: gives up everything instead', () => {
    const h = new Harness();
    h.joinWith({ t: [0, 1] });
    h.send({ type: 'rebalance', generationId: 1 });
    h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0] } });
    expect(h.send({ type: 'fenced', generationId: 2 })).toEqual([{ type: 'drain', partitions: 'all' }]);
    expect(h.state.stale).toBe(true);
    expect(h.send({ type: 'drained' })).toEqual([
      { type: 'assign', assignment: {}, revoked: { t: [0] } },
      { type: 'join', owned: {} },
    ]);
  });

  it('a rebalance heard while joining is for our round unless it names the generation we get', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    h.send({ type: 'rebalance', generationId: 1 });
    h.send({ type: 'rebalance', generationId: 1 }); // the same round, heard twice
    expect(h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0] } }).map((c) => c.type)).not.toContain('join');
    h.send({ type: 'rebalance', generationId: 2 }); // the next round: we join it...
    expect(h.state.phase).toBe('joining');
    h.send({ type: 'rebalance', generationId: 2 }); // ...and hear it again (heartbeat answer) while joining
    const out = h.send({ type: 'joined', generationId: 3, protocol: 'cooperative-sticky', assignment: { t: [0] } });
    expect(types(out)).not.toContain('join');
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
    const out = h.send({ type: 'joined', generationId: 2, protocol: 'cooperative-sticky', assignment: { t: [0] } });
    expect(out.slice(-2)).toEqual([{ type: 'rebalancing' }, { type: 'join', owned: { t: [0] } }]);
  });
});

describe('eager rebalance', () => {
  it('stale, drains the runner, commits everything, gives it up, then joins owning nothing', () => {
    const h = new Harness({ cooperative: false });
    h.joinWith({ t: [0, 1] });
    expect(h.send({ type: 'rebalance', generationId: 1 })).toEqual([{ type: 'rebalancing' }, { type: 'drain', partitions: 'all' }]);
    expect(h.state.stale).toBe(true);
    expect(h.advance(1000).filter((c) => c.type === 'commit')).toEqual([]); // no interval commit while stale
    expect(h.send({ type: 'drained' })).toEqual([{ type: 'commit', partitions: 'all', reason: 'revoke' }]);
    expect(h.send({ type: 'committed', reason: 'revoke' })).toEqual([
      { type: 'assign', assignment: {}, revoked: { t: [0, 1] } },
      { type: 'join', owned: {} },
    ]);
    expect(h.state.stale).toBe(true);
    h.send({ type: 'joined', generationId: 2, protocol: 'range', assignment: { t: [1] } });
    expect(h.state).toMatchObject({ phase: 'stable', stale: false, assignment: { t: [1] } });
  });

  it('a rebalance that comes while draining is taken by the coming join', () => {
    const h = new Harness({ cooperative: false });
    h.joinWith({ t: [0] });
    h.send({ type: 'rebalance', generationId: 1 });
    expect(h.send({ type: 'rebalance', generationId: 1 })).toEqual([]);
  });
});

describe('auto-commit timer', () => {
  it('commits every interval whether or not records arrive, and not before the first assignment', () => {
    const h = new Harness({ autoCommitInterval: 300, heartbeatInterval: 10_000 });
    h.send({ type: 'start' });
    expect(h.advance(300)).toEqual([]); // no generation yet
    h.send({ type: 'joined', generationId: 1, protocol: 'cooperative-sticky', assignment: { t: [0] } });
    expect(h.advance(300)).toEqual([{ type: 'commit', partitions: 'all', reason: 'interval' }]);
    expect(h.advance(300)).toEqual([{ type: 'commit', partitions: 'all', reason: 'interval' }]);
  });

  it('no timer without autoCommit or without an interval', () => {
    for (const over of [{ autoCommit: false }, { autoCommitInterval: null }]) {
      const h = new Harness({ ...over, heartbeatInterval: 10_000 });
      h.joinWith({ t: [0] });
      expect(h.advance(5000)).toEqual([]);
    }
  });
});

describe('stop', () => {
  it('clears every timer, commits what it owns and leaves; nothing after', () => {
    const h = new Harness();
    h.joinWith({ t: [0] });
    expect(h.send({ type: 'stop' })).toEqual([{ type: 'commit', partitions: 'all', reason: 'leave' }, { type: 'leave' }]);
    expect(h.advance(10_000)).toEqual([]);
    expect(h.send({ type: 'rebalance', generationId: 5 })).toEqual([]);
    expect(h.send({ type: 'heartbeatRequested' })).toEqual([]);
  });

  it('a fenced or never-joined member leaves without committing', () => {
    const never = new Harness();
    never.send({ type: 'start' });
    expect(never.send({ type: 'stop' })).toEqual([{ type: 'leave' }]);
    const fenced = new Harness({ cooperative: false });
    fenced.joinWith({ t: [0] });
    fenced.send({ type: 'fenced', generationId: 1 });
    expect(fenced.send({ type: 'stop' })).toEqual([{ type: 'leave' }]);
  });
});

describe('minus', () => {
  it('keeps the partitions of a that b lacks', () => {
    expect(minus({ t: [0, 1, 2], u: [0] }, { t: [1], u: [0] })).toEqual({ t: [0, 2] });
  });
});
