import { describe, expect, it } from 'vitest';
import { cooperativeSticky } from '../../../src/group/assigners/cooperative-sticky.js';
import type { AssignInput, AssignMember, Assignment } from '../../../src/group/assigners/index.js';
import {
  balanceViolation,
  count,
  expectComplete,
  expectContract,
  flat,
  randomInt,
  shuffle,
  subscribedPartitions,
  withOwned,
} from './helpers.js';
import { prng } from '../../helpers/prng.js';

const assign = (input: AssignInput): Assignment => {
  const result = cooperativeSticky.assign(input);
  expectContract(input, result);
  return result;
};

/** Runs rebalances, each with `owned` = the previous result, until nothing changes. */
function converge(input: AssignInput, maxRounds = 5): Assignment[] {
  const rounds = [assign(input)];
  for (let i = 1; i < maxRounds; i++) {
    const next = assign(withOwned(input, rounds[i - 1]!));
    rounds.push(next);
    if (JSON.stringify(next) === JSON.stringify(rounds[i - 1])) break;
  }
  return rounds;
}

/** Asserts `later` keeps every partition `earlier` gave to each member. */
function expectKeeps(earlier: Assignment, later: Assignment): void {
  for (const [memberId, byTopic] of Object.entries(earlier)) {
    if (!(memberId in later)) continue;
    expect(flat(later[memberId])).toEqual(expect.arrayContaining(flat(byTopic)));
  }
}

function member(memberId: string, topics: string[], owned?: AssignMember['owned']): AssignMember {
  return owned === undefined ? { memberId, topics } : { memberId, topics, owned };
}

describe('cooperative-sticky assigner', () => {
  it("is named 'cooperative-sticky'", () => {
    expect(cooperativeSticky.name).toBe('cooperative-sticky');
  });

  describe('balance', () => {
    it('gives 3 members 2 each of 6 partitions', () => {
      const input = { topics: { t: 6 }, members: ['a', 'b', 'c'].map((m) => member(m, ['t'])) };
      const result = assign(input);
      expectComplete(input, result);
      expect(['a', 'b', 'c'].map((m) => count(result, m))).toEqual([2, 2, 2]);
    });

    it('differs by at most one with an uneven count', () => {
      const input = { topics: { t: 7 }, members: ['a', 'b', 'c'].map((m) => member(m, ['t'])) };
      const result = assign(input);
      expectComplete(input, result);
      expect(['a', 'b', 'c'].map((m) => count(result, m)).sort()).toEqual([2, 2, 3]);
    });

    it('balances across topics and mixes topics per member, like round-robin', () => {
      const input = {
        topics: { t1: 3, t2: 3 },
        members: [member('a', ['t1', 't2']), member('b', ['t1', 't2'])],
      };
      const result = assign(input);
      expectComplete(input, result);
      expect(count(result, 'a')).toBe(3);
      expect(count(result, 'b')).toBe(3);
      expect(result.a!.t1!.length).toBeGreaterThan(0);
      expect(result.a!.t2!.length).toBeGreaterThan(0);
    });

    it('balances members with different subscriptions as far as subscriptions allow', () => {
      // b can only take t1, so a takes t2; a RoundRobin would give a three partitions here.
      const input = {
        topics: { t1: 2, t2: 2 },
        members: [member('a', ['t1', 't2']), member('b', ['t1'])],
      };
      expect(assign(input)).toEqual({ a: { t1: [], t2: [0, 1] }, b: { t1: [0, 1] } });
    });

    it('gives a member that can only take one partition exactly that one', () => {
      const input = {
        topics: { t1: 1, t2: 5 },
        members: [member('a', ['t1']), member('b', ['t1', 't2']), member('c', ['t2'])],
      };
      const result = assign(input);
      expectComplete(input, result);
      expect(result.a).toEqual({ t1: [0] });
      expect([count(result, 'b'), count(result, 'c')].sort()).toEqual([2, 3]);
      expect(balanceViolation(input, result)).toBeUndefined();
    });

    it('prefers balance over stickiness', () => {
      const input = {
        topics: { t: 4 },
        members: [member('a', ['t'], { t: [0, 1, 2, 3] }), member('b', ['t'])],
      };
      const [first, second] = converge(input);
      expect(count(first!, 'a')).toBe(2);
      expect(count(second!, 'a')).toBe(2);
      expect(count(second!, 'b')).toBe(2);
    });
  });

  describe('stickiness and the two-phase rule', () => {
    it('keeps what owners can keep when a member joins; moved partitions wait one rebalance', () => {
      const input = {
        topics: { t: 6 },
        members: [
          member('a', ['t'], { t: [0, 1, 2] }),
          member('b', ['t'], { t: [3, 4, 5] }),
          member('c', ['t']),
        ],
      };
      // Phase 1: a and b each keep two of their own; the two that move to c are withheld.
      const phase1 = assign(input);
      expect(phase1.a!.t!.length).toBe(2);
      expect(phase1.b!.t!.length).toBe(2);
      expect(phase1.a!.t!.every((p) => [0, 1, 2].includes(p))).toBe(true);
      expect(phase1.b!.t!.every((p) => [3, 4, 5].includes(p))).toBe(true);
      expect(phase1.c).toEqual({ t: [] });

      // Phase 2: a and b revoked them, so c gets them; a and b do not move.
      const phase2 = assign(withOwned(input, phase1));
      expect(phase2.a).toEqual(phase1.a);
      expect(phase2.b).toEqual(phase1.b);
      const revoked = [0, 1, 2, 3, 4, 5].filter(
        (p) => !phase1.a!.t!.includes(p) && !phase1.b!.t!.includes(p),
      );
      expect(phase2.c).toEqual({ t: revoked });
      expectComplete(input, phase2);
    });

    it('hands the partitions of a member that left to the others at once', () => {
      const input = {
        topics: { t: 6 },
        members: [member('a', ['t'], { t: [0, 1] }), member('b', ['t'], { t: [2, 3] })],
      };
      const result = assign(input);
      expectComplete(input, result);
      expect(count(result, 'a')).toBe(3);
      expect(count(result, 'b')).toBe(3);
      expectKeeps({ a: { t: [0, 1] }, b: { t: [2, 3] } }, result);
    });

    it('changes nothing when the owned assignment is already balanced', () => {
      const owned = { a: { t: [1, 4] }, b: { t: [0, 5] }, c: { t: [2, 3] } };
      const input = {
        topics: { t: 6 },
        members: Object.entries(owned).map(([m, o]) => member(m, ['t'], o)),
      };
      expect(assign(input)).toEqual(owned);
    });

    it('keeps owned partitions across a new topic, assigning the new partitions at once', () => {
      const input = {
        topics: { t: 2, u: 2 },
        members: [member('a', ['t', 'u'], { t: [0] }), member('b', ['t', 'u'], { t: [1] })],
      };
      const result = assign(input);
      expectComplete(input, result);
      expect(result.a!.t).toEqual([0]);
      expect(result.b!.t).toEqual([1]);
      expect(result.a!.u!.length).toBe(1);
    });

    it('withholds partitions of a topic the owner unsubscribed until it has revoked them', () => {
      const input = {
        topics: { t: 2, u: 2 },
        members: [member('a', ['t'], { t: [0, 1], u: [0, 1] }), member('b', ['u'])],
      };
      // a no longer subscribes to u but may still be consuming it: b waits.
      const phase1 = assign(input);
      expect(phase1).toEqual({ a: { t: [0, 1] }, b: { u: [] } });
      const phase2 = assign(withOwned(input, phase1));
      expect(phase2).toEqual({ a: { t: [0, 1] }, b: { u: [0, 1] } });
    });

    it('ignores owned partitions that are out of range or of unknown topics', () => {
      const input = {
        topics: { t: 2 },
        members: [
          member('a', ['t'], { t: [0, 7, -1, 1.5, Number.NaN], gone: [0] }),
          member('b', ['t']),
        ],
      };
      expect(assign(input)).toEqual({ a: { t: [0] }, b: { t: [1] } });
    });

    it('tolerates malformed owned data from a remote member', () => {
      const input = {
        topics: { t: 2 },
        members: [
          { memberId: 'a', topics: ['t'], owned: { t: 'nope' } },
          { memberId: 'b', topics: ['t'], owned: null },
        ],
      } as unknown as AssignInput;
      const result = assign(input);
      expectComplete(input, result);
    });

    it('does not let either of two claimants keep a doubly-claimed partition by claim', () => {
      const input = {
        topics: { t: 2 },
        members: [member('a', ['t'], { t: [0] }), member('b', ['t'], { t: [0] })],
      };
      // Phase 1: partition 0 is withheld (both may be consuming it); 1 is free.
      const phase1 = assign(input);
      expect(flat(phase1.a).concat(flat(phase1.b))).toEqual(['t-1']);
      // Phase 2: neither claims 0 any more, so it is assigned.
      const phase2 = assign(withOwned(input, phase1));
      expectComplete(input, phase2);
      expectKeeps(phase1, phase2);
    });

    it('never gives a partition to two members, even when everyone claims everything', () => {
      const input = {
        topics: { t: 4 },
        members: ['a', 'b', 'c'].map((m) => member(m, ['t'], { t: [0, 1, 2, 3] })),
      };
      const phase1 = assign(input);
      expect(Object.values(phase1).flatMap((byTopic) => flat(byTopic))).toEqual([]);
      const phase2 = assign(withOwned(input, phase1));
      expectComplete(input, phase2);
      expect(balanceViolation(input, phase2)).toBeUndefined();
    });

    it('moves only what balance requires when a member with many partitions joins others', () => {
      // a owns all 8; b, c, d join. a keeps 2; 6 move (withheld), then c, d, b get 2 each.
      const input = {
        topics: { t: 8 },
        members: [
          member('a', ['t'], { t: [0, 1, 2, 3, 4, 5, 6, 7] }),
          member('b', ['t']),
          member('c', ['t']),
          member('d', ['t']),
        ],
      };
      const rounds = converge(input);
      expect(rounds).toHaveLength(3); // phase 1, phase 2, and a stable confirmation
      expect(count(rounds[0]!, 'a')).toBe(2);
      expect(['b', 'c', 'd'].map((m) => count(rounds[0]!, m))).toEqual([0, 0, 0]);
      expect(['a', 'b', 'c', 'd'].map((m) => count(rounds[1]!, m))).toEqual([2, 2, 2, 2]);
      expectKeeps(rounds[0]!, rounds[1]!);
    });
  });

  describe('properties over random groups', () => {
    /**
     * A random group with random previous ownership: partitions owned by current members, by
     * members that left, by two members at once, of topics the owner dropped, and out of range.
     */
    function randomGroup(random: () => number): AssignInput {
      const names = Array.from({ length: 1 + randomInt(random, 3) }, (_, i) => `t${i}`);
      const topics: { [t: string]: number } = {};
      for (const t of names) topics[t] = randomInt(random, 9);
      const ids = Array.from({ length: 1 + randomInt(random, 6) }, (_, i) => `m${i}`);
      const owned = new Map<string, { [t: string]: number[] }>(ids.map((id) => [id, {}]));
      const claim = (id: string, t: string, p: number): void => {
        const o = owned.get(id);
        if (o) (o[t] ??= []).push(p);
      };
      for (const t of names) {
        for (let p = 0; p < topics[t]! + 1; p++) {
          const r = random();
          if (r < 0.55) claim(ids[randomInt(random, ids.length - 1)]!, t, p);
          else if (r < 0.6) {
            claim(ids[randomInt(random, ids.length - 1)]!, t, p);
            claim(ids[randomInt(random, ids.length - 1)]!, t, p);
          }
          // else: unowned, or owned by a member that left the group
        }
      }
      const homogeneous = random() < 0.4;
      return {
        topics,
        members: shuffle(random, ids).map((id) =>
          member(
            id,
            homogeneous ? names : names.filter(() => random() < 0.6),
            random() < 0.9 ? owned.get(id) : undefined,
          ),
        ),
      };
    }

    /** Who claims each in-range partition in `owned`. */
    function claimants(input: AssignInput): Map<string, Set<string>> {
      const out = new Map<string, Set<string>>();
      for (const m of input.members) {
        for (const [t, ps] of Object.entries(m.owned ?? {})) {
          for (const p of ps) {
            if (!(p >= 0 && p < (input.topics[t] ?? 0))) continue;
            const key = `${t}-${p}`;
            if (!out.has(key)) out.set(key, new Set());
            out.get(key)!.add(m.memberId);
          }
        }
      }
      return out;
    }

    it('never assigns a partition twice, and withholds only partitions someone still owns', () => {
      const random = prng(2024);
      for (let i = 0; i < 500; i++) {
        const input = randomGroup(random);
        const result = assign(input); // checks: no duplicates, only subscribed, sorted
        const assigned = new Set(Object.values(result).flatMap((byTopic) => flat(byTopic)));
        const claims = claimants(input);
        for (const tp of subscribedPartitions(input)) {
          if (assigned.has(tp)) continue;
          // Withheld: it must be owned by someone (who is now revoking it).
          expect(claims.get(tp)?.size ?? 0, `${tp} unassigned but unowned`).toBeGreaterThan(0);
        }
        // Whatever is assigned went to nobody else who owns it.
        for (const [memberId, byTopic] of Object.entries(result)) {
          for (const tp of flat(byTopic)) {
            const c = claims.get(tp);
            if (c) expect([...c]).toEqual([memberId]);
          }
        }
      }
    });

    it('is complete, balanced, sticky and stable after the revocation round', () => {
      const random = prng(77);
      for (let i = 0; i < 500; i++) {
        const input = randomGroup(random);
        const phase1 = assign(input);
        const phase2 = assign(withOwned(input, phase1));
        expectComplete(input, phase2);
        expect(balanceViolation(input, phase2), JSON.stringify(input)).toBeUndefined();
        expectKeeps(phase1, phase2);
        expect(assign(withOwned(input, phase2))).toEqual(phase2);
      }
    });

    it('keeps the maximum possible number of owned partitions (identical subscriptions)', () => {
      const random = prng(99);
      for (let i = 0; i < 300; i++) {
        const total = randomInt(random, 20);
        const ids = Array.from({ length: 1 + randomInt(random, 5) }, (_, k) => `m${k}`);
        // Valid, uncontested ownership: each partition owned by at most one member.
        const owned = new Map<string, number[]>(ids.map((id) => [id, []]));
        for (let p = 0; p < total; p++) {
          if (random() < 0.8) owned.get(ids[randomInt(random, ids.length - 1)]!)!.push(p);
        }
        const input: AssignInput = {
          topics: { t: total },
          members: ids.map((id) => member(id, ['t'], { t: owned.get(id)! })),
        };
        const result = assign(input);

        const q = Math.floor(total / ids.length);
        const r = total % ids.length;
        const sizes = ids.map((id) => owned.get(id)!.length);
        const maxKept =
          sizes.reduce((sum, o) => sum + Math.min(o, q), 0) +
          Math.min(r, sizes.filter((o) => o > q).length);
        const kept = ids.reduce(
          (sum, id) => sum + result[id]!.t!.filter((p) => owned.get(id)!.includes(p)).length,
          0,
        );
        expect(kept).toBe(maxKept);

        // Nobody over quota: nothing withheld, so the assignment is already complete.
        if (sizes.every((o) => o <= q)) {
          expectComplete(input, result);
          expectKeeps(Object.fromEntries(ids.map((id) => [id, { t: owned.get(id)! }])), result);
        }
      }
    });

    it('converges through membership changes without ever double-assigning', () => {
      const random = prng(4242);
      const topics = { a: 5, b: 7, c: 3 };
      let group: AssignMember[] = [member('m0', ['a', 'b', 'c'])];
      let current = assign({ topics, members: group });
      for (let step = 0; step < 200; step++) {
        const r = random();
        if (r < 0.3 && group.length < 8) {
          group = [...group, member(`m${step + 1}`, ['a', 'b', 'c'].filter(() => random() < 0.7))];
        } else if (r < 0.5 && group.length > 1) {
          group = group.filter((_, k) => k !== randomInt(random, group.length - 1));
        } else if (r < 0.6) {
          const k = randomInt(random, group.length - 1);
          group = group.map((m, j) =>
            j === k ? member(m.memberId, ['a', 'b', 'c'].filter(() => random() < 0.7)) : m,
          );
        }
        const input = withOwned({ topics, members: group }, current);
        current = assign(input);
      }
      // Let it settle, then it is complete and balanced.
      const input = withOwned({ topics, members: group }, current);
      const settled = converge(input).at(-1)!;
      expectComplete(input, settled);
      expect(balanceViolation(input, settled)).toBeUndefined();
    });
  });

  it('handles a large group quickly enough for a rebalance', () => {
    const topics: { [t: string]: number } = {};
    for (let i = 0; i < 20; i++) topics[`topic-${i}`] = 50;
    const names = Object.keys(topics);
    const members = Array.from({ length: 40 }, (_, i) =>
      member(`member-${String(i).padStart(2, '0')}`, names),
    );
    const input = { topics, members };
    const result = assign(input);
    expectComplete(input, result);
    expect(new Set(members.map((m) => count(result, m.memberId)))).toEqual(new Set([25]));
  });
});
