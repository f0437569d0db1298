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

import { compareIds, normalize } from './common.js';
import type { Assigner, AssignInput, Assignment } from './index.js';

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
