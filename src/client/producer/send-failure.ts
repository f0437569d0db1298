/**
 * What a producer does when a produce request fails, loaded on the first failure: a producer
 * whose sends succeed never downloads it.
 *
 * Invariants:
 * - A request refused because the log knows nothing of this producer on a partition (its topic
 *   was deleted and created again: OUT_OF_ORDER_SEQUENCE_NUMBER expecting 0) is sent again at
 *   once with that partition's sequence starting over, as Kafka's client does on
 *   UNKNOWN_PRODUCER_ID; nothing else is retried without the retry schedule.
 * - A partition the broker does not know drops the cached metadata of every topic of the request.
 * - A non-retriable error ends the retries at once (bail); a retriable one is logged and
 *   rethrown for the retry schedule.
 * - When a request joining several sends is refused, each send is tried alone, so one bad send
 *   cannot fail its neighbours; a send refused for a partition that is gone is placed again once,
 *   with fresh metadata (./replace.ts); anything else rejects that send only.
 */
import { LanesError, isRetriable } from '../../errors.js';
import type { Partitioner } from '../../partitioner/partitioners.js';
import type { ProduceBatch, TopicInfo } from '../../protocol/broker-api.js';
import type { RecordMetadata } from '../../types.js';
import type { Logger } from '../logger.js';
import type { Bail } from '../retry.js';
import type { PendingSend } from './producer.js';

/** What a failed request needs of its producer. */
export interface RequestSide {
  batches: ProduceBatch[];
  producerId: number;
  metadata: Map<string, unknown>;
  logger: Logger;
}

/**
 * Handles error `e` of one try of a produce request: returns when the request is to be sent
 * again at once (a sequence that starts over, set on its batch here); otherwise throws (bail, or
 * `e` for the retry schedule).
 */
export function requestFailed(r: RequestSide, e: unknown, bail: Bail, retryCount: number, retryTime: number): void {
  const d = e instanceof LanesError ? e.details : {};
  const restart = e instanceof LanesError && e.code === 'OUT_OF_ORDER_SEQUENCE_NUMBER' && d.expected === 0 && d.producerId === r.producerId
    ? r.batches.find((b) => b.topic === d.topic && b.partition === d.partition && b.baseSequence > 0)
    : undefined;
  if (restart) {
    restart.baseSequence = 0;
    return;
  }
  // A partition the broker does not know: this producer's metadata of the topic is stale.
  if (e instanceof LanesError && e.code === 'UNKNOWN_TOPIC_OR_PARTITION') for (const b of r.batches) r.metadata.delete(b.topic);
  if (!isRetriable(e)) bail(e);
  r.logger.warn('Failed to send messages, retrying', { retryCount, retryTime, error: (e as Error).message });
  throw e;
}

/** What failed sends need of their producer. */
export interface SendSide {
  /** Sends the sends as one request; resolves when written, throws for all. */
  request(sends: PendingSend[]): Promise<void>;
  results(s: PendingSend): RecordMetadata[];
  topicInfo(topic: string): Promise<TopicInfo>;
  partitioner: Partitioner;
}

/** A request of `sends` failed with `e`: settles each send (alone, once more, when several were joined). */
export async function sendsFailed(p: SendSide, sends: PendingSend[], e: unknown): Promise<void> {
  if (sends.length === 1 || (e instanceof LanesError && (e.retriable || e.code === 'NUMBER_OF_RETRIES_EXCEEDED'))) {
    for (const s of sends) await failed(p, s, e);
    return;
  }
  // A joint request was refused: retry each send alone so only the bad one fails.
  for (const s of sends) {
    try {
      await p.request([s]);
      s.resolve(p.results(s));
    } catch (e2) {
      await failed(p, s, e2);
    }
  }
}

/**
 * A send refused because a partition it was placed on is gone (its topic was deleted, or
 * re-created with fewer partitions, since this producer looked it up) is placed again, once,
 * with fresh metadata (the refused request dropped the cached metadata), from its encoded
 * records: ./replace.ts says how. Otherwise it fails.
 */
async function failed(p: SendSide, s: PendingSend, e: unknown): Promise<void> {
  if (!(e instanceof LanesError && e.code === 'UNKNOWN_TOPIC_OR_PARTITION') || s.placedAgain) return s.reject(e);
  s.placedAgain = true;
  try {
    s.chunks = await (await import('./replace.js')).placeAgain(s.chunks, p.topicInfo, p.partitioner);
    await p.request([s]);
    s.resolve(p.results(s));
  } catch (e2) {
    s.reject(e2);
  }
}
