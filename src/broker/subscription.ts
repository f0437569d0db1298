/**
 * A group consumer's subscription resolved to the topic names its member reports [broker]. The
 * tab sends the subscription itself (names and regular expressions) with every heartbeat, and
 * the broker resolves it, as Kafka's KIP-848 does: the rules about deleted, missing and
 * matching topics live in this one place (see ConsumerSubscription in protocol/broker-api.ts).
 *
 * Invariants:
 * - Named topics are reported whether they exist or not; only a first heartbeat auto-creates
 *   them, never one deleted within metadataMaxAge, and only a first heartbeat fails on a
 *   missing one (with auto-creation off).
 * - Patterns match the topics that exist now, internal topics excluded.
 * - The answer is sorted, so an unchanged subscription reports the same list.
 */
import { InvalidArgumentError, TopicNotFoundError } from '../errors.js';
import type { ConsumerSubscription, MetadataRequest, TopicInfo } from '../protocol/broker-api.js';

/**
 * The sorted topic names `s` covers now. `metadata` is the broker's own (auto-creation,
 * recent deletions); `topics` lists the existing topics.
 */
export async function resolveSubscription(
  s: ConsumerSubscription, metadata: (req: MetadataRequest) => Promise<TopicInfo[]>, topics: () => Iterable<{ topic: string; internal: boolean }>,
): Promise<string[]> {
  if (!Array.isArray(s?.subscription) || s.subscription.length === 0 || s.subscription.some((t) => typeof t !== 'string' && !(t instanceof RegExp))) {
    throw new InvalidArgumentError('groupHeartbeat: subscription must be a non-empty array of topic names and RegExps', { details: { field: 'subscription' } });
  }
  const plain = s.subscription.filter((t): t is string => typeof t === 'string');
  const names = new Set(plain);
  if (s.first && plain.length) {
    const infos = await metadata({
      topics: plain, allowAutoTopicCreation: s.allowAutoTopicCreation, numPartitions: s.numPartitions,
      allowMissing: true, notDeletedWithinMs: s.metadataMaxAge,
    });
    const found = new Set(infos.map((i) => i.topic));
    const missing = plain.filter((t) => !found.has(t));
    if (!s.allowAutoTopicCreation && missing.length > 0) {
      throw new TopicNotFoundError(`subscribed topic ${JSON.stringify(missing[0])} does not exist and auto-creation is off`, { details: { topic: missing[0], topics: missing } });
    }
  }
  const patterns = s.subscription.filter((t): t is RegExp => t instanceof RegExp);
  if (patterns.length) {
    for (const t of topics()) if (!t.internal && patterns.some((p) => { p.lastIndex = 0; return p.test(t.topic); })) names.add(t.topic);
  }
  return [...names].sort();
}
