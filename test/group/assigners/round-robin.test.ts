/**
 * Ported from Kafka's clients/src/test/java/org/apache/kafka/clients/consumer/
 * RoundRobinAssignorTest (dynamic members). Kafka returns a flat partition list per member;
 * here the same partitions are grouped by topic, and subscribed topics with nothing assigned
 * map to [].
 */
import { describe, expect, it } from 'vitest';
import { roundRobin } from '../../../src/group/assigners/round-robin.js';
import { count, expectComplete, expectContract, randomInt } from './helpers.js';
import { prng } from '../../helpers/prng.js';

const topic1 = 'topic1';
const topic2 = 'topic2';

describe('round-robin assigner (Kafka RoundRobinAssignorTest)', () => {
  it("is named 'roundrobin'", () => {
    expect(roundRobin.name).toBe('roundrobin');
  });

  it('one consumer, no topic', () => {
    expect(
      roundRobin.assign({ topics: {}, members: [{ memberId: 'consumer', topics: [] }] }),
    ).toEqual({ consumer: {} });
  });

  it('one consumer, nonexistent topic', () => {
    expect(
      roundRobin.assign({ topics: {}, members: [{ memberId: 'consumer', topics: ['topic'] }] }),
    ).toEqual({ consumer: { topic: [] } });
  });

  it('one consumer, one topic', () => {
    expect(
      roundRobin.assign({
        topics: { topic: 3 },
        members: [{ memberId: 'consumer', topics: ['topic'] }],
      }),
    ).toEqual({ consumer: { topic: [0, 1, 2] } });
  });

  it('only assigns partitions from subscribed topics', () => {
    expect(
      roundRobin.assign({
        topics: { topic: 3, other: 3 },
        members: [{ memberId: 'consumer', topics: ['topic'] }],
      }),
    ).toEqual({ consumer: { topic: [0, 1, 2] } });
  });

  it('one consumer, multiple topics', () => {
    expect(
      roundRobin.assign({
        topics: { [topic1]: 1, [topic2]: 2 },
        members: [{ memberId: 'consumer', topics: [topic1, topic2] }],
      }),
    ).toEqual({ consumer: { topic1: [0], topic2: [0, 1] } });
  });

  it('two consumers, one topic, one partition', () => {
    expect(
      roundRobin.assign({
        topics: { [topic1]: 1 },
        members: [
          { memberId: 'consumer1', topics: [topic1] },
          { memberId: 'consumer2', topics: [topic1] },
        ],
      }),
    ).toEqual({ consumer1: { topic1: [0] }, consumer2: { topic1: [] } });
  });

  it('two consumers, one topic, two partitions', () => {
    expect(
      roundRobin.assign({
        topics: { [topic1]: 2 },
        members: [
          { memberId: 'consumer1', topics: [topic1] },
          { memberId: 'consumer2', topics: [topic1] },
        ],
      }),
    ).toEqual({ consumer1: { topic1: [0] }, consumer2: { topic1: [1] } });
  });

  it('multiple consumers, mixed topics', () => {
    expect(
      roundRobin.assign({
        topics: { [topic1]: 3, [topic2]: 2 },
        members: [
          { memberId: 'consumer1', topics: [topic1] },
          { memberId: 'consumer2', topics: [topic1, topic2] },
          { memberId: 'consumer3', topics: [topic1] },
        ],
      }),
    ).toEqual({
      consumer1: { topic1: [0] },
      consumer2: { topic1: [1], topic2: [0, 1] },
      consumer3: { topic1: [2] },
    });
  });

  it('two consumers, two topics, six partitions', () => {
    expect(
      roundRobin.assign({
        topics: { [topic1]: 3, [topic2]: 3 },
        members: [
          { memberId: 'consumer1', topics: [topic1, topic2] },
          { memberId: 'consumer2', topics: [topic1, topic2] },
        ],
      }),
    ).toEqual({
      consumer1: { topic1: [0, 2], topic2: [1] },
      consumer2: { topic1: [1], topic2: [0, 2] },
    });
  });
});

describe('round-robin assigner, lanes specifics', () => {
  it('keeps the circle going from one topic to the next', () => {
    expect(
      roundRobin.assign({
        topics: { a: 2, b: 2 },
        members: ['m1', 'm2', 'm3'].map((memberId) => ({ memberId, topics: ['a', 'b'] })),
      }),
    ).toEqual({ m1: { a: [0], b: [1] }, m2: { a: [1], b: [] }, m3: { a: [], b: [0] } });
  });

  it('orders members by memberId and topics by name, whatever the input order', () => {
    const result = roundRobin.assign({
      topics: { b: 1, a: 1 },
      members: [
        { memberId: 'z', topics: ['b', 'a'] },
        { memberId: 'y', topics: ['a', 'b', 'a'] },
      ],
    });
    expect(result).toEqual({ y: { a: [0], b: [] }, z: { a: [], b: [0] } });
  });

  it('balances members with identical subscriptions to within one partition', () => {
    const random = prng(3);
    for (let round = 0; round < 100; round++) {
      const topics: { [t: string]: number } = {};
      const names = Array.from({ length: 1 + randomInt(random, 4) }, (_, i) => `t${i}`);
      for (const t of names) topics[t] = randomInt(random, 9);
      const members = Array.from({ length: 1 + randomInt(random, 6) }, (_, i) => ({
        memberId: `m${i}`,
        topics: names,
      }));
      const input = { topics, members };
      const result = roundRobin.assign(input);
      expectContract(input, result);
      expectComplete(input, result);
      const counts = members.map((m) => count(result, m.memberId));
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  it('ignores owned partitions (eager protocol)', () => {
    expect(
      roundRobin.assign({
        topics: { t: 2 },
        members: [
          { memberId: 'a', topics: ['t'], owned: { t: [1] } },
          { memberId: 'b', topics: ['t'], owned: { t: [0] } },
        ],
      }),
    ).toEqual({ a: { t: [0] }, b: { t: [1] } });
  });
});
