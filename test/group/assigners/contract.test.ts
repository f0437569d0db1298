/** The output contract every assigner shares (see src/group/assigners/index.ts). */
import { describe, expect, it } from 'vitest';
import {
  assigners,
  cooperativeSticky,
  range,
  roundRobin,
  type Assigner,
  type AssignInput,
} from '../../../src/group/assigners/index.js';
import {
  deepFreeze,
  expectComplete,
  expectContract,
  randomInt,
  shuffle,
  subscribedPartitions,
} from './helpers.js';
import { prng } from '../../helpers/prng.js';

describe('assigners index', () => {
  it('exports the three assigners under KafkaJS-style keys with Kafka protocol names', () => {
    expect(assigners.range).toBe(range);
    expect(assigners.roundRobin).toBe(roundRobin);
    expect(assigners.cooperativeSticky).toBe(cooperativeSticky);
    expect(Object.values(assigners).map((a: Assigner) => a.name)).toEqual([
      'range',
      'roundrobin',
      'cooperative-sticky',
    ]);
  });
});

/** A random group: up to 5 topics (some missing from `topics`), up to 7 members. */
function randomInput(random: () => number): AssignInput {
  const names = Array.from({ length: 1 + randomInt(random, 4) }, (_, i) => `t${i}`);
  const topics: { [t: string]: number } = {};
  for (const t of names) if (random() < 0.9) topics[t] = randomInt(random, 8);
  const members = Array.from({ length: randomInt(random, 6) + 1 }, (_, i) => ({
    memberId: `member-${i}`,
    topics: names.filter(() => random() < 0.6),
  }));
  return { topics, members };
}

describe.each([range, roundRobin, cooperativeSticky])('$name: output contract', (assigner) => {
  it('returns {} for an empty group', () => {
    expect(assigner.assign({ members: [], topics: { t: 3 } })).toEqual({});
  });

  it('lists every member, each with exactly its distinct subscribed topics', () => {
    const input: AssignInput = {
      topics: { a: 1, b: 4, unused: 5 },
      members: [
        { memberId: 'm1', topics: ['a', 'b', 'a'] },
        { memberId: 'm2', topics: [] },
        { memberId: 'm3', topics: ['b', 'missing'] },
        { memberId: 'm4', topics: ['a'] },
      ],
    };
    const result = assigner.assign(input);
    expectContract(input, result);
    expectComplete(input, result);
    expect(result.m2).toEqual({});
    expect(result.m3!.missing).toEqual([]);
  });

  it('assigns every subscribed partition exactly once when nothing is owned', () => {
    const random = prng(11);
    for (let i = 0; i < 200; i++) {
      const input = randomInput(random);
      const result = assigner.assign(input);
      expectContract(input, result);
      expectComplete(input, result);
    }
  });

  it('depends only on the input content, not on member or topic order', () => {
    const random = prng(5);
    for (let i = 0; i < 100; i++) {
      const input = randomInput(random);
      const shuffled: AssignInput = {
        topics: Object.fromEntries(shuffle(random, Object.entries(input.topics))),
        members: shuffle(random, input.members).map((m) => ({
          ...m,
          topics: shuffle(random, m.topics),
        })),
      };
      // Same JSON, key order included, so the result is byte-for-byte reproducible.
      expect(JSON.stringify(assigner.assign(shuffled))).toBe(
        JSON.stringify(assigner.assign(input)),
      );
    }
  });

  it('does not mutate its input and shares no arrays with it', () => {
    const input = deepFreeze({
      topics: { t: 4 },
      members: [
        { memberId: 'a', topics: ['t'], owned: { t: [0, 1] } },
        { memberId: 'b', topics: ['t'], owned: { t: [2, 3] } },
      ],
    });
    const result = assigner.assign(input);
    expectContract(input, result);
    result.a!.t!.push(99);
    expect(input.members[0]!.owned.t).toEqual([0, 1]);
  });

  it('returns structured-clone-safe plain data', () => {
    const input = randomInput(prng(9));
    const result = assigner.assign(input);
    expect(structuredClone(result)).toEqual(result);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('treats a topic or member named __proto__ as data', () => {
    const topics = JSON.parse('{"__proto__": 2, "t": 1}') as { [t: string]: number };
    const input: AssignInput = {
      topics,
      members: [{ memberId: '__proto__', topics: ['__proto__', 't'] }],
    };
    const result = assigner.assign(input);
    expect(Object.keys(result)).toEqual(['__proto__']);
    const own = Object.getOwnPropertyDescriptor(result, '__proto__')!.value as {
      [t: string]: number[];
    };
    expect(Object.getOwnPropertyDescriptor(own, '__proto__')!.value).toEqual([0, 1]);
    expect(own.t).toEqual([0]);
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(subscribedPartitions(input)).toHaveLength(3);
  });

  it('refuses a duplicate memberId, naming the field', () => {
    const input: AssignInput = {
      topics: { t: 1 },
      members: [
        { memberId: 'a', topics: ['t'] },
        { memberId: 'a', topics: ['t'] },
      ],
    };
    expect(() => assigner.assign(input)).toThrow(RangeError);
    expect(() => assigner.assign(input)).toThrow(/members\[1\]\.memberId/);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses a partition count of %s, naming the topic',
    (n) => {
      const input: AssignInput = { topics: { t: n }, members: [{ memberId: 'a', topics: ['t'] }] };
      expect(() => assigner.assign(input)).toThrow(RangeError);
      expect(() => assigner.assign(input)).toThrow(/topics\["t"\]/);
    },
  );

  it('refuses topics that are not an array of names, naming the field', () => {
    const input = {
      topics: { t: 1 },
      members: [{ memberId: 'a', topics: 't' }],
    } as unknown as AssignInput;
    expect(() => assigner.assign(input)).toThrow(/members\[0\]\.topics/);
  });
});
