/**
 * A group consumer's subscription resolved to the topic names it reports when it joins [tab].
 * Kept apart from the membership so the rules about deleted topics live in one place:
 *
 * - Named topics are reported whether they exist or not. The coordinator assigns only what
 *   exists, and starts a round when a subscribed topic is created, so a consumer whose topic
 *   was deleted keeps its other partitions and gets the topic back when it reappears.
 * - Auto-creation (`allowAutoTopicCreation`, default true) never re-creates a topic that was
 *   deleted within the consumer's `metadataMaxAge`: the broker remembers recent deletions.
 * - Only a first join fails on a missing named topic, and only with auto-creation off
 *   (TopicNotFoundError, as KafkaJS's subscribe); later joins go on without it.
 * - Patterns match the topics that exist now (internal topics excluded).
 */
import { TopicNotFoundError } from '../../errors.js';
import type { BrokerApi } from '../../protocol/broker-api.js';

/** How a subscription is resolved. */
export interface SubscriptionOptions {
  allowAutoTopicCreation: boolean;
  /** Partitions of an auto-created topic. */
  numPartitions?: number;
  /** KafkaJS's metadataMaxAge: no auto-creation of a topic deleted less than this long ago. */
  metadataMaxAge: number;
  /** The member's first join (it has no generation yet). */
  first: boolean;
}

/** The sorted topic names `subscription` covers, as reported to the coordinator. */
export async function resolveSubscription(broker: BrokerApi, subscription: readonly (string | RegExp)[], o: SubscriptionOptions): Promise<string[]> {
  const names = new Set<string>();
  const plain = subscription.filter((t): t is string => typeof t === 'string');
  if (plain.length) {
    const infos = await broker.metadata({
      topics: plain, allowAutoTopicCreation: o.allowAutoTopicCreation, numPartitions: o.numPartitions,
      allowMissing: true, notDeletedWithinMs: o.metadataMaxAge,
    });
    const found = new Set(infos.map((i) => i.topic));
    const missing = plain.filter((t) => !found.has(t));
    if (o.first && !o.allowAutoTopicCreation && missing.length > 0) {
      throw new TopicNotFoundError(`subscribed topic ${JSON.stringify(missing[0])} does not exist and auto-creation is off`, { details: { topic: missing[0], topics: missing } });
    }
    for (const t of plain) names.add(t);
  }
  const patterns = subscription.filter((t): t is RegExp => t instanceof RegExp);
  if (patterns.length) {
    for (const i of await broker.metadata({})) if (patterns.some((p) => { p.lastIndex = 0; return p.test(i.topic); })) names.add(i.topic);
  }
  return [...names].sort();
}
