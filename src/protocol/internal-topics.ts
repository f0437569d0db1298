/**
 * Internal topics [pure]: topics the broker itself writes (committed offsets now, transaction
 * state later). Kafka refuses produce requests, deletes and DeleteRecords on them with
 * INVALID_TOPIC_EXCEPTION; so does lanes, and it refuses to create a user topic under a
 * reserved name, so a later version can create its internal topic there.
 */
import { InvalidTopicError } from '../errors.js';

/** Committed offsets of every group (compacted). */
export const OFFSETS_TOPIC = '__consumer_offsets';
/** Reserved for transactions. */
export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/** Every internal topic name, present or future. */
export const INTERNAL_TOPICS: readonly string[] = [OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC];

/** True for the name of an internal topic. */
export function isInternalTopic(topic: string): boolean {
  return INTERNAL_TOPICS.includes(topic);
}

/**
 * Throws InvalidTopicError when `topic` is internal (by name, or by the `internal` flag of its
 * stored row). `operation` names what was refused, e.g. `produce`.
 */
export function assertNotInternal(topic: string, operation: string, internalFlag = false): void {
  if (!internalFlag && !isInternalTopic(topic)) return;
  throw new InvalidTopicError(`${operation} refused: ${JSON.stringify(topic)} is an internal topic (InvalidTopicError, Kafka's INVALID_TOPIC_EXCEPTION); only the broker writes it`, {
    details: { topic, operation },
  });
}
