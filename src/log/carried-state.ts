/**
 * State carried by the partition's last batch [broker, sw; pure]. An append writes one row, its
 * batch, instead of three: the active segment's counters and the appending producer's
 * idempotence state travel inside the batch row (`RecordBatch.carried`), and the segment and
 * producer rows are written only when they would otherwise be lost. Loading a partition
 * rebuilds both from its last batch, as Kafka rebuilds producer state from the log's tail.
 *
 * Invariants (after every committed transaction, for every partition):
 * - The active segment's counters are those of its row, or, when the partition's last batch
 *   belongs to the active segment, those that batch carries (the newer of the two: the row is
 *   rewritten whenever the segment rolls and whenever the cleaner removes batches).
 * - Every producer's state on the partition is its producers row, except the partition's
 *   carrier (the producer of the last batch, when that batch carries a producer state), whose
 *   state is the newer of its row and what the last batch carries. Newer means a later last
 *   batch offset: offsets only grow on a partition.
 * - So the rows must be written before the last batch stops carrying them: an append by
 *   another producer (or a marker, or a non-idempotent batch) writes the old carrier's row in
 *   its transaction; the cleaner writes the active segment row and the carrier's row in every
 *   transaction that deletes batches.
 */
import type { CarriedState, RecordBatch } from '../protocol/record-batch.js';
import type { ProducerRow, SegmentRow } from './log-db.js';
import type { PartitionState } from './log-store.js';

/** What a batch placed in `active` (its counters already include the batch) carries. */
export function carriedBy(active: SegmentRow, producer: ProducerRow | undefined): CarriedState {
  const segment = { sizeBytes: active.sizeBytes, batchCount: active.batchCount, recordCount: active.recordCount, firstTimestamp: active.firstTimestamp, maxTimestamp: active.maxTimestamp };
  if (!producer) return { segment };
  return { segment, producer: { epoch: producer.epoch, lastSequence: producer.lastSequence, recent: producer.recent, updatedAt: producer.updatedAt } };
}

/** The producer state a stored batch carries, as a producers row, or undefined. */
export function producerCarriedBy(last: RecordBatch | undefined): ProducerRow | undefined {
  const p = last?.carried?.producer;
  if (!last || !p || !(last.producerId >= 0)) return undefined;
  return { producerId: last.producerId, topic: last.topic, partition: last.partition, epoch: p.epoch, lastSequence: p.lastSequence, recent: p.recent, updatedAt: p.updatedAt };
}

/** The offset of a producer state's last batch (-1 when it has none). */
function lastBatchOffset(r: ProducerRow): number {
  return r.recent.length ? r.recent[r.recent.length - 1]!.baseOffset : -1;
}

/** The newer of two states of one producer on one partition (see the module's invariants). */
export function newerProducerState(a: ProducerRow | undefined, b: ProducerRow | undefined): ProducerRow | undefined {
  if (!a) return b;
  if (!b) return a;
  return lastBatchOffset(b) > lastBatchOffset(a) ? b : a;
}

/**
 * A loaded partition's state with what its last batch carries applied: the active segment's
 * counters when the batch belongs to it, and the carrier.
 */
export function withCarried(state: PartitionState, last: RecordBatch | undefined): PartitionState {
  const c = last?.carried;
  if (!last || !c) return state;
  const carrier = producerCarriedBy(last)?.producerId;
  const a = state.active;
  if (last.segment !== a.baseOffset || a.sealedAt !== -1) return { ...state, carrier };
  const end = last.baseOffset + last.lastOffsetDelta + 1;
  if (end < a.nextOffset) return { ...state, carrier };
  return { ...state, carrier, active: { ...a, ...c.segment, nextOffset: end } };
}

/**
 * The rows a transaction that deletes batches of a partition writes first, so no state lives
 * only in a batch it may delete: the active segment's row and the carrier's producers row
 * (`producer(id)` gives a producer's state in memory). Install `{ ...p, carrier: undefined }` after it commits.
 */
export function rowsBeforeDeleting(p: PartitionState, producer: (id: number) => ProducerRow | undefined): { segment: SegmentRow; producer?: ProducerRow } {
  return { segment: p.active, producer: p.carrier === undefined ? undefined : producer(p.carrier) };
}
