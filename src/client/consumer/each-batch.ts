/**
 * eachBatch's payload (KafkaJS's EachBatchPayload), loaded when a run uses eachBatch: the batch
 * with its lag figures, resolveOffset, commitOffsetsIfNecessary, uncommittedOffsets, isRunning
 * and isStale. A consumer that uses eachMessage never downloads it.
 *
 * Invariants:
 * - A position only moves forward, and only while the partition is still this cursor's (a seek
 *   or a reassignment in the handler makes later resolveOffset calls no-ops).
 * - A handler that threw is retried with the whole batch (./failure.ts); the batch is resolved
 *   whole afterwards only with `eachBatchAutoResolve` (default) and while still current.
 * - The records resolved are counted for auto-commit after the handler returned.
 */
import type { KafkaMessage } from '../../types.js';
import type { Membership } from './membership.js';
import type { PartitionCursor, Positions } from './positions.js';
import type { Batch, RunConfig, Runner } from './runner.js';

/** Calls `run.eachBatch` with one partition's decoded records, retrying it on failure. */
export async function eachBatch(
  run: RunConfig, positions: Positions, runner: Runner, c: PartitionCursor, epoch: number, messages: KafkaMessage[],
  live: () => boolean, pause: () => () => void, heartbeat: () => Promise<void>, high: number, m?: Membership,
): Promise<void> {
  const before = c.position!;
  const firstOffset = () => messages[0]!.offset, lastOffset = () => messages[messages.length - 1]!.offset;
  const lag = (o: () => string) => () => String(Math.max(0, high - 1 - Number(o())));
  // A batch handed over is never empty (empty stored batches are skipped by the runner).
  const batch: Batch = {
    topic: c.topic, partition: c.partition, highWatermark: String(high), messages,
    isEmpty: () => false, firstOffset, lastOffset, offsetLag: lag(lastOffset), offsetLagLow: lag(firstOffset),
  };
  const resolveOffset = (offset: string) => {
    if (c.epoch !== epoch || positions.get(c.topic, c.partition) !== c) return;
    const n = Number(offset) + 1;
    if (n > (c.position ?? -1)) c.position = n;
  };
  const call = () => run.eachBatch!({
    batch, resolveOffset, heartbeat, pause,
    commitOffsetsIfNecessary: async (offsets) => {
      await (offsets ? m?.commit(offsets.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, ...p }))), 'commitOffsetsIfNecessary') : m?.commitIfNecessary());
    },
    uncommittedOffsets: () => m?.uncommittedOffsets() ?? { topics: [] },
    isRunning: () => runner.running,
    isStale: () => !live(),
  });
  try {
    await call();
  } catch (e) {
    await runner.retry(call, e);
  }
  // A handler that returned early because the batch went stale (seek, rebalance, stop) has
  // not processed the rest: only resolve the whole batch when it is still current.
  if ((run.eachBatchAutoResolve ?? true) && live()) resolveOffset(batch.lastOffset());
  await m?.processed(Math.max(0, (c.position ?? before) - before));
}
