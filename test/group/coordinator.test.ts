/**
 * GroupCoordinator as a pure state machine: a fake clock and a manual timer queue, no sleeps.
 */
import { describe, expect, it } from 'vitest';
import {
  GroupCoordinator, type CoordinatorOptions, type GroupEvent, type JoinRequest, type JoinResult,
} from '../../src/group/coordinator.js';
import { LanesError } from '../../src/errors.js';

/** A fake clock with a manual timer queue. */
class FakeTime {
  now = 0;
  private timers: { at: number; seq: number; fn: () => void; live: boolean }[] = [];
  private seq = 0;

  setTimer = (fn: () => void, ms: number): (() => void) => {
    const t = { at: this.now + ms, seq: this.seq++, fn, live: true };
    this.timers.push(t);
    return () => { t.live = false; };
  };

  /** Live timers. */
  get pending(): number {
    return this.timers.filter((t) => t.live).length;
  }

  /** Moves the clock forward by `ms`, firing due timers in order (each at its own time). */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      due.live = false;
      this.now = Math.max(this.now, due.at);
      due.fn();
    }
    this.now = end;
    this.timers = this.timers.filter((t) => t.live);
  }
}

interface Harness {
  c: GroupCoordinator;
  time: FakeTime;
  events: GroupEvent[];
  counts: Map<string, number>;
}

function setup(topics: Record<string, number> = { t: 4 }, extra: Partial<CoordinatorOptions> = {}): Harness {
  const time = new FakeTime();
  const events: GroupEvent[] = [];
  const counts = new Map(Object.entries(topics));
  const c = new GroupCoordinator({
    now: () => time.now,
    setTimer: time.setTimer,
    partitionCount: (t) => counts.get(t),
    onGroupEvent: (e) => events.push(e),
    ...extra,
  });
  return { c, time, events, counts };
}

function req(memberId: string, o: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: 'g', memberId, clientId: `client-${memberId}`, topics: ['t'], owned: {},
    protocols: ['range'], sessionTimeout: 10_000, rebalanceTimeout: 30_000, ...o,
  };
}

/** Tracks whether a promise settled, without awaiting it. */
function track<T>(p: Promise<T>): { settled: () => boolean; value: () => T; error: () => unknown; p: Promise<T> } {
  let state: 'pending' | 'ok' | 'err' = 'pending';
  let value: T | undefined;
  let error: unknown;
  p.then((v) => { state = 'ok'; value = v; }, (e: unknown) => { state = 'err'; error = e; });
  return { settled: () => state !== 'pending', value: () => value as T, error: () => error, p };
}

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** `topic-partition` strings of a join result's assignment, sorted. */
function partitions(r: JoinResult): string[] {
  return Object.entries(r.assignment).flatMap(([t, ps]) => ps.map((p) => `${t}-${p}`)).sort();
}

function expectThrowsCode(fn: () => unknown, code: string): LanesError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LanesError);
    expect((e as LanesError).code).toBe(code);
    return e as LanesError;
  }
  throw new Error(`expected ${code}, nothing thrown`);
}

/** A and B in a Stable group at generation 2 (range, t = 4). */
async function twoMembers(h: Harness, o: Partial<JoinRequest> = {}): Promise<{ a: JoinResult; b: JoinResult }> {
  await h.c.join(req('A', o));
  const b = h.c.join(req('B', o));
  const a = h.c.join(req('A', o));
  const [ra, rb] = await Promise.all([a, b]);
  return { a: ra, b: rb };
}

describe('GroupCoordinator', () => {
  describe('rounds', () => {
    it('gives the first member everything, in generation 1', async () => {
      const h = setup();
      const r = await h.c.join(req('A'));
      expect(r).toEqual({ groupId: 'g', memberId: 'A', generationId: 1, protocol: 'range', assignment: { t: [0, 1, 2, 3] } });
      expect(h.events.map((e) => [e.type, e.generationId])).toEqual([['rebalance', 0], ['stable', 1]]);
      expect(h.c.describeGroup('g')).toEqual({
        groupId: 'g', state: 'Stable', protocol: 'range', protocolType: 'consumer', generationId: 1,
        members: [{ memberId: 'A', clientId: 'client-A', groupInstanceId: null, topics: ['t'], assignment: { t: [0, 1, 2, 3] } }],
      });
      expect(h.c.listGroups()).toEqual([{ groupId: 'g', protocolType: 'consumer', state: 'Stable' }]);
    });

    it.each(['range', 'cooperative-sticky'])('a second member makes the first rejoin; both get generation 2, balanced (%s)', async (protocol) => {
      const h = setup();
      const first = await h.c.join(req('A', { protocols: [protocol] }));
      h.events.length = 0;
      const b = track(h.c.join(req('B', { protocols: [protocol] })));
      await flush();
      expect(b.settled()).toBe(false);
      expect(h.events).toEqual([{ groupId: 'g', type: 'rebalance', generationId: 1 }]);
      expect(h.c.describeGroup('g').state).toBe('PreparingRebalance');
      expectThrowsCode(() => h.c.heartbeat({ groupId: 'g', memberId: 'A', generationId: 1 }), 'REBALANCE_IN_PROGRESS');

      const owned = protocol === 'cooperative-sticky' ? first.assignment : {};
      const [a, rb] = await Promise.all([h.c.join(req('A', { protocols: [protocol], owned })), b.p]);
      expect([a.generationId, rb.generationId]).toEqual([2, 2]);
      expect(a.protocol).toBe(protocol);
      expect(h.events.map((e) => e.type)).toEqual(['rebalance', 'stable']);
      if (protocol === 'range') {
        expect(a.assignment).toEqual({ t: [0, 1] });
        expect(rb.assignment).toEqual({ t: [2, 3] });
      } else {
        // Two partitions move from A to B: withheld this generation (see the next test).
        expect(partitions(a)).toHaveLength(2);
        expect(partitions(rb)).toEqual([]);
      }
      h.c.heartbeat({ groupId: 'g', memberId: 'A', generationId: 2 });
    });

    it('cooperative-sticky: a moving partition is withheld in generation 2 and reaches B in generation 3; never owned twice', async () => {
      const h = setup({ t: 4 });
      const coop = { protocols: ['cooperative-sticky'] };
      /** What each member may be consuming: what it reported as owned until it sees its new assignment. */
      const holdings = new Map<string, Set<string>>();
      const check = (round: { reported: Map<string, string[]>; results: JoinResult[] }): void => {
        for (const r of round.results) {
          const mine = new Set(partitions(r));
          for (const [other, reported] of round.reported) {
            if (other === r.memberId) continue;
            for (const p of reported) expect(mine.has(p), `${p} given to ${r.memberId} while ${other} owns it`).toBe(false);
          }
          for (const [other, held] of holdings) {
            if (other === r.memberId) continue;
            for (const p of mine) expect(held.has(p), `${p} given to ${r.memberId} while ${other} holds it`).toBe(false);
          }
        }
        for (const r of round.results) holdings.set(r.memberId, new Set(partitions(r)));
      };

      const g1 = await h.c.join(req('A', coop));
      check({ reported: new Map([['A', []]]), results: [g1] });
      expect(partitions(g1)).toEqual(['t-0', 't-1', 't-2', 't-3']);

      const b2 = h.c.join(req('B', { ...coop, owned: {} }));
      const a2 = h.c.join(req('A', { ...coop, owned: g1.assignment }));
      const [ra2, rb2] = await Promise.all([a2, b2]);
      check({ reported: new Map([['A', partitions(g1)], ['B', []]]), results: [ra2, rb2] });
      expect(ra2.generationId).toBe(2);
      expect(partitions(ra2)).toHaveLength(2);
      expect(partitions(rb2)).toEqual([]);
      const moving = partitions(g1).filter((p) => !partitions(ra2).includes(p));

      // A revoked the moving partitions and rejoins to report it; B is told to rejoin.
      h.events.length = 0;
      const a3 = h.c.join(req('A', { ...coop, owned: ra2.assignment }));
      expect(h.events.map((e) => e.type)).toEqual(['rebalance']);
      expectThrowsCode(() => h.c.heartbeat({ groupId: 'g', memberId: 'B', generationId: 2 }), 'REBALANCE_IN_PROGRESS');
      const b3 = h.c.join(req('B', { ...coop, owned: rb2.assignment }));
      const [ra3, rb3] = await Promise.all([a3, b3]);
      check({ reported: new Map([['A', partitions(ra2)], ['B', []]]), results: [ra3, rb3] });
      expect(ra3.generationId).toBe(3);
      expect(partitions(ra3)).toEqual(partitions(ra2));
      expect(partitions(rb3)).toEqual(moving);
    });

    it.each(['range', 'roundrobin', 'cooperative-sticky'])('3 members on 6 partitions get 2 each (%s)', async (protocol) => {
      const h = setup({ t: 6 });
      const o = { protocols: [protocol] };
      // Members report what they own (eager protocols would report {}; assigners ignore it).
      const a1 = await h.c.join(req('A', o));
      const b = h.c.join(req('B', o));
      const [a2, b2] = await Promise.all([h.c.join(req('A', { ...o, owned: a1.assignment })), b]);
      const c = h.c.join(req('C', o));
      let results: JoinResult[] = await Promise.all([
        h.c.join(req('A', { ...o, owned: a2.assignment })), h.c.join(req('B', { ...o, owned: b2.assignment })), c,
      ]);
      // Cooperative: what moves is withheld for a round; the members rejoin until it converges.
      for (let i = 0; i < 3 && results.some((r) => partitions(r).length !== 2); i++) {
        results = await Promise.all(results.map((r) => h.c.join(req(r.memberId, { ...o, owned: r.assignment }))));
      }
      if (protocol !== 'cooperative-sticky') expect(results[0]!.generationId).toBe(3); // eager: one round
      expect(results.map((r) => partitions(r).length)).toEqual([2, 2, 2]);
      expect(results.flatMap((r) => partitions(r)).sort()).toEqual(['t-0', 't-1', 't-2', 't-3', 't-4', 't-5']);
      expect(new Set(results.map((r) => r.generationId)).size).toBe(1);
    });

    it('picks the first protocol of the first member (by memberId) that every member supports', async () => {
      const h = setup();
      await h.c.join(req('B', { protocols: ['roundrobin', 'range'] }));
      const a = h.c.join(req('A', { protocols: ['cooperative-sticky', 'range', 'roundrobin'] }));
      const b = h.c.join(req('B', { protocols: ['roundrobin', 'range'] }));
      const [ra, rb] = await Promise.all([a, b]);
      expect([ra.protocol, rb.protocol]).toEqual(['range', 'range']);
    });

    it('refuses alone a member with no assignor in common (INCONSISTENT_GROUP_PROTOCOL); the group carries on', async () => {
      const h = setup();
      await h.c.join(req('A', { protocols: ['range'] }));
      const events = h.events.length;
      await expect(h.c.join(req('B', { protocols: ['roundrobin'] }))).rejects.toMatchObject({ code: 'INCONSISTENT_GROUP_PROTOCOL', details: { memberId: 'B' } });
      expect(h.c.describeGroup('g')).toMatchObject({ state: 'Stable', generationId: 1, members: [{ memberId: 'A' }] });
      expect(h.events.length).toBe(events); // no rebalance for a refused join
      await expect(h.c.join(req('C', { protocols: ['no-such'] }))).rejects.toMatchObject({ code: 'INCONSISTENT_GROUP_PROTOCOL' });
      await expect(h.c.join({ ...req('X', { protocols: ['no-such'] }), groupId: 'empty' })).rejects.toMatchObject({ code: 'INCONSISTENT_GROUP_PROTOCOL' });
      expect(h.c.describeGroup('empty').state).toBe('Dead');
    });

    it('a newer join of the same member supersedes its pending one', async () => {
      const h = setup({ t: 4, u: 2 });
      await twoMembers(h);
      const c = h.c.join(req('C')); // the round waits for A and B
      const old = h.c.join(req('A'));
      const latest = h.c.join(req('A', { topics: ['t', 'u'] }));
      await expect(old).rejects.toMatchObject({ code: 'REBALANCE_IN_PROGRESS', details: { superseded: true } });
      const [ra] = await Promise.all([latest, c, h.c.join(req('B'))]);
      expect(ra.generationId).toBe(3);
      expect(ra.assignment.u).toEqual([0, 1]);
    });

    it('shares no arrays with callers: results and descriptions are copies', async () => {
      const h = setup();
      const topics = ['t'];
      const r = await h.c.join(req('A', { topics }));
      topics.push('u');
      r.assignment.t!.push(99);
      h.c.describeGroup('g').members[0]!.assignment.t!.push(98);
      expect(h.c.describeGroup('g').members[0]).toMatchObject({ topics: ['t'], assignment: { t: [0, 1, 2, 3] } });
    });

    it('refuses a malformed join, naming the field, before storing anything', async () => {
      const h = setup();
      await expect(h.c.join(req('A', { sessionTimeout: -1 }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'sessionTimeout' } });
      await expect(h.c.join(req(''))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'memberId' } });
      await expect(h.c.join(req('A', { protocols: [] }))).rejects.toMatchObject({ details: { field: 'protocols' } });
      await expect(h.c.join(req('A', { owned: { t: 3 as unknown as number[] } }))).rejects.toMatchObject({ details: { field: 'owned' } });
      expect(h.c.listGroups()).toEqual([]);
      expect(h.time.pending).toBe(0);
    });
  });

  describe('removal', () => {
    it('memberGone removes a member at once; the next round gives the rest everything', async () => {
      const h = setup();
      await twoMembers(h);
      h.events.length = 0;
      h.c.memberGone('g', 'B');
      expect(h.events).toEqual([{ groupId: 'g', type: 'rebalance', generationId: 2 }]);
      expect(h.c.describeGroup('g').members.map((m) => m.memberId)).toEqual(['A']);
      expectThrowsCode(() => h.c.heartbeat({ groupId: 'g', memberId: 'B', generationId: 2 }), 'UNKNOWN_MEMBER_ID');
      const a = await h.c.join(req('A'));
      expect(a.generationId).toBe(3);
      expect(a.assignment).toEqual({ t: [0, 1, 2, 3] });
    });

    it('removing a member with a pending join rejects it with UnknownMemberId; the round completes without it', async () => {
      const h = setup();
      await twoMembers(h);
      const b = h.c.join(req('B'));
      h.c.memberGone('g', 'B');
      const err = await b.catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'UNKNOWN_MEMBER_ID', retriable: true, details: { groupId: 'g', memberId: 'B', generationId: 2 } });
      const a = await h.c.join(req('A'));
      expect(a).toMatchObject({ generationId: 3, assignment: { t: [0, 1, 2, 3] } });
    });

    it('removes a member that does not rejoin within the largest rebalanceTimeout; the others complete', async () => {
      const h = setup();
      await twoMembers(h, { rebalanceTimeout: 1000 });
      const c = track(h.c.join(req('C', { rebalanceTimeout: 1000 })));
      // A rejoins with a longer rebalanceTimeout: the round now lasts 5000 from its start.
      const a = track(h.c.join(req('A', { rebalanceTimeout: 5000 })));
      // B stays alive (heartbeats say "rejoin") but never rejoins.
      expectThrowsCode(() => h.c.heartbeat({ groupId: 'g', memberId: 'B', generationId: 2 }), 'REBALANCE_IN_PROGRESS');
      h.time.advance(4999);
      await flush();
      expect(a.settled() || c.settled()).toBe(false);
      h.time.advance(1);
      await flush();
      expect(a.value()).toMatchObject({ generationId: 3, assignment: { t: [0, 1] } });
      expect(c.value()).toMatchObject({ generationId: 3, assignment: { t: [2, 3] } });
      expect(h.c.describeGroup('g').members.map((m) => m.memberId)).toEqual(['A', 'C']);
      // B is a zombie of generation 2: fenced by generation.
      expectThrowsCode(() => h.c.heartbeat({ groupId: 'g', memberId: 'B', generationId: 2 }), 'ILLEGAL_GENERATION');
    });

    it('a round nobody rejoins times out into Empty', async () => {
      const h = setup();
      await twoMembers(h, { rebalanceTimeout: 1000, sessionTimeout: 60_000 });
      h.c.leave({ groupId: 'g', memberId: 'B' });
      h.time.advance(1000);
      expect(h.c.describeGroup('g')).toMatchObject({ state: 'Empty', generationId: 2, members: [] });
      expect(h.events.at(-1)).toEqual({ groupId: 'g', type: 'empty', generationId: 2 });
    });

    it('evicts a member whose session times out (strictly after sessionTimeout)', async () => {
      const h = setup();
      await twoMembers(h, { sessionTimeout: 1000 });
      h.events.length = 0;
      for (let i = 0; i < 4; i++) {
        h.time.advance(250);
        h.c.heartbeat({ groupId: 'g', memberId: 'A', generationId: 2 });
      }
      // B's last heartbeat was at completion (t = 0); now = 1000: not yet "more than" 1000.
      expect(h.c.describeGroup('g').members).toHaveLength(2);
      h.time.advance(1);
      expect(h.c.describeGroup('g').members.map((m) => m.memberId)).toEqual(['A']);
      expect(h.events).toEqual([{ groupId: 'g', type: 'rebalance', generationId: 2 }]);
      const a = await h.c.join(req('A', { sessionTimeout: 1000 }));
      expect(a).toMatchObject({ generationId: 3, assignment: { t: [0, 1, 2, 3] } });
    });

    it('does not expire a member waiting in a pending join; its session restarts at completion', async () => {
      const h = setup();
      const o = { sessionTimeout: 1000, rebalanceTimeout: 5000 };
      await h.c.join(req('A', o));
      const b = track(h.c.join(req('B', o)));
      // A keeps heartbeating (and is told to rejoin) but never rejoins; B waits in its join.
      for (let i = 0; i < 9; i++) {
        h.time.advance(500);
        expectThrowsCode(() => h.c.heartbeat({ groupId: 'g', memberId: 'A', generationId: 1 }), 'REBALANCE_IN_PROGRESS');
      }
      await flush();
      expect(b.settled()).toBe(false);
      expect(h.c.describeGroup('g').members.map((m) => m.memberId)).toEqual(['A', 'B']);
      h.time.advance(500); // t = 5000: the round ends without A
      await flush();
      expect(b.value()).toMatchObject({ generationId: 2, assignment: { t: [0, 1, 2, 3] } });
      h.time.advance(1000);
      expect(h.c.describeGroup('g').members.map((m) => m.memberId)).toEqual(['B']);
      h.time.advance(1);
      expect(h.c.describeGroup('g')).toMatchObject({ state: 'Empty', members: [] });
    });

    it('commits and heartbeats keep a member alive', async () => {
      const h = setup();
      await h.c.join(req('A', { sessionTimeout: 1000 }));
      for (let i = 0; i < 10; i++) {
        h.time.advance(900);
        if (i % 2) h.c.validateCommit({ groupId: 'g', memberId: 'A', generationId: 1 });
        else h.c.heartbeat({ groupId: 'g', memberId: 'A', generationId: 1 });
      }
      expect(h.c.describeGroup('g').state).toBe('Stable');
    });

    it('the last member leaving empties the group and keeps its generation', async () => {
      const h = setup();
      await twoMembers(h);
      h.c.leave({ groupId: 'g', memberId: 'A' });
      h.c.leave({ groupId: 'g', memberId: 'B' });
      h.c.leave({ groupId: 'g', memberId: 'B' }); // idempotent
      expect(h.c.describeGroup('g')).toMatchObject({ state: 'Empty', generationId: 2, protocol: '', members: [] });
      expect(h.events.at(-1)).toEqual({ groupId: 'g', type: 'empty', generationId: 2 });
      expectThrowsCode(() => h.c.validateCommit({ groupId: 'g', memberId: 'A', generationId: 1 }), 'ILLEGAL_GENERATION');
      expectThrowsCode(() => h.c.validateCommit({ groupId: 'g', memberId: 'A', generationId: 2 }), 'UNKNOWN_MEMBER_ID');
      const again = await h.c.join(req('C'));
      expect(again.generationId).toBe(3);
    });
  });

  describe('fencing', () => {
    it('refuses stale-generation commits and heartbeats with IllegalGeneration, with details', async () => {
      const h = setup();
      await twoMembers(h);
      const e = expectThrowsCode(() => h.c.validateCommit({ groupId: 'g', memberId: 'A', generationId: 1 }), 'ILLEGAL_GENERATION');
      expect(e.details).toMatchObject({ groupId: 'g', memberId: 'A', generationId: 1 });
      expect(e.retriable).toBe(true);
      expectThrowsCode(() => h.c.heartbeat({ groupId: 'g', memberId: 'A', generationId: 1 }), 'ILLEGAL_GENERATION');
      expectThrowsCode(() => h.c.heartbeat({ groupId: 'g', memberId: 'zombie', generationId: 1 }), 'ILLEGAL_GENERATION');
      expectThrowsCode(() => h.c.heartbeat({ groupId: 'nope', memberId: 'A', generationId: 1 }), 'UNKNOWN_MEMBER_ID');
      h.c.validateCommit({ groupId: 'g', memberId: 'A', generationId: 2 });
      h.c.heartbeat({ groupId: 'g', memberId: 'A', generationId: 2 });
    });

    it("refuses an evicted member's commit", async () => {
      const h = setup();
      await twoMembers(h, { sessionTimeout: 1000 });
      h.time.advance(600);
      h.c.heartbeat({ groupId: 'g', memberId: 'A', generationId: 2 });
      h.time.advance(600); // B evicted; generation still 2 while the rest rebalances
      expectThrowsCode(() => h.c.validateCommit({ groupId: 'g', memberId: 'B', generationId: 2 }), 'UNKNOWN_MEMBER_ID');
      await h.c.join(req('A', { sessionTimeout: 1000 }));
      expectThrowsCode(() => h.c.validateCommit({ groupId: 'g', memberId: 'B', generationId: 2 }), 'ILLEGAL_GENERATION');
    });

    it('allows commits of the current generation during a rebalance', async () => {
      const h = setup();
      await twoMembers(h);
      void h.c.join(req('C'));
      expect(h.c.describeGroup('g').state).toBe('PreparingRebalance');
      h.c.validateCommit({ groupId: 'g', memberId: 'A', generationId: 2 });
    });

    it('accepts an older generation\'s commit only for partitions the member has held since then (assignment epochs)', async () => {
      const h = setup({ t: 4 });
      const coop = { protocols: ['cooperative-sticky'] };
      const first = await h.c.join(req('A', coop)); // generation 1: A holds t-0..3
      expect(first.generationId).toBe(1);
      const b1 = track(h.c.join(req('B', coop)));
      const a2 = await h.c.join(req('A', { ...coop, owned: first.assignment })); // generation 2: A keeps 2, 2 are pending revocation
      await b1.p;
      const kept = a2.assignment.t!;
      const revoked = [0, 1, 2, 3].filter((p) => !kept.includes(p));
      expect(kept).toHaveLength(2);
      const ref = { groupId: 'g', memberId: 'A', generationId: 1 };
      // Sent in generation 1, arriving in generation 2: kept and pending-revocation partitions pass.
      h.c.validateCommit(ref, kept.map((partition) => ({ topic: 't', partition })));
      h.c.validateCommit(ref, revoked.map((partition) => ({ topic: 't', partition })));
      // Without partitions, or for a partition B holds, or from B (which got nothing in generation 1): refused.
      expectThrowsCode(() => h.c.validateCommit(ref), 'ILLEGAL_GENERATION');
      expectThrowsCode(() => h.c.validateCommit(ref, []), 'ILLEGAL_GENERATION');
      // A rejoins without the revoked partitions; generation 3 gives them to B.
      const b3 = track(h.c.join(req('B', coop)));
      const a3 = await h.c.join(req('A', { ...coop, owned: a2.assignment }));
      const b = await b3.p;
      expect(a3.generationId).toBe(3);
      expect(b.assignment.t!.sort()).toEqual(revoked);
      expectThrowsCode(() => h.c.validateCommit(ref, [{ topic: 't', partition: revoked[0]! }]), 'ILLEGAL_GENERATION');
      expectThrowsCode(() => h.c.validateCommit({ ...ref, generationId: 2 }, [{ topic: 't', partition: revoked[0]! }]), 'ILLEGAL_GENERATION');
      h.c.validateCommit({ ...ref, generationId: 2 }, [{ topic: 't', partition: kept[0]! }]);
      // B got them in generation 3: its commits from generation 2 for them are a zombie's.
      expectThrowsCode(() => h.c.validateCommit({ groupId: 'g', memberId: 'B', generationId: 2 }, [{ topic: 't', partition: revoked[0]! }]), 'ILLEGAL_GENERATION');
      h.c.validateCommit({ groupId: 'g', memberId: 'B', generationId: 3 }, [{ topic: 't', partition: revoked[0]! }]);
    });

    it('allows admin commits (memberId "", generation -1) only on an Empty or unknown group', async () => {
      const h = setup();
      const admin = { memberId: '', generationId: -1 };
      h.c.validateCommit({ groupId: 'unknown', ...admin });
      expectThrowsCode(() => h.c.validateCommit({ groupId: 'unknown', memberId: 'x', generationId: 3 }), 'ILLEGAL_GENERATION');
      await h.c.join(req('A'));
      expectThrowsCode(() => h.c.validateCommit({ groupId: 'g', ...admin }), 'ILLEGAL_GENERATION');
      h.c.leave({ groupId: 'g', memberId: 'A' });
      h.c.validateCommit({ groupId: 'g', ...admin });
    });
  });

  describe('static membership', () => {
    it('replaces a static member under a new memberId without a rebalance or a new generation', async () => {
      const h = setup();
      await twoMembers(h);
      await Promise.all([h.c.join(req('A')), h.c.join(req('S', { groupInstanceId: 'tab-1' })), h.c.join(req('B'))]);
      const before = h.c.describeGroup('g');
      const s = before.members.find((m) => m.memberId === 'S')!;
      h.events.length = 0;

      h.c.memberGone('g', 'S'); // the tab reloads: a static member stays
      expect(h.c.describeGroup('g').members.map((m) => m.memberId)).toEqual(['A', 'B', 'S']);
      const r = await h.c.join(req('S2', { groupInstanceId: 'tab-1' }));
      expect(r).toEqual({ groupId: 'g', memberId: 'S2', generationId: 3, protocol: 'range', assignment: s.assignment });
      expect(h.events).toEqual([]);
      const after = h.c.describeGroup('g');
      expect(after).toMatchObject({ state: 'Stable', generationId: 3 });
      expect(after.members.map((m) => [m.memberId, m.groupInstanceId])).toEqual([['A', null], ['B', null], ['S2', 'tab-1']]);
      expectThrowsCode(() => h.c.heartbeat({ groupId: 'g', memberId: 'S', generationId: 3 }), 'UNKNOWN_MEMBER_ID');
      h.c.heartbeat({ groupId: 'g', memberId: 'S2', generationId: 3 });
    });

    it('a static member whose subscription changed joins normally; the old memberId is removed', async () => {
      const h = setup({ t: 4, u: 2 });
      await h.c.join(req('S', { groupInstanceId: 'tab-1' }));
      const r = await h.c.join(req('S2', { groupInstanceId: 'tab-1', topics: ['t', 'u'] }));
      expect(r).toMatchObject({ generationId: 2, assignment: { t: [0, 1, 2, 3], u: [0, 1] } });
      expect(h.c.describeGroup('g').members.map((m) => m.memberId)).toEqual(['S2']);
    });

    it('only the session timeout removes a static member', async () => {
      const h = setup();
      await h.c.join(req('S', { groupInstanceId: 'tab-1', sessionTimeout: 1000 }));
      h.c.memberGone('g', 'S');
      expect(h.c.describeGroup('g').state).toBe('Stable');
      h.time.advance(1001);
      expect(h.c.describeGroup('g')).toMatchObject({ state: 'Empty', members: [] });
    });
  });

  describe('administration', () => {
    it('deletes only an Empty group; an unknown group is GROUP_ID_NOT_FOUND', async () => {
      const h = setup();
      expectThrowsCode(() => h.c.deleteGroup('g'), 'GROUP_ID_NOT_FOUND');
      await h.c.join(req('A'));
      const e = expectThrowsCode(() => h.c.deleteGroup('g'), 'GROUP_NOT_EMPTY');
      expect(e.details).toMatchObject({ groupId: 'g' });
      h.c.leave({ groupId: 'g', memberId: 'A' });
      h.c.deleteGroup('g');
      expect(h.c.listGroups()).toEqual([]);
      expect(h.c.describeGroup('g')).toEqual({ groupId: 'g', state: 'Dead', protocol: '', protocolType: 'consumer', generationId: -1, members: [] });
      expectThrowsCode(() => h.c.deleteGroup('g'), 'GROUP_ID_NOT_FOUND');
    });

    it('topicChanged rebalances only the groups subscribed to the topic, with the new partition count', async () => {
      const h = setup({ t: 2, other: 1 });
      await h.c.join(req('A'));
      await h.c.join(req('X', { groupId: 'h', topics: ['other'] }));
      h.events.length = 0;
      h.counts.set('t', 4);
      h.c.topicChanged('t');
      expect(h.events).toEqual([{ groupId: 'g', type: 'rebalance', generationId: 1 }]);
      expect(h.c.listGroups()).toEqual([
        { groupId: 'g', protocolType: 'consumer', state: 'PreparingRebalance' },
        { groupId: 'h', protocolType: 'consumer', state: 'Stable' },
      ]);
      const a = await h.c.join(req('A'));
      expect(a).toMatchObject({ generationId: 2, assignment: { t: [0, 1, 2, 3] } });
    });

    it.each(['range', 'roundrobin', 'cooperative-sticky'])('a subscribed topic that is deleted assigns nothing of it, keeps the rest, and its re-creation rebalances it back (%s)', async (protocol) => {
      const h = setup({ gone: 3, kept: 2 });
      const cooperative = protocol === 'cooperative-sticky';
      let owned: Record<string, JoinResult['assignment']> = { A: {}, B: {} };
      // One round in which both members rejoin, reporting what they own (cooperative); a
      // cooperative member that gave partitions up rejoins once more so they reach their new owner.
      const round = async () => {
        for (let i = 0; i < 2; i++) {
          const r = (m: string) => h.c.join(req(m, { topics: ['gone', 'kept'], protocols: [protocol], owned: cooperative ? owned[m]! : {} }));
          const [rb, ra] = await Promise.all([r('B'), r('A')]);
          owned = { A: ra.assignment, B: rb.assignment };
          if (!cooperative) break;
        }
      };
      const union = (t: string) => [...(owned.A![t] ?? []), ...(owned.B![t] ?? [])].sort();
      await h.c.join(req('A', { topics: ['gone', 'kept'], protocols: [protocol] }));
      await round();
      expect(union('gone')).toEqual([0, 1, 2]);
      h.counts.delete('gone'); // deleteTopics
      h.c.topicChanged('gone');
      await round();
      expect(union('gone')).toEqual([]);
      expect(union('kept')).toEqual([0, 1]);
      h.events.length = 0;
      h.counts.set('gone', 4); // createTopics again, with another partition count
      h.c.topicChanged('gone');
      expect(h.events).toEqual([{ groupId: 'g', type: 'rebalance', generationId: h.c.describeGroup('g').generationId }]);
      await round();
      expect(union('gone')).toEqual([0, 1, 2, 3]);
      expect(union('kept')).toEqual([0, 1]);
    });

    it('close rejects pending joins with a retriable BrokerUnavailable and cancels every timer', async () => {
      const h = setup();
      await twoMembers(h);
      const c = h.c.join(req('C'));
      h.c.close();
      const err = await c.catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'BROKER_UNAVAILABLE', retriable: true });
      expect(h.time.pending).toBe(0);
      await expect(h.c.join(req('D'))).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE' });
      expectThrowsCode(() => h.c.heartbeat({ groupId: 'g', memberId: 'A', generationId: 2 }), 'BROKER_UNAVAILABLE');
      h.c.memberGone('g', 'A'); // harmless after close
      h.c.close();
    });
  });
});
