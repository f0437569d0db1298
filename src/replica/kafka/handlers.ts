/**
 * What the Kafka data APIs do on the replica [node; no sockets here: a handler takes a decoded
 * request and returns the response body, or null for "no response" (Produce with acks=0)].
 * Group APIs are in ./group-handlers.ts.
 *
 * Invariants:
 * - Every handler acts for the connection's tenant only; a topic of another tenant is
 *   indistinguishable from a topic that does not exist (UNKNOWN_TOPIC_OR_PARTITION).
 * - A failing partition fails alone with its error code; the rest of the request is served.
 * - One broker (node id 1) leads every partition; Metadata advertises the listener's address.
 * - ListOffsets by time answers the first record (not batch) whose timestamp reaches it, with
 *   that record's timestamp, or offset -1 when none does.
 * - highWatermark is the store's high watermark (durably written); Fetch returns whole stored
 *   batches below it, the first possibly starting before the fetch offset (as Kafka does).
 * - A Produce's gzip batch inflates to at most the listener's frame limit (MESSAGE_TOO_LARGE).
 * - Produced records keep the limits of a device push (validate.ts: 1 MiB records, 4 KiB keys,
 *   64 headers of 8 KiB): beyond them MESSAGE_TOO_LARGE, nothing of the partition stored.
 * - A Fetch long poll waits at most its maxWaitMs (capped), measured on a monotonic clock.
 * - Produce appends through the store's dedupe: an idempotent producer's retried batch gets
 *   its original offsets and is stored once; a gap in its sequence is OUT_OF_ORDER_SEQUENCE_NUMBER.
 */
import { crc32c as crc } from '../../protocol/crc32c.js';
import { isValidTopicName } from '../../protocol/replica-wire.js';
import { MAX_PARTITIONS } from '../../protocol/topic-partition.js';
import { encodeRecords } from '../../protocol/record-batch.js';
import type { AppendBatch, ReplicaStore } from '../store.js';
import { checkBatch, DEFAULT_RECORD_LIMITS } from '../validate.js';
import type { AppendSignal } from './append-signal.js';
import { ErrorCode, kafkaErrorCode } from './codes.js';
import type { KafkaGroups } from './groups.js';
import { BatchTooLargeError, decodeBatches, UnsupportedCompressionError, UnsupportedMagicError, type DecodedBatch } from './record-batch.js';
import { encodeStoredBatch, firstRecordAtOrAfter, kafkaToMessages } from './records.js';
import type { Msg } from './schema.js';
import { KafkaDecodeError, Writer } from './wire.js';

/** The broker id this listener answers as. */
export const NODE_ID = 1;

/** Dedupe source of batches produced through Kafka (devices use 'device:<id>'). */
export const KAFKA_SOURCE = 'kafka';

const EMPTY: Uint8Array = new Uint8Array(0);

/** What a handler knows about its connection and listener. */
export interface HandlerContext {
  tenant: string;
  clientId: string;
  clientHost: string;
  /** Advertised host and port of the listener. */
  host: string;
  port: number;
  store: ReplicaStore;
  groups: KafkaGroups;
  appends: AppendSignal;
  /** Aborted when the connection closes (ends fetch waits). */
  signal: AbortSignal;
  /** Largest fetch wait honoured, in ms. */
  maxFetchWaitMs: number;
  /** Most bytes a Produce's gzip batch may inflate to (the listener's frame limit). */
  maxInflatedBytes: number;
}

/** A handler: request body in, response body out (null: send nothing). */
export type Handler = (req: Msg, version: number, ctx: HandlerContext) => Promise<Msg | null>;

/** The tenant's topics by name. */
export async function topicMap(ctx: HandlerContext): Promise<Map<string, number>> {
  return new Map((await ctx.store.listTopics(ctx.tenant)).map((t) => [t.topic, t.partitions]));
}

const metadata: Handler = async (req, version, ctx) => {
  const all = await topicMap(ctx);
  const wanted: string[] = req.topics === null || (version === 0 && req.topics.length === 0)
    ? [...all.keys()].sort()
    : (req.topics as { name: string }[]).map((t) => t.name);
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: NODE_ID, host: ctx.host, port: ctx.port, rack: null }],
    clusterId: 'lanes-replica',
    controllerId: NODE_ID,
    topics: wanted.map((name) => {
      const count = all.get(name);
      if (count === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, isInternal: false, partitions: [] };
      return {
        errorCode: 0, name, isInternal: false,
        partitions: Array.from({ length: count }, (_, p) => ({
          errorCode: 0, partitionIndex: p, leaderId: NODE_ID, replicaNodes: [NODE_ID], isrNodes: [NODE_ID], offlineReplicas: [],
        })),
      };
    }),
  };
};

async function watermarks(ctx: HandlerContext, topic: string, partition: number): Promise<{ low: number; high: number } | null> {
  const list = await ctx.store.watermarks(ctx.tenant, topic);
  return list.find((w) => w.partition === partition) ?? null;
}

const NO_OFFSET = { offset: -1, timestamp: -1 };

/**
 * The first record with timestamp >= ts and its timestamp, scanning the partition's batches
 * and, in the first batch whose max timestamp reaches ts, its records (ListOffsets by time).
 */
async function offsetForTimestamp(ctx: HandlerContext, topic: string, partition: number, ts: number): Promise<{ offset: number; timestamp: number }> {
  let offset = (await watermarks(ctx, topic, partition))?.low ?? 0;
  for (;;) {
    const r = await ctx.store.read(ctx.tenant, topic, partition, offset, { maxRecords: 10_000, maxBytes: 1 << 20 });
    if (r.batches.length === 0) return NO_OFFSET;
    for (const b of r.batches) {
      if (b.maxTimestamp < ts) continue;
      const hit = firstRecordAtOrAfter(b, ts, offset);
      if (hit) return hit;
    }
    const last = r.batches[r.batches.length - 1]!;
    offset = last.baseOffset + last.count;
    if (offset >= r.high) return NO_OFFSET;
  }
}

const listOffsets: Handler = async (req, _version, ctx) => ({
  throttleTimeMs: 0,
  topics: await Promise.all((req.topics as Msg[]).map(async (t) => ({
    name: t.name,
    partitions: await Promise.all((t.partitions as Msg[]).map(async (p) => {
      try {
        const w = await watermarks(ctx, t.name, p.partitionIndex);
        if (!w) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, timestamp: -1, offset: -1 };
        if (p.timestamp === -1 || p.timestamp === -2) return { partitionIndex: p.partitionIndex, errorCode: 0, timestamp: -1, offset: p.timestamp === -1 ? w.high : w.low };
        return { partitionIndex: p.partitionIndex, errorCode: 0, ...await offsetForTimestamp(ctx, t.name, p.partitionIndex, p.timestamp) };
      } catch (e) {
        return { partitionIndex: p.partitionIndex, errorCode: kafkaErrorCode(e), timestamp: -1, offset: -1 };
      }
    })),
  }))),
});

/** Reads one partition for Fetch; `budget` is what is left of the response's maxBytes. */
async function fetchPartition(ctx: HandlerContext, topic: string, p: Msg, budget: { bytes: number }): Promise<Msg> {
  const out = {
    partitionIndex: p.partition, errorCode: 0, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1,
    abortedTransactions: null, preferredReadReplica: -1, records: EMPTY as Uint8Array,
  };
  try {
    const maxBytes = budget.bytes > 0 ? Math.max(1, Math.min(p.partitionMaxBytes, budget.bytes)) : 1;
    const r = await ctx.store.read(ctx.tenant, topic, p.partition, p.fetchOffset, { maxRecords: 1_000_000, maxBytes });
    out.highWatermark = r.high;
    out.lastStableOffset = r.high;
    out.logStartOffset = r.low;
    if (r.batches.length === 0 || budget.bytes <= 0) return out;
    const w = new Writer(64 * 1024);
    for (const b of r.batches) {
      if (b.baseOffset + b.count > r.high) break;
      encodeStoredBatch(w, b);
    }
    budget.bytes -= w.pos;
    out.records = w.finish();
    return out;
  } catch (e) {
    return { ...out, errorCode: kafkaErrorCode(e) };
  }
}

const fetch: Handler = async (req, _version, ctx) => {
  // A monotonic clock: a wall clock set back during the wait must not stretch it.
  const deadline = performance.now() + Math.min(Math.max(0, req.maxWaitMs), ctx.maxFetchWaitMs);
  for (;;) {
    const budget = { bytes: Math.max(1, req.maxBytes) };
    const responses: Msg[] = [];
    let bytes = 0;
    let errors = false;
    for (const t of req.topics as Msg[]) {
      const partitions: Msg[] = [];
      for (const p of t.partitions as Msg[]) {
        const r = await fetchPartition(ctx, t.topic, p, budget);
        bytes += r.records.length;
        if (r.errorCode !== 0) errors = true;
        partitions.push(r);
      }
      responses.push({ topic: t.topic, partitions });
    }
    if (bytes > 0 || errors || bytes >= req.minBytes || performance.now() >= deadline || ctx.signal.aborted) {
      return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses };
    }
    await ctx.appends.wait(ctx.tenant, deadline - performance.now(), ctx.signal);
  }
};

/** Checks a batch of an idempotent producer against the last stored sequence. */
async function sequenceError(ctx: HandlerContext, topic: string, partition: number, b: DecodedBatch): Promise<number> {
  if (b.producerId < 0) return 0;
  const last = await ctx.store.lastSequence(ctx.tenant, KAFKA_SOURCE, b.producerId, b.producerEpoch, topic, partition);
  // A retry (baseSequence <= last) is answered by the store's dedupe with its original offsets.
  if (last === null ? b.baseSequence !== 0 : b.baseSequence > last + 1) return ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER;
  return 0;
}

const produce: Handler = async (req, _version, ctx) => {
  const silent = req.acks === 0;
  const transactional = req.transactionalId !== null && req.transactionalId !== undefined;
  const topics = await topicMap(ctx);
  const now = Date.now();
  const results: { name: string; partitionResponses: Msg[] }[] = [];
  const pending: { resp: Msg; batches: AppendBatch[] }[] = [];
  for (const t of req.topicData as Msg[]) {
    const partitionResponses: Msg[] = [];
    results.push({ name: t.name, partitionResponses });
    for (const p of t.partitionData as Msg[]) {
      const resp: Msg = { index: p.index, errorCode: 0, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
      partitionResponses.push(resp);
      const count = topics.get(t.name);
      if (transactional) { resp.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED; continue; }
      if (count === undefined || p.index < 0 || p.index >= count) { resp.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION; continue; }
      let decoded: DecodedBatch[];
      try {
        decoded = decodeBatches(p.records ?? EMPTY, ctx.maxInflatedBytes);
      } catch (e) {
        if (e instanceof BatchTooLargeError) resp.errorCode = ErrorCode.MESSAGE_TOO_LARGE;
        else if (e instanceof UnsupportedCompressionError) resp.errorCode = ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
        else if (e instanceof UnsupportedMagicError) resp.errorCode = ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT;
        else if (e instanceof KafkaDecodeError) resp.errorCode = ErrorCode.CORRUPT_MESSAGE;
        else throw e;
        continue;
      }
      if (decoded.length === 0 || decoded.some((b) => b.records.length === 0)) { resp.errorCode = ErrorCode.INVALID_RECORD; continue; }
      if (decoded.some((b) => b.control || b.transactional)) { resp.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED; continue; }
      const batches: AppendBatch[] = [];
      try {
        for (const b of decoded) {
          const seq = await sequenceError(ctx, t.name, p.index, b);
          if (seq !== 0) throw Object.assign(new Error('sequence gap'), { kafkaCode: seq });
          const enc = encodeRecords(kafkaToMessages(b.records, now), now);
          // The limits of a device push: a record the replica holds reaches every mirroring
          // device, and one over their max.message.bytes stopped their mirrors for good.
          const checked = checkBatch({
            topic: t.name, partition: p.index, baseOffset: 0, lastOffsetDelta: enc.count - 1, producerId: b.producerId, producerEpoch: b.producerEpoch,
            baseSequence: b.baseSequence, count: enc.count, firstTimestamp: enc.firstTimestamp, maxTimestamp: enc.maxTimestamp, crc: crc(enc.payload), payload: enc.payload,
          }, DEFAULT_RECORD_LIMITS, `${t.name}-${p.index}`);
          batches.push({
            topic: t.name, partition: p.index, count: checked.count, firstTimestamp: checked.firstTimestamp, maxTimestamp: checked.maxTimestamp,
            crc: checked.crc, payload: checked.payload,
            dedupe: b.producerId >= 0 ? { source: KAFKA_SOURCE, producerId: b.producerId, producerEpoch: b.producerEpoch, baseSequence: b.baseSequence } : null,
          });
        }
      } catch (e) {
        resp.errorCode = (e as { kafkaCode?: number }).kafkaCode ?? kafkaErrorCode(e);
        continue;
      }
      pending.push({ resp, batches });
    }
  }
  if (pending.length > 0) {
    const all = pending.flatMap((x) => x.batches);
    try {
      const appended = await ctx.store.append(ctx.tenant, all);
      let i = 0;
      for (const x of pending) {
        x.resp.baseOffset = appended[i]!.baseOffset;
        x.resp.logStartOffset = 0;
        i += x.batches.length;
      }
      ctx.appends.notify(ctx.tenant);
    } catch (e) {
      const code = kafkaErrorCode(e);
      for (const x of pending) x.resp.errorCode = code;
    }
  }
  return silent ? null : { responses: results, throttleTimeMs: 0 };
};

const createTopics: Handler = async (req, _version, ctx) => ({
  throttleTimeMs: 0,
  topics: await Promise.all((req.topics as Msg[]).map(async (t) => {
    const partitions = t.numPartitions === -1 ? 1 : t.numPartitions;
    if (!isValidTopicName(t.name)) {
      return { name: t.name, errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: 'topic names are 1-249 characters of [a-zA-Z0-9._-], not "." or ".."' };
    }
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      return { name: t.name, errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `numPartitions must be from 1 to ${MAX_PARTITIONS}, got ${t.numPartitions}` };
    }
    if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
      return { name: t.name, errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: 'replicationFactor must be 1 or -1: the replica store replicates on its own' };
    }
    try {
      if (await ctx.store.getTopic(ctx.tenant, t.name)) {
        return { name: t.name, errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `topic ${t.name} already exists` };
      }
      if (!req.validateOnly) await ctx.store.ensureTopic(ctx.tenant, t.name, partitions);
      return { name: t.name, errorCode: 0, errorMessage: null };
    } catch (e) {
      return { name: t.name, errorCode: kafkaErrorCode(e), errorMessage: (e as Error).message };
    }
  })),
});

const initProducerId: Handler = async (req, _version, ctx) => {
  if (req.transactionalId !== null) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
  }
  try {
    return { throttleTimeMs: 0, errorCode: 0, producerId: await ctx.store.allocateProducerId(ctx.tenant), producerEpoch: 0 };
  } catch (e) {
    return { throttleTimeMs: 0, errorCode: kafkaErrorCode(e), producerId: -1, producerEpoch: -1 };
  }
};

const findCoordinator: Handler = async (req, _version, ctx) => {
  if (req.keyType === 1) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'transactions are not supported', nodeId: -1, host: '', port: -1 };
  }
  return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: NODE_ID, host: ctx.host, port: ctx.port };
};

/** Data API handlers by API key. */
export const DATA_HANDLERS: { [apiKey: number]: Handler } = {
  0: produce, 1: fetch, 2: listOffsets, 3: metadata, 10: findCoordinator, 19: createTopics, 22: initProducerId,
};
