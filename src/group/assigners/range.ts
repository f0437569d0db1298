/**
 * Kafka's RangeAssignor [pure].
 *
 * Topic by topic, the members subscribed to it (in memberId order) split its partitions into
 * contiguous ranges: each gets floor(n / members), and the first n % members get one more.
 * Same result as `org.apache.kafka.clients.consumer.RangeAssignor` for dynamic members
 * (lanes has no group.instance.id, so members sort by memberId alone).
 *
 * Because every topic starts again from the first member, co-partitioned topics line up
 * (partition i of each topic goes to the same member), and the first members can carry one
 * extra partition per topic. Output contract: see ./index.ts.
 */

import { compareIds, normalize } from './common.js';
import type { Assigner, AssignInput, Assignment } from './index.js';

/** Assigns topic by topic in contiguous ranges, like Kafka's RangeAssignor. */
function assignRange(input: AssignInput): Assignment {
  const { members, counts } = normalize(input);
  // Object.fromEntries (not `obj[key] =`) so a topic or member named "__proto__" stays data.
  const result = new Map(
    members.map((m) => [m.memberId, new Map(m.topics.map((t) => [t, [] as number[]]))]),
  );

  const subscribers = new Map<string, string[]>();
  for (const member of members) {
    for (const topic of member.topics) {
      const list = subscribers.get(topic);
      if (list) list.push(member.memberId);
      else subscribers.set(topic, [member.memberId]);
    }
  }

  for (const [topic, consumers] of subscribers) {
    const numPartitions = counts.get(topic) ?? 0;
    // `consumers` is already in memberId order because `members` is.
    const perConsumer = Math.floor(numPartitions / consumers.length);
    const withExtra = numPartitions % consumers.length;
    consumers.forEach((memberId, i) => {
      const start = perConsumer * i + Math.min(i, withExtra);
      const length = perConsumer + (i < withExtra ? 1 : 0);
      const list = result.get(memberId)!.get(topic)!;
      for (let p = start; p < start + length; p++) list.push(p);
    });
  }

  return Object.fromEntries(
    [...result].map(([memberId, topics]) => [memberId, Object.fromEntries(topics)]),
  );
}

/** Kafka's RangeAssignor; protocol name 'range'. */
export const range: Assigner = { name: 'range', assign: assignRange };
