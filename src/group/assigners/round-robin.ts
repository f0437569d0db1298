/**
 * Kafka's RoundRobinAssignor [pure].
 *
 * Lists every partition of every subscribed topic, sorted by topic then partition, and deals
 * them out to the members (in memberId order) in one circle that runs across topics, skipping
 * a member whenever it does not subscribe to the partition's topic. Same result as
 * `org.apache.kafka.clients.consumer.RoundRobinAssignor` for dynamic members.
 *
 * With identical subscriptions the counts differ by at most one; with different subscriptions
 * the skipping can leave the group unbalanced, exactly as in Kafka. Output contract: see
 * ./index.ts.
 */

import type { Assigner, AssignInput, Assignment } from './index.js';

/** Java `String.compareTo` order (UTF-16 code units), never locale-dependent. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The input, validated: members sorted by memberId with sorted, de-duplicated topics. */
interface Normalized {
  members: { memberId: string; topics: string[] }[];
  counts: Map<string, number>;
}

/** Validates the input and puts it in canonical order; throws RangeError naming the field. */
function normalize(input: AssignInput): Normalized {
  const counts = new Map<string, number>();
  for (const [topic, count] of Object.entries(input.topics)) {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(
        `topics["${topic}"] must be a non-negative integer, got ${String(count)}`,
      );
    }
    counts.set(topic, count);
  }
  const seen = new Set<string>();
  const members = input.members.map((member, i) => {
    if (typeof member.memberId !== 'string') {
      throw new RangeError(`members[${i}].memberId must be a string`);
    }
    if (seen.has(member.memberId)) {
      throw new RangeError(`members[${i}].memberId "${member.memberId}" is not unique`);
    }
    seen.add(member.memberId);
    if (!Array.isArray(member.topics) || member.topics.some((t) => typeof t !== 'string')) {
      throw new RangeError(`members[${i}].topics must be an array of topic names`);
    }
    return { memberId: member.memberId, topics: [...new Set(member.topics)].sort(compareIds) };
  });
  members.sort((a, b) => compareIds(a.memberId, b.memberId));
  return { members, counts };
}

/** Deals all subscribed partitions round-robin, like Kafka's RoundRobinAssignor. */
function assignRoundRobin(input: AssignInput): Assignment {
  const { members, counts } = normalize(input);
  // Object.fromEntries (not `obj[key] =`) so a topic or member named "__proto__" stays data.
  const result = new Map(
    members.map((m) => [m.memberId, new Map(m.topics.map((t) => [t, [] as number[]]))]),
  );
  const subscribed = members.map((m) => new Set(m.topics));
  const allTopics = [...new Set(members.flatMap((m) => m.topics))].sort(compareIds);

  // The circle's position carries over from one topic to the next, as in Kafka.
  let next = 0;
  for (const topic of allTopics) {
    const numPartitions = counts.get(topic) ?? 0;
    for (let p = 0; p < numPartitions; p++) {
      // Terminates: `topic` came from some member's subscription.
      while (!subscribed[next]!.has(topic)) next = (next + 1) % members.length;
      result.get(members[next]!.memberId)!.get(topic)!.push(p);
      next = (next + 1) % members.length;
    }
  }

  return Object.fromEntries(
    [...result].map(([memberId, topics]) => [memberId, Object.fromEntries(topics)]),
  );
}

/** Kafka's RoundRobinAssignor; protocol name 'roundrobin'. */
export const roundRobin: Assigner = { name: 'roundrobin', assign: assignRoundRobin };
