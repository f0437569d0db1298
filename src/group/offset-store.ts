/**
 * Committed offsets, kept as Kafka keeps them: records of the internal compacted topic
 * `__consumer_offsets` in the same log. Key `[groupId, topic, partition]`, value
 * `{ offset, metadata, commitTimestamp }`; a tombstone deletes. The broker holds the latest
 * value of every key in memory (the topic is compacted, so loading it is cheap) and appends
 * commits through the same group-committing appender as produced records, which is what will
 * let a transaction commit records and offsets in one IndexedDB transaction.
 *
 * Invariants:
 * - The in-memory map changes only after the commit's append has completed.
 * - A committed offset is the next offset to consume (last processed + 1), as in Kafka.
 */
import type { Appender } from '../log/appender.js';
import type { LogStore } from '../log/log-store.js';
import { decodeBatch, encodeRecords } from '../protocol/record-batch.js';
import type { KafkaMessage, Message } from '../types.js';
import { tpKey } from '../protocol/topic-partition.js';

/** The internal topic's name, as Kafka's. */
export const OFFSETS_TOPIC = '__consumer_offsets';

/** One committed offset. */
export interface CommittedOffset {
  offset: number;
  metadata: string | null;
  commitTimestamp: number;
}

/** An offset to commit. */
export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string | null;
}

type Key = [string, string, number];

/** Committed offsets of every group of a database. */
export class OffsetStore {
  private groups = new Map<string, Map<string, CommittedOffset & { topic: string; partition: number }>>();

  private constructor(private readonly store: LogStore, private readonly appender: Appender) {}

  /** Creates the internal topic if needed and loads the latest committed offsets. */
  static async load(store: LogStore, appender: Appender): Promise<OffsetStore> {
    const os = new OffsetStore(store, appender);
    if (!store.topics.has(OFFSETS_TOPIC)) {
      await store.createTopic(OFFSETS_TOPIC, 1, [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'segment.bytes', value: String(64 * 1024) },
        { name: 'delete.retention.ms', value: String(24 * 3600 * 1000) },
      ], true);
    }
    let from = -Infinity;
    for (;;) {
      const page = await store.readBatches(OFFSETS_TOPIC, 0, from, Infinity, 64);
      for (const b of page) {
        const msgs: KafkaMessage[] = [];
        decodeBatch(b, msgs);
        for (const m of msgs) os.apply(JSON.parse(m.key as string) as Key, m.value as CommittedOffset | null);
      }
      if (page.length < 64) break;
      from = page[page.length - 1]!.baseOffset + 1;
    }
    return os;
  }

  private apply([groupId, topic, partition]: Key, v: CommittedOffset | null): void {
    const k = tpKey(topic, partition);
    if (v === null) {
      const g = this.groups.get(groupId);
      g?.delete(k);
      if (g && g.size === 0) this.groups.delete(groupId);
      return;
    }
    let g = this.groups.get(groupId);
    if (!g) this.groups.set(groupId, (g = new Map()));
    g.set(k, { ...v, topic, partition });
  }

  /** The committed offset of a partition, if any. */
  get(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.groups.get(groupId)?.get(tpKey(topic, partition));
  }

  /** Every committed offset of a group. */
  list(groupId: string): (CommittedOffset & { topic: string; partition: number })[] {
    return [...(this.groups.get(groupId)?.values() ?? [])];
  }

  /** Groups that have committed offsets. */
  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  private async append(entries: { key: Key; value: CommittedOffset | null }[]): Promise<void> {
    if (entries.length === 0) return;
    const messages: Message[] = entries.map((e) => ({ key: JSON.stringify(e.key), value: e.value as unknown as Message['value'] }));
    const records = encodeRecords(messages, this.store.now());
    await this.appender.append({ producerId: -1, producerEpoch: 0, batches: [{ topic: OFFSETS_TOPIC, partition: 0, baseSequence: -1, records }] });
    for (const e of entries) this.apply(e.key, e.value);
  }

  /** Commits offsets of a group; resolves once they are durable. */
  async commit(groupId: string, offsets: OffsetCommit[]): Promise<void> {
    const now = this.store.now();
    await this.append(offsets.map((o) => ({ key: [groupId, o.topic, o.partition] as Key, value: { offset: o.offset, metadata: o.metadata ?? null, commitTimestamp: now } })));
  }

  /** Deletes every committed offset of a group (tombstones). */
  async deleteGroup(groupId: string): Promise<void> {
    await this.append(this.list(groupId).map((o) => ({ key: [groupId, o.topic, o.partition] as Key, value: null })));
  }

  /** Deletes the committed offsets of a deleted topic, in every group. */
  async deleteTopic(topic: string): Promise<void> {
    const entries: { key: Key; value: null }[] = [];
    for (const [groupId, g] of this.groups) for (const o of g.values()) if (o.topic === topic) entries.push({ key: [groupId, topic, o.partition], value: null });
    await this.append(entries);
  }
}
