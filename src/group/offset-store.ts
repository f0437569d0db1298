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
 * - Loading never fails on content: a record (or a whole stored batch) that is not a committed
 *   offset of the expected shape is skipped and listed in `skipped`, so one bad record (a
 *   database written by a buggy version) cannot keep the broker from starting.
 */
import type { Appender } from '../log/appender.js';
import type { LogStore } from '../log/log-store.js';
import { OFFSETS_TOPIC } from '../protocol/internal-topics.js';
import { decodeBatch, encodeRecords, verifyCrc } from '../protocol/record-batch.js';
import type { KafkaMessage, Message } from '../types.js';
import { tpKey } from '../protocol/topic-partition.js';

export { OFFSETS_TOPIC };

/** A stored record of `__consumer_offsets` that loading skipped, and why. */
export interface SkippedOffsetRecord {
  /** Offset of the record in `__consumer_offsets`-0 (of the batch, when the batch was unreadable). */
  offset: number;
  reason: string;
  /** The record's key as stored, when it could be read. */
  key?: unknown;
}

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
  /** Records loading skipped because they are not committed offsets (see the invariants). */
  readonly skipped: SkippedOffsetRecord[] = [];

  private constructor(private readonly store: LogStore, private readonly appender: Appender) {}

  /** Creates the internal topic if needed and loads the latest committed offsets. */
  static async load(store: LogStore, appender: Appender): Promise<OffsetStore> {
    const os = new OffsetStore(store, appender);
    await store.useTopics([OFFSETS_TOPIC]);
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
      for (const b of page) os.loadBatch(b);
      if (page.length < 64) break;
      from = page[page.length - 1]!.baseOffset + 1;
    }
    return os;
  }

  private loadBatch(b: Parameters<typeof decodeBatch>[0]): void {
    const msgs: KafkaMessage[] = [];
    try {
      verifyCrc(b);
      decodeBatch(b, msgs);
    } catch (e) {
      this.skipped.push({ offset: b.baseOffset, reason: `unreadable batch: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    for (const m of msgs) {
      const parsed = parseRecord(m);
      if (typeof parsed === 'string') this.skipped.push({ offset: Number(m.offset), reason: parsed, key: m.key });
      else this.apply(parsed.key, parsed.value);
    }
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

  /**
   * The `__consumer_offsets` records of a commit, for a caller that appends them itself in one
   * request with other batches (a transaction); it calls {@link applyCommitted} after the append.
   */
  encodeCommit(groupId: string, offsets: OffsetCommit[]): ReturnType<typeof encodeRecords> {
    const now = this.store.now();
    return encodeRecords(offsets.map((o) => ({ key: JSON.stringify([groupId, o.topic, o.partition]), value: { offset: o.offset, metadata: o.metadata ?? null, commitTimestamp: now } as unknown as Message['value'] })), now);
  }

  /** Applies offsets whose records {@link encodeCommit} made and the caller has appended. */
  applyCommitted(groupId: string, offsets: OffsetCommit[]): void {
    const now = this.store.now();
    for (const o of offsets) this.apply([groupId, o.topic, o.partition], { offset: o.offset, metadata: o.metadata ?? null, commitTimestamp: now });
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

/** A stored record as a committed offset, or why it is not one. */
function parseRecord(m: KafkaMessage): { key: Key; value: CommittedOffset | null } | string {
  if (typeof m.key !== 'string') return 'key is not a JSON string';
  let key: unknown;
  try {
    key = JSON.parse(m.key);
  } catch {
    return 'key is not JSON';
  }
  if (!Array.isArray(key) || key.length !== 3 || typeof key[0] !== 'string' || typeof key[1] !== 'string' || !Number.isSafeInteger(key[2]) || key[2] < 0) {
    return 'key is not [groupId, topic, partition]';
  }
  const v = m.value as unknown;
  if (v === null) return { key: key as Key, value: null };
  const o = v as Partial<CommittedOffset> | undefined;
  if (typeof v !== 'object' || Array.isArray(v) || !Number.isSafeInteger(o!.offset) || o!.offset! < 0) return 'value is not { offset, metadata, commitTimestamp }';
  const metadata = typeof o!.metadata === 'string' ? o!.metadata : null;
  const commitTimestamp = Number.isSafeInteger(o!.commitTimestamp) ? o!.commitTimestamp! : -1;
  return { key: key as Key, value: { offset: o!.offset!, metadata, commitTimestamp } };
}
