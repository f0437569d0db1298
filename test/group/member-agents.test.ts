/**
 * The broker-side members' shell (member-agents.ts) over the real GroupCoordinator, with a fake
 * clock and a manual timer queue: a member's heartbeats are all the protocol it speaks. Shows a
 * cooperative handover (the target shrinks, the acknowledgement releases the partition, the
 * next round hands it on), an eager round, eviction after a missed session, and leave.
 */
import { describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../src/group/coordinator.js';
import { MemberAgents, type AgentAnswer } from '../../src/group/member-agents.js';
import type { GroupHeartbeatRequest } from '../../src/protocol/broker-api.js';
import { LanesError } from '../../src/errors.js';

class FakeTime {
  now = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  setTimer = (fn: () => void, ms: number) => {
    const t = { at: this.now + ms, fn, live: true };
    this.timers.push(t);
    return () => { t.live = false; };
  };
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.now = Math.max(this.now, due.at);
      due.fn();
    }
    this.now = end;
  }
}

function setup(partitions = 2) {
  const time = new FakeTime();
  let agents!: MemberAgents;
  const c = new GroupCoordinator({
    now: () => time.now, setTimer: time.setTimer, partitionCount: (t) => (t === 't' ? partitions : undefined),
    onGroupEvent: (e) => agents.onGroupEvent(e),
  });
  agents = new MemberAgents(c, { now: () => time.now, setTimer: time.setTimer });
  return { c, agents, time };
}

const hb = (memberId: string, memberEpoch: number, owned: Record<string, number[]>, protocols = ['cooperative-sticky']): GroupHeartbeatRequest => ({
  groupId: 'g', memberId, clientId: memberId, topics: ['t'], owned, protocols, memberEpoch, sessionTimeout: 1000, rebalanceTimeout: 5000,
});

/** Lets promise callbacks run (the coordinator resolves joins with promises). */
const flush = async () => { for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0)); };

/** Tracks a promise without awaiting it. */
function track<T>(p: Promise<T>) {
  const t: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then((v) => { t.done = true; t.value = v; }, (e: unknown) => { t.done = true; t.error = e; });
  return t;
}

describe('broker-side members over the coordinator', () => {
  it('cooperative: a second member gets a moved partition only after the first acknowledged giving it up', async () => {
    const { agents } = setup();
    const a1 = await agents.heartbeat(hb('A', -1, {}));
    expect(a1).toMatchObject({ memberEpoch: 1, assignment: { t: [0, 1] }, rebalancing: false, fenced: false });

    // B's first heartbeat waits for its round; A's agent rejoins for A at once.
    const b = track(agents.heartbeat(hb('B', -1, {})));
    await flush();
    expect(b.done).toBe(true);
    expect(b.value).toMatchObject({ memberEpoch: 2, assignment: { t: [] } });
    // A's next heartbeat learns the target: one partition moved (revoking, not yet acknowledged).
    const a2 = await agents.heartbeat(hb('A', 1, { t: [0, 1] }));
    expect(a2.memberEpoch).toBe(2);
    expect(a2.rebalancing).toBe(true);
    const moved = [0, 1].filter((p) => !a2.assignment.t!.includes(p));
    expect(moved).toHaveLength(1);
    // Still owned (a slow handler): nothing moves, the answer comes at once.
    expect((await agents.heartbeat(hb('A', 2, { t: [0, 1] }))).assignment).toEqual(a2.assignment);
    // Acknowledged: A's agent rejoins, the round completes with B's agent, and A's answer comes with it.
    const a3 = await agents.heartbeat(hb('A', 2, a2.assignment));
    expect(a3).toMatchObject({ memberEpoch: 3, assignment: a2.assignment, rebalancing: false });
    const b3 = await agents.heartbeat(hb('B', 2, {}));
    expect(b3).toMatchObject({ memberEpoch: 3, assignment: { t: moved } });
  });

  it('eager: every target empties; the round waits for both acknowledgements', async () => {
    const { agents, c } = setup();
    const range = ['range'];
    await agents.heartbeat(hb('A', -1, {}, range));
    const b = track(agents.heartbeat(hb('B', -1, {}, range)));
    await flush();
    expect(b.done).toBe(false); // A has not given its partitions up yet
    const a = await agents.heartbeat(hb('A', 1, { t: [0, 1] }, range));
    expect(a).toMatchObject({ memberEpoch: 1, assignment: {}, rebalancing: true });
    const a2 = track(agents.heartbeat(hb('A', 1, {}, range))); // given up and committed
    await flush();
    expect(b.done && a2.done).toBe(true);
    expect((a2.value as AgentAnswer).assignment).toEqual({ t: [0] });
    expect((b.value as AgentAnswer).assignment).toEqual({ t: [1] });
    expect(c.describeGroup('g')).toMatchObject({ state: 'Stable', generationId: 2 });
  });

  it('a member that misses its session is evicted; its next heartbeat is fenced and it rejoins from scratch', async () => {
    const { agents, time } = setup();
    await agents.heartbeat(hb('A', -1, {}));
    await agents.heartbeat(hb('B', -1, {}));
    await agents.heartbeat(hb('A', 1, { t: [0, 1] })); // learns the revocation...
    await agents.heartbeat(hb('A', 2, { t: [0] }));    // ...acknowledges; generation 3 hands partition 1 to B
    await agents.heartbeat(hb('B', 2, {}));
    for (let i = 0; i < 3; i++) { time.advance(600); await agents.heartbeat(hb('B', 3, { t: [1] })); }
    await flush();
    // A sent nothing for 1800 ms > sessionTimeout: evicted, its agent dropped.
    const e = await agents.heartbeat(hb('A', 3, { t: [0] })).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(LanesError);
    expect((e as LanesError).code).toBe('UNKNOWN_MEMBER_ID');
    const again = track(agents.heartbeat(hb('A', -1, {})));
    await flush();
    await agents.heartbeat(hb('B', 4, { t: [0, 1] }));
    await flush();
    expect(again.done).toBe(true);
    expect((again.value as AgentAnswer).memberEpoch).toBeGreaterThan(3);
  });

  it('leave removes the member at once; a pending first heartbeat of a member that leaves ends', async () => {
    const { agents, c } = setup();
    await agents.heartbeat(hb('A', -1, {}));
    agents.leave('g', 'A');
    expect(c.describeGroup('g').members).toEqual([]);
    const e = await agents.heartbeat(hb('A', 1, { t: [0, 1] })).then(() => undefined, (x: unknown) => x);
    expect((e as LanesError).code).toBe('UNKNOWN_MEMBER_ID');
  });
});
