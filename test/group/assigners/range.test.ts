/**
 * Ported from Kafka's clients/src/test/java/org/apache/kafka/clients/consumer/RangeAssignorTest
 * (dynamic members, no racks). Kafka returns a flat partition list per member; here the same
 * partitions are grouped by topic, and subscribed topics with nothing assigned map to [].
 */
import { describe, expect, it } from 'vitest';
import { range } from '../../../src/group/assigners/range.js';
import { expectComplete, expectContract } from './helpers.js';

const topic1 = 'topic1';
const topic2 = 'topic2';

describe('range assigner (Kafka RangeAssignorTest)', () => {
  it("is named 'range'", () => {
    expect(range.name).toBe('range');
  });

  it('one consumer, no topic', () => {
    expect(range.assign({ topics: {}, members: [{ memberId: 'consumer', topics: [] }] })).toEqual({
      consumer: {},
    });
  });

  it('one consumer, nonexistent topic', () => {
    expect(
      range.assign({ topics: {}, members: [{ memberId: 'consumer', topics: ['topic'] }] }),
    ).toEqual({ consumer: { topic: [] } });
  });

  it('one consumer, one topic', () => {
    expect(
      range.assign({ topics: { topic: 3 }, members: [{ memberId: 'consumer', topics: ['topic'] }] }),
    ).toEqual({ consumer: { topic: [0, 1, 2] } });
  });

  it('only assigns partitions from subscribed topics', () => {
    expect(
      range.assign({
        topics: { topic: 3, other: 3 },
        members: [{ memberId: 'consumer', topics: ['topic'] }],
      }),
    ).toEqual({ consumer: { topic: [0, 1, 2] } });
  });

  it('one consumer, multiple topics', () => {
    expect(
      range.assign({
        topics: { [topic1]: 1, [topic2]: 2 },
        members: [{ memberId: 'consumer', topics: [topic1, topic2] }],
      }),
    ).toEqual({ consumer: { topic1: [0], topic2: [0, 1] } });
  });

  it('two consumers, one topic, one partition', () => {
    expect(
      range.assign({
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
      range.assign({
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
      range.assign({
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
      range.assign({
        topics: { [topic1]: 3, [topic2]: 3 },
        members: [
          { memberId: 'consumer1', topics: [topic1, topic2] },
          { memberId: 'consumer2', topics: [topic1, topic2] },
        ],
      }),
    ).toEqual({
      consumer1: { topic1: [0, 1], topic2: [0, 1] },
      consumer2: { topic1: [2], topic2: [2] },
    });
  });

  it('four consumers, topics of five and four partitions (testStaticMemberRangeAssignmentPersistent)', () => {
    const members = ['consumer1', 'consumer2', 'consumer3', 'consumer4'].map((memberId) => ({
      memberId,
      topics: [topic1, topic2],
    }));
    const expected = {
      consumer1: { topic1: [0, 1], topic2: [0] },
      consumer2: { topic1: [2], topic2: [1] },
      consumer3: { topic1: [3], topic2: [2] },
      consumer4: { topic1: [4], topic2: [3] },
    };
    expect(range.assign({ topics: { [topic1]: 5, [topic2]: 4 }, members })).toEqual(expected);

    // Replace consumer4 with consumer5: it sorts last too, so it takes the same ranges.
    members[3] = { memberId: 'consumer5', topics: [topic1, topic2] };
    const { consumer4, ...rest } = expected;
    expect(range.assign({ topics: { [topic1]: 5, [topic2]: 4 }, members })).toEqual({
      ...rest,
      consumer5: consumer4,
    });
  });
});

describe('range assigner, lanes specifics', () => {
  it('orders members by memberId (UTF-16 code units), not by input order or locale', () => {
    const result = range.assign({
      topics: { t: 3 },
      members: [
        { memberId: 'b', topics: ['t'] },
        { memberId: 'a', topics: ['t'] },
        { memberId: 'B', topics: ['t'] }, // 'B' (0x42) sorts before 'a' (0x61)
      ],
    });
    expect(result).toEqual({ B: { t: [0] }, a: { t: [1] }, b: { t: [2] } });
  });

  it('gives the extra partitions of every topic to the first members (unlike round-robin)', () => {
    const result = range.assign({
      topics: { a: 3, b: 3, c: 3 },
      members: [
        { memberId: 'm1', topics: ['a', 'b', 'c'] },
        { memberId: 'm2', topics: ['a', 'b', 'c'] },
      ],
    });
    expect(result).toEqual({
      m1: { a: [0, 1], b: [0, 1], c: [0, 1] },
      m2: { a: [2], b: [2], c: [2] },
    });
  });

  it('lines up co-partitioned topics', () => {
    const input = {
      topics: { orders: 6, payments: 6 },
      members: ['x', 'y', 'z'].map((memberId) => ({ memberId, topics: ['orders', 'payments'] })),
    };
    const result = range.assign(input);
    for (const m of ['x', 'y', 'z']) expect(result[m]!.orders).toEqual(result[m]!.payments);
    expectComplete(input, result);
  });

  it('maps a zero-partition topic to [] and leaves more members than partitions empty', () => {
    const input = {
      topics: { empty: 0, t: 2 },
      members: ['m1', 'm2', 'm3'].map((memberId) => ({ memberId, topics: ['empty', 't'] })),
    };
    const result = range.assign(input);
    expect(result).toEqual({
      m1: { empty: [], t: [0] },
      m2: { empty: [], t: [1] },
      m3: { empty: [], t: [] },
    });
    expectContract(input, result);
  });

  it('ignores owned partitions (eager protocol)', () => {
    expect(
      range.assign({
        topics: { t: 2 },
        members: [
          { memberId: 'a', topics: ['t'], owned: { t: [1] } },
          { memberId: 'b', topics: ['t'], owned: { t: [0] } },
        ],
      }),
    ).toEqual({ a: { t: [0] }, b: { t: [1] } });
  });
});
