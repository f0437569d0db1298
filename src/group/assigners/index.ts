/**
 * Partition assigners for consumer groups [pure: runs in the broker, testable anywhere].
 *
 * The group coordinator picks one assigner per generation (by `name`, the protocol name the
 * members agreed on) and calls `assign` with every member's subscription. The result is the
 * whole group's assignment for that generation.
 *
 * Output contract, shared by every assigner here:
 * - Every member of the input is a key of the result, even one that gets nothing.
 * - Each member maps every distinct topic it subscribes to, and only those, to an array of
 *   partition numbers: sorted ascending, possibly empty (a topic that does not exist yet, has
 *   zero partitions, or whose partitions all went elsewhere maps to `[]`). A consumer can thus
 *   tell "subscribed, nothing for you" from "not subscribed".
 * - No partition is in two members' lists; only existing partitions (0 <= p < count) appear.
 * - The result depends only on the input's content, not on the order of `members` or of the
 *   topic lists: members are taken in memberId order (UTF-16 code-unit order, like Java's
 *   `String.compareTo`), topics in name order.
 * - The result is plain data (structured-clone safe) and shares no arrays with the input.
 *
 * Input that breaks the contract (duplicate memberId, negative or fractional partition count)
 * is refused with a RangeError naming the field. `owned` lists are reported by remote members
 * and are only hints, so impossible entries in them are ignored rather than refused.
 */

import { cooperativeSticky } from './cooperative-sticky.js';
import { range } from './range.js';
import { roundRobin } from './round-robin.js';

/** One group member as the assigner sees it. */
export interface AssignMember {
  /** The member's id in the group; unique within one `assign` call. */
  memberId: string;
  /** Topics the member subscribes to. Order and duplicates do not matter. */
  topics: string[];
  /**
   * Partitions the member owns from the previous generation, by topic. Read only by
   * cooperative-sticky (to stay sticky and to withhold partitions that are still being
   * revoked); the eager assigners ignore it.
   */
  owned?: { [topic: string]: number[] };
}

/** Everything an assigner needs for one generation. */
export interface AssignInput {
  /** Every member of the new generation. */
  members: AssignMember[];
  /** Partition count of every known topic; subscribed topics missing here get nothing. */
  topics: { [topic: string]: number };
}

/** memberId -> topic -> partitions, sorted ascending. See the output contract above. */
export type Assignment = { [memberId: string]: { [topic: string]: number[] } };

/** A partition assignment strategy (Kafka's `ConsumerPartitionAssignor`, minus the wire). */
export interface Assigner {
  /** Protocol name members advertise: 'range', 'roundrobin' or 'cooperative-sticky'. */
  name: string;
  /** Computes the group's assignment. Pure: same input, same output. */
  assign(input: AssignInput): Assignment;
}

export { cooperativeSticky, range, roundRobin };

/** The built-in assigners, by their KafkaJS-style names. */
export const assigners = { range, roundRobin, cooperativeSticky } as const;
