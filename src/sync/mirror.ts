/**
 * Mirror: follows a replica topic into a local topic, so a device sees what other devices (and
 * server producers) wrote. Runs in the broker, the log's only writer.
 *
 * Invariants:
 * - Replica partition p goes to local partition p of `into`, in replica offset order; each
 *   mirrored record carries the replica offset in the header {@link REPLICA_OFFSET_HEADER}.
 * - The position is read back from the log itself (the last mirrored record's header), so an
 *   append and its position commit in one transaction: a mirror resumes exactly after the last
 *   record it wrote, across reloads and crashes, with nothing skipped or written twice.
 * - `into` is registered as a mirror (sync-meta) before the first record is written, so the
 *   uploader never pushes it back to the replica (no loops).
 */
import type { Appender } from '../log/appender.js';
import { S, transaction } from '../log/log-db.js';
import type { LogStore } from '../log/log-store.js';
import { decodeBatch, encodeRecords, verifyCrc, type RecordBatch } from '../protocol/record-batch.js';
import type { KafkaMessage, Message } from '../types.js';
import type { ReplicaClient } from './replica-client.js';

/** Header holding a mirrored record's replica offset (decimal string). */
export const REPLICA_OFFSET_HEADER = 'lanes-replica-offset';

/** Options of a mirror. */
export interface MirrorOptions {
  store: LogStore;
  appender: Appender;
  client: ReplicaClient;
  /** Replica topic to follow. */
  topic: string;
  /** Local topic to write into. */
  into: string;
  /** Creates or grows the local topic to `partitions` partitions (through the broker, so groups hear of it). */
  ensureTopic: (topic: string, partitions: number) => Promise<void>;
  /** Pause between polls once caught up, ms. */
  intervalMs?: number;
  maxBytes?: number;
  /** Called after each failed round (the mirror retries after the interval). */
  onError?: (e: unknown) => void;
  /** Called after each round that did not fail (written or caught up). */
  onOk?: () => void;
  /** Called after records were written. */
  onProgress?: (partition: number, nextReplicaOffset: number) => void;
}

/** The replica offset to read next for a local partition of a mirror (0 when nothing was mirrored). */
export async function mirrorPosition(store: LogStore, into: string, partition: number): Promise<number> {
  // Keys backwards, and one row at a time: a backward value cursor reads ahead, and Firefox
  // deserializes several batches per response that nobody uses (as reader.ts found,
  // bench/ANALYSIS.md). The last batch usually holds the answer.
  const os = transaction(store.db, [S.batches], 'readonly', `mirror position of ${into}-${partition}`).objectStore(S.batches);
  let cursor = await os.openKeyCursor(store.partitionRange(into, partition, -Infinity), 'prev');
  while (cursor) {
    const batch = await os.get(cursor.primaryKey);
    if (batch) {
      const recs: KafkaMessage[] = [];
      decodeBatch(batch, recs);
      for (let i = recs.length - 1; i >= 0; i--) {
        const h = recs[i]!.headers[REPLICA_OFFSET_HEADER];
        if (typeof h === 'string') return Number(h) + 1;
      }
    }
    cursor = await cursor.continue();
  }
  return 0;
}

/** A running mirror. */
export class Mirror {
  private stopped = false;
  private wake: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(private readonly o: MirrorOptions) {
    this.done = this.loop();
  }

  /** Stops after the current round. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Polls now instead of after the interval. */
  poke(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const o = this.o;
    while (!this.stopped) {
      let wrote = false;
      try {
        wrote = await this.round();
        if (!this.stopped) o.onOk?.();
      } catch (e) {
        if (!this.stopped) o.onError?.(e);
      }
      if (this.stopped) return;
      if (!wrote) {
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, o.intervalMs ?? 1000);
        });
        this.wake = undefined;
      }
    }
  }

  /** One pass over every partition; true when records were written. */
  private async round(): Promise<boolean> {
    const o = this.o;
    const info = await o.client.topic(o.topic);
    if (!info || info.partitions.length === 0) return false;
    await o.ensureTopic(o.into, info.partitions.length);
    let wrote = false;
    for (const p of info.partitions) {
      if (this.stopped || !o.store.topics.has(o.into)) return wrote;
      const from = await mirrorPosition(o.store, o.into, p.partition);
      if (from >= Number(p.high)) continue;
      const frame = await o.client.batches(o.topic, p.partition, from, o.maxBytes ?? 1 << 20);
      const messages: Message[] = [];
      for (const b of frame.batches) {
        const batch = { topic: o.topic, partition: p.partition, baseOffset: b.baseOffset, payload: b.payload, crc: b.crc, timestampType: 'CreateTime', logAppendTime: -1 } as RecordBatch;
        verifyCrc(batch);
        const recs: KafkaMessage[] = [];
        decodeBatch(batch, recs, from);
        for (const r of recs) {
          messages.push({ key: r.key, value: r.value, timestamp: r.timestamp, headers: { ...r.headers, [REPLICA_OFFSET_HEADER]: r.offset } });
        }
      }
      if (messages.length === 0) continue;
      const records = encodeRecords(messages, Date.now());
      await o.appender.append({ producerId: -1, producerEpoch: -1, batches: [{ topic: o.into, partition: p.partition, baseSequence: -1, records }] });
      o.onProgress?.(p.partition, Number(messages[messages.length - 1]!.headers![REPLICA_OFFSET_HEADER]) + 1);
      wrote = true;
    }
    return wrote;
  }
}
