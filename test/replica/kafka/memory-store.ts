/**
 * An in-memory ReplicaStore for the Kafka protocol's unit tests [test only]. The integration
 * tests run the real server on the SQLite store; this one keeps codec tests fast and local.
 */
import { OffsetOutOfRangeError, TopicNotFoundError } from '../../../src/errors.js';
import type { ReplicaBatch } from '../../../src/protocol/replica-wire.js';
import type { AppendBatch, AppendResult, GroupOffset, ReplicaStore, StoreTopic } from '../../../src/replica/store.js';

/** Creates an empty in-memory store. */
export function memoryStore(): ReplicaStore & { appendCalls: number } {
  const topics = new Map<string, ReplicaBatch[][]>();
  const dedupe = new Map<string, AppendResult>();
  const seqs = new Map<string, number>();
  const groups = new Map<string, Map<string, GroupOffset>>();
  let producerIds = 0;
  const k = (tenant: string, topic: string) => `${tenant}\u0000${topic}`;
  const high = (log: ReplicaBatch[]) => (log.length ? log[log.length - 1]!.baseOffset + log[log.length - 1]!.count : 0);
  const store = {
    kind: 'memory',
    appendCalls: 0,
    async listTopics(tenant: string): Promise<StoreTopic[]> {
      return [...topics].filter(([key]) => key.startsWith(tenant + '\u0000'))
        .map(([key, v]) => ({ topic: key.slice(tenant.length + 1), partitions: v.length }))
        .sort((a, b) => (a.topic < b.topic ? -1 : 1));
    },
    async getTopic(tenant: string, topic: string) {
      const t = topics.get(k(tenant, topic));
      return t ? { topic, partitions: t.length } : null;
    },
    async ensureTopic(tenant: string, topic: string, partitions: number) {
      const t = topics.get(k(tenant, topic));
      if (!t) {
        topics.set(k(tenant, topic), Array.from({ length: partitions }, () => []));
        return { topic: { topic, partitions }, created: true };
      }
      while (t.length < partitions) t.push([]);
      return { topic: { topic, partitions: t.length }, created: false };
    },
    async watermarks(tenant: string, topic: string) {
      const t = topics.get(k(tenant, topic));
      if (!t) throw new TopicNotFoundError(`topic ${topic} not found`);
      return t.map((log, partition) => ({ partition, low: 0, high: high(log) }));
    },
    async append(tenant: string, batches: readonly AppendBatch[]) {
      store.appendCalls++;
      const out: AppendResult[] = [];
      for (const b of batches) {
        const d = b.dedupe;
        const dk = d ? `${tenant}/${d.source}/${d.producerId}/${d.producerEpoch}/${b.topic}/${b.partition}/${d.baseSequence}` : null;
        if (dk && dedupe.has(dk)) { out.push({ ...dedupe.get(dk)!, duplicate: true }); continue; }
        await store.ensureTopic(tenant, b.topic, b.partition + 1);
        const log = topics.get(k(tenant, b.topic))![b.partition]!;
        const baseOffset = high(log);
        log.push({ baseOffset, count: b.count, firstTimestamp: b.firstTimestamp, maxTimestamp: b.maxTimestamp, crc: b.crc, payload: b.payload });
        const r = { topic: b.topic, partition: b.partition, baseOffset, count: b.count, duplicate: false };
        if (dk) dedupe.set(dk, r);
        if (d) seqs.set(`${tenant}/${d.source}/${d.producerId}/${d.producerEpoch}/${b.topic}/${b.partition}`, d.baseSequence + b.count - 1);
        out.push(r);
      }
      return out;
    },
    async read(tenant: string, topic: string, partition: number, offset: number, bounds: { maxRecords: number; maxBytes: number }) {
      const log = topics.get(k(tenant, topic))?.[partition];
      if (!log) throw new TopicNotFoundError(`${topic}/${partition} not found`);
      const h = high(log);
      if (offset < 0 || offset > h) throw new OffsetOutOfRangeError(`offset ${offset} out of range`);
      const batches: ReplicaBatch[] = [];
      let bytes = 0, records = 0;
      for (const b of log) {
        if (b.baseOffset + b.count <= offset) continue;
        if (batches.length > 0 && (bytes >= bounds.maxBytes || records >= bounds.maxRecords)) break;
        batches.push(b);
        bytes += b.payload.length;
        records += b.count;
      }
      return { low: 0, high: h, batches };
    },
    async allocateProducerId() { return producerIds++; },
    async lastSequence(tenant: string, source: string, producerId: number, producerEpoch: number, topic: string, partition: number) {
      return seqs.get(`${tenant}/${source}/${producerId}/${producerEpoch}/${topic}/${partition}`) ?? null;
    },
    async commitOffsets(tenant: string, groupId: string, offsets: readonly GroupOffset[]) {
      const g = groups.get(k(tenant, groupId)) ?? new Map<string, GroupOffset>();
      for (const o of offsets) g.set(`${o.topic}/${o.partition}`, { ...o });
      groups.set(k(tenant, groupId), g);
    },
    async fetchOffsets(tenant: string, groupId: string, names: readonly string[] | null) {
      return [...(groups.get(k(tenant, groupId))?.values() ?? [])].filter((o) => names === null || names.includes(o.topic));
    },
    async listGroups(tenant: string) {
      return [...groups.keys()].filter((key) => key.startsWith(tenant + '\u0000')).map((key) => key.slice(tenant.length + 1));
    },
    async close() {},
  };
  return store;
}
