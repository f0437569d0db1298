/**
 * The replica wire contract: what a device's sync agent sends to the replica server and what
 * it reads back (push frames, push results, the records route's JSON and the binary batches
 * frame used by mirror). Pure code shared by the browser (sync/, sw/) and the Node server
 * (replica/); no Node or DOM imports.
 *
 * Routes (all under `/v1`, all but health need `Authorization: Bearer <token>`):
 *   POST /v1/push                                             push frame in, {@link PushResponse} out
 *   GET  /v1/topics                                           {@link TopicsResponse}
 *   GET  /v1/topics/:topic                                    {@link TopicInfo}
 *   GET  /v1/topics/:topic/partitions/:p/records?offset&limit {@link RecordsResponse} (JSON)
 *   GET  /v1/topics/:topic/partitions/:p/batches?offset&maxBytes  batches frame (binary)
 *   GET  /v1/health, GET /v1/metrics
 * Each topic route also exists as `/v1/tenants/:tenant/...`: the tenant must be the token's
 * (403 otherwise); the short form means the token's tenant.
 *
 * Push frame (`Content-Type: application/vnd.lanes.push`, optionally `Content-Encoding: gzip`),
 * big-endian:
 *   u32 magic 0x4C4E5350 ('LNSP'), u8 version (2; version 1 is still read)
 *   str deviceId                     a random id the device keeps with its log (1-128 bytes)
 *   u32 batchCount
 *   batchCount x {
 *     str  topic                      1-249 chars of [a-zA-Z0-9._-]
 *     u32  partition
 *     i64  baseOffset                 the device's local offset of the batch (echoed back)
 *     u32  lastOffsetDelta
 *     i64  producerId                 -1 when the batch was written without a producer id
 *     i16  producerEpoch
 *     i32  baseSequence
 *     u32  count                      records in the payload
 *     i64  firstTimestamp, i64 maxTimestamp
 *     u32  crc                        CRC-32C of payload
 *     i64  topicGeneration            version 2 only: the device topic's generation (its creation
 *                                     time); 0 when unknown (and in version 1)
 *     u32  payloadLength, payload     records in lanes' record-batch payload encoding
 *   }
 * where `str` is u16 byte length + UTF-8 bytes.
 *
 * Invariants:
 * - Encoding then decoding gives back the same frame; decoding never reads past the input and
 *   throws InvalidArgumentError naming the field for anything malformed (never a RangeError).
 * - The dedupe key of a pushed batch is (tenant, deviceId, topicGeneration, producerId,
 *   producerEpoch, topic, partition, baseSequence); for producerId -1 the device-local
 *   baseOffset stands in for the sequence. There is no time window: a retry days later answers
 *   with the original offsets. The generation keeps a topic deleted and created again on the
 *   device apart from its earlier self: its offsets and sequences start over at 0, and without
 *   it the replica took its first batches for retries of the old ones and dropped them.
 * - Batches of one partition are applied in frame order; a device's records keep their order.
 */
import { InvalidArgumentError } from '../errors.js';
import { MAX_PARTITIONS } from './topic-partition.js';

/** Media type of a push frame. */
export const PUSH_CONTENT_TYPE = 'application/vnd.lanes.push';
/** Media type of a batches frame (binary read for mirror). */
export const BATCHES_CONTENT_TYPE = 'application/vnd.lanes.batches';
/** First four bytes of a push frame: 'LNSP'. */
export const PUSH_MAGIC = 0x4c4e5350;
/** First four bytes of a batches frame: 'LNSB'. */
export const BATCHES_MAGIC = 0x4c4e5342;
/** Version of the batches frame, and the oldest push frame version still read. */
export const WIRE_VERSION = 1;
/** Version of the push frame written (adds each batch's topic generation). */
export const PUSH_WIRE_VERSION = 2;

/** One batch of a push frame: a device's stored record batch, as its log keeps it. */
export interface PushBatch {
  topic: string;
  partition: number;
  /** The device's local offset of the batch's first record (echoed back in the result). */
  baseOffset: number;
  lastOffsetDelta: number;
  /** -1 when the records carry no producer id (the device offset is then the dedupe sequence). */
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** Records in `payload`. */
  count: number;
  firstTimestamp: number;
  maxTimestamp: number;
  /** CRC-32C of `payload` (src/protocol/crc32c.ts). */
  crc: number;
  /**
   * The device topic's generation (its creation time on the device): part of the dedupe key,
   * so a topic deleted and created again is not taken for its earlier self. 0 (or absent): unknown.
   */
  topicGeneration?: number;
  /** Records in the record-batch payload encoding (src/protocol/record-batch.ts). */
  payload: Uint8Array;
}

/** A push request: one device, batches in the order they must be applied. */
export interface PushFrame {
  /** A random id the device keeps with its log; part of the dedupe key. */
  deviceId: string;
  batches: PushBatch[];
}

/** The replica's answer for one pushed batch, in the frame's order. */
export interface PushResult {
  topic: string;
  partition: number;
  /** The device-local base offset, as sent. */
  baseOffset: number;
  /** The replica offset of the batch's first record; its records follow densely. */
  replicaBaseOffset: number;
  /** Records the replica holds for this batch. */
  count: number;
  /** True when the batch had been applied before (a retry): the offsets are the original ones. */
  duplicate: boolean;
}

/** JSON body of a successful `POST /v1/push`. */
export interface PushResponse {
  results: PushResult[];
}

/** JSON body of every 4xx/5xx answer. */
export interface ErrorResponse {
  error: {
    /** Stable code (a LanesError code, or an HTTP-level one such as 'UNAUTHORIZED'). */
    code: string;
    message: string;
    /** The offending field, when there is one (`batches[3].crc`). */
    field?: string;
  };
}

/** A header value in JSON: a string when it is UTF-8 text, else `{ base64 }`. */
export type JsonHeaderValue = string | { base64: string };

/**
 * One record of `GET .../records`. Key and value are strings when they are UTF-8 text (JSON
 * values as their JSON text), else base64 with `keyEncoding` / `valueEncoding: 'base64'`.
 */
export interface JsonRecord {
  /** Replica offset, decimal string. */
  offset: string;
  key: string | null;
  value: string | null;
  /** Present (as 'base64') only when `key` is base64 of non-UTF-8 bytes. */
  keyEncoding?: 'base64';
  /** Present (as 'base64') only when `value` is base64 of non-UTF-8 bytes. */
  valueEncoding?: 'base64';
  headers: Record<string, JsonHeaderValue | JsonHeaderValue[]>;
  /** Milliseconds since the epoch, decimal string. */
  timestamp: string;
}

/** JSON body of `GET /v1/topics/:topic/partitions/:partition/records?offset=N&limit=M`. */
export interface RecordsResponse {
  records: JsonRecord[];
  /** Offset to ask for next (decimal string): the last record's offset + 1, or `offset` if none. */
  nextOffset: string;
}

/** Watermarks of one replica partition (decimal strings, as Kafka's admin API). */
export interface PartitionInfo {
  partition: number;
  /** First offset still held. */
  low: string;
  /** One past the last durably written offset. */
  high: string;
}

/** A replica topic and its partitions. */
export interface TopicInfo {
  topic: string;
  partitions: PartitionInfo[];
}

/** JSON body of `GET /v1/topics`. */
export interface TopicsResponse {
  topics: TopicInfo[];
}

/** One stored replica batch in a batches frame: replica offsets, payload as stored. */
export interface ReplicaBatch {
  /** Replica offset of the first record; records follow densely (payload skips are 0). */
  baseOffset: number;
  count: number;
  firstTimestamp: number;
  maxTimestamp: number;
  /** CRC-32C of payload. */
  crc: number;
  payload: Uint8Array;
}

/**
 * Body of `GET .../batches?offset=N&maxBytes=M` (`application/vnd.lanes.batches`):
 *   u32 magic 'LNSB', u8 version, i64 low, i64 high, i64 nextOffset, u32 n,
 *   n x { i64 baseOffset, u32 count, i64 firstTimestamp, i64 maxTimestamp, u32 crc, u32 len, payload }.
 * The first batch may start before the requested offset: skip records below it (as Kafka).
 */
export interface BatchesFrame {
  low: number;
  high: number;
  /** Offset to ask for next. */
  nextOffset: number;
  batches: ReplicaBatch[];
}

/** Upper bounds a decoder enforces before allocating. */
export interface WireLimits {
  maxBatches: number;
  maxPayloadBytes: number;
}

/** Defaults: 10,000 batches per frame, 16 MiB per payload. */
export const DEFAULT_WIRE_LIMITS: WireLimits = { maxBatches: 10_000, maxPayloadBytes: 16 << 20 };

const TOPIC_RE = /^[a-zA-Z0-9._-]+$/;

/**
 * True for a topic name lanes takes: Kafka's rule (1-249 chars of [a-zA-Z0-9._-], not "." or
 * ".."), as the broker's. `constructor` and `__proto__` are legal names.
 */
export function isValidTopicName(t: unknown): t is string {
  return typeof t === 'string' && t.length > 0 && t.length <= 249 && TOPIC_RE.test(t) && t !== '.' && t !== '..';
}

// ---------------------------------------------------------------------------------------------
// writer

class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  u8(n: number) { this.view.setUint8(this.pos, n); this.pos += 1; }
  i16(n: number) { this.view.setInt16(this.pos, n); this.pos += 2; }
  u16(n: number) { this.view.setUint16(this.pos, n); this.pos += 2; }
  i32(n: number) { this.view.setInt32(this.pos, n); this.pos += 4; }
  u32(n: number) { this.view.setUint32(this.pos, n >>> 0); this.pos += 4; }
  i64(n: number) { this.view.setBigInt64(this.pos, BigInt(n)); this.pos += 8; }
  bytes(b: Uint8Array) { this.buf.set(b, this.pos); this.pos += b.length; }
}

const enc = new TextEncoder();

function checkInt(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${field} must be an integer in [${min}, ${max}]; got ${String(v)}`, { details: { field } });
  }
  return v;
}

/** Encodes a push frame. Throws InvalidArgumentError naming the field for a bad value. */
export function encodePushFrame(frame: PushFrame): Uint8Array {
  const device = enc.encode(frame.deviceId);
  if (device.length < 1 || device.length > 128) throw new InvalidArgumentError('deviceId must be 1-128 bytes of UTF-8', { details: { field: 'deviceId' } });
  const topics = frame.batches.map((b, i) => {
    if (!isValidTopicName(b.topic)) throw new InvalidArgumentError(`batches[${i}].topic ${JSON.stringify(b.topic)} is not a valid topic name`, { details: { field: `batches[${i}].topic` } });
    return enc.encode(b.topic);
  });
  let size = 4 + 1 + 2 + device.length + 4;
  frame.batches.forEach((b, i) => { size += 2 + topics[i]!.length + 4 + 8 + 4 + 8 + 2 + 4 + 4 + 8 + 8 + 4 + 8 + 4 + b.payload.length; });
  const w = new Writer(size);
  w.u32(PUSH_MAGIC); w.u8(PUSH_WIRE_VERSION);
  w.u16(device.length); w.bytes(device);
  w.u32(frame.batches.length);
  frame.batches.forEach((b, i) => {
    const f = `batches[${i}]`;
    w.u16(topics[i]!.length); w.bytes(topics[i]!);
    w.u32(checkInt(b.partition, `${f}.partition`, 0, MAX_PARTITIONS - 1));
    w.i64(checkInt(b.baseOffset, `${f}.baseOffset`, 0, Number.MAX_SAFE_INTEGER));
    w.u32(checkInt(b.lastOffsetDelta, `${f}.lastOffsetDelta`, 0, 0x7fffffff));
    w.i64(checkInt(b.producerId, `${f}.producerId`, -1, Number.MAX_SAFE_INTEGER));
    w.i16(checkInt(b.producerEpoch, `${f}.producerEpoch`, -1, 0x7fff));
    w.i32(checkInt(b.baseSequence, `${f}.baseSequence`, -1, 0x7fffffff));
    w.u32(checkInt(b.count, `${f}.count`, 0, 0x7fffffff));
    w.i64(checkInt(b.firstTimestamp, `${f}.firstTimestamp`, -1, Number.MAX_SAFE_INTEGER));
    w.i64(checkInt(b.maxTimestamp, `${f}.maxTimestamp`, -1, Number.MAX_SAFE_INTEGER));
    w.u32(checkInt(b.crc, `${f}.crc`, 0, 0xffffffff));
    w.i64(checkInt(b.topicGeneration ?? 0, `${f}.topicGeneration`, 0, Number.MAX_SAFE_INTEGER));
    w.u32(b.payload.length); w.bytes(b.payload);
  });
  return w.buf;
}

/** Encodes a batches frame (server side of the binary read). */
export function encodeBatchesFrame(frame: BatchesFrame): Uint8Array {
  let size = 4 + 1 + 8 * 3 + 4;
  for (const b of frame.batches) size += 8 + 4 + 8 + 8 + 4 + 4 + b.payload.length;
  const w = new Writer(size);
  w.u32(BATCHES_MAGIC); w.u8(WIRE_VERSION);
  w.i64(frame.low); w.i64(frame.high); w.i64(frame.nextOffset);
  w.u32(frame.batches.length);
  for (const b of frame.batches) {
    w.i64(b.baseOffset); w.u32(b.count); w.i64(b.firstTimestamp); w.i64(b.maxTimestamp); w.u32(b.crc);
    w.u32(b.payload.length); w.bytes(b.payload);
  }
  return w.buf;
}

// ---------------------------------------------------------------------------------------------
// reader

const dec = new TextDecoder('utf-8', { fatal: true });

class Reader {
  view: DataView;
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly what: string) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number, field: string) {
    if (this.pos + n > this.buf.length) {
      throw new InvalidArgumentError(`${this.what} is truncated at ${field} (byte ${this.pos} of ${this.buf.length})`, { details: { field } });
    }
  }
  u8(f: string) { this.need(1, f); return this.view.getUint8(this.pos++); }
  i16(f: string) { this.need(2, f); const v = this.view.getInt16(this.pos); this.pos += 2; return v; }
  u16(f: string) { this.need(2, f); const v = this.view.getUint16(this.pos); this.pos += 2; return v; }
  i32(f: string) { this.need(4, f); const v = this.view.getInt32(this.pos); this.pos += 4; return v; }
  u32(f: string) { this.need(4, f); const v = this.view.getUint32(this.pos); this.pos += 4; return v; }
  i64(f: string, min: number) {
    this.need(8, f);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    if (v < BigInt(min) || v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new InvalidArgumentError(`${f} is out of range: ${v}`, { details: { field: f } });
    }
    return Number(v);
  }
  str(f: string, max: number) {
    const n = this.u16(f);
    if (n > max) throw new InvalidArgumentError(`${f} is ${n} bytes; at most ${max}`, { details: { field: f } });
    this.need(n, f);
    try {
      return dec.decode(this.buf.subarray(this.pos, (this.pos += n)));
    } catch {
      throw new InvalidArgumentError(`${f} is not valid UTF-8`, { details: { field: f } });
    }
  }
  bytes(n: number, f: string) {
    this.need(n, f);
    // A view, not a copy: the caller owns the input buffer.
    return this.buf.subarray(this.pos, (this.pos += n));
  }
}

/**
 * Decodes a push frame. Payloads are views into `bytes` (not copied). Checks structure and
 * bounds only; CRCs and record contents are the server's to verify. Throws
 * InvalidArgumentError with `details.field` naming what is wrong.
 */
export function decodePushFrame(bytes: Uint8Array, limits: WireLimits = DEFAULT_WIRE_LIMITS): PushFrame {
  const r = new Reader(bytes, 'push frame');
  if (r.u32('magic') !== PUSH_MAGIC) throw new InvalidArgumentError('not a push frame: bad magic (expected "LNSP")', { details: { field: 'magic' } });
  const version = r.u8('version');
  if (version !== WIRE_VERSION && version !== PUSH_WIRE_VERSION) {
    throw new InvalidArgumentError(`push frame version ${version} is not supported (this server reads ${WIRE_VERSION} and ${PUSH_WIRE_VERSION})`, { details: { field: 'version' } });
  }
  const deviceId = r.str('deviceId', 128);
  if (!deviceId) throw new InvalidArgumentError('deviceId is empty', { details: { field: 'deviceId' } });
  const n = r.u32('batchCount');
  if (n > limits.maxBatches) throw new InvalidArgumentError(`push frame has ${n} batches; at most ${limits.maxBatches}`, { details: { field: 'batchCount' } });
  const batches: PushBatch[] = [];
  for (let i = 0; i < n; i++) {
    const f = `batches[${i}]`;
    const topic = r.str(`${f}.topic`, 249);
    if (!isValidTopicName(topic)) throw new InvalidArgumentError(`${f}.topic ${JSON.stringify(topic)} is not a valid topic name (1-249 of a-z A-Z 0-9 . _ -)`, { details: { field: `${f}.topic` } });
    const partition = r.u32(`${f}.partition`);
    // A topic has at most MAX_PARTITIONS: the store makes every partition below the one pushed.
    if (partition >= MAX_PARTITIONS) throw new InvalidArgumentError(`${f}.partition ${partition} is out of range (a topic has at most ${MAX_PARTITIONS} partitions)`, { details: { field: `${f}.partition` } });
    const baseOffset = r.i64(`${f}.baseOffset`, 0);
    const lastOffsetDelta = r.u32(`${f}.lastOffsetDelta`);
    const producerId = r.i64(`${f}.producerId`, -1);
    const producerEpoch = r.i16(`${f}.producerEpoch`);
    const baseSequence = r.i32(`${f}.baseSequence`);
    const count = r.u32(`${f}.count`);
    const firstTimestamp = r.i64(`${f}.firstTimestamp`, -1);
    const maxTimestamp = r.i64(`${f}.maxTimestamp`, -1);
    const crc = r.u32(`${f}.crc`);
    const topicGeneration = version === PUSH_WIRE_VERSION ? r.i64(`${f}.topicGeneration`, 0) : 0;
    const len = r.u32(`${f}.payloadLength`);
    if (len > limits.maxPayloadBytes) throw new InvalidArgumentError(`${f}.payload is ${len} bytes; at most ${limits.maxPayloadBytes}`, { details: { field: `${f}.payload` } });
    const payload = r.bytes(len, `${f}.payload`);
    batches.push({ topic, partition, baseOffset, lastOffsetDelta, producerId, producerEpoch, baseSequence, count, firstTimestamp, maxTimestamp, crc, topicGeneration, payload });
  }
  if (r.pos !== bytes.length) throw new InvalidArgumentError(`push frame has ${bytes.length - r.pos} bytes after its last batch`, { details: { field: 'batchCount' } });
  return { deviceId, batches };
}

/** Decodes a batches frame (client side of the binary read). Payloads are views into `bytes`. */
export function decodeBatchesFrame(bytes: Uint8Array): BatchesFrame {
  const r = new Reader(bytes, 'batches frame');
  if (r.u32('magic') !== BATCHES_MAGIC) throw new InvalidArgumentError('not a batches frame: bad magic (expected "LNSB")', { details: { field: 'magic' } });
  const version = r.u8('version');
  if (version !== WIRE_VERSION) throw new InvalidArgumentError(`batches frame version ${version} is not supported`, { details: { field: 'version' } });
  const low = r.i64('low', 0), high = r.i64('high', 0), nextOffset = r.i64('nextOffset', 0);
  const n = r.u32('batchCount');
  const batches: ReplicaBatch[] = [];
  for (let i = 0; i < n; i++) {
    const f = `batches[${i}]`;
    const baseOffset = r.i64(`${f}.baseOffset`, 0);
    const count = r.u32(`${f}.count`);
    const firstTimestamp = r.i64(`${f}.firstTimestamp`, -1);
    const maxTimestamp = r.i64(`${f}.maxTimestamp`, -1);
    const crc = r.u32(`${f}.crc`);
    const len = r.u32(`${f}.payloadLength`);
    batches.push({ baseOffset, count, firstTimestamp, maxTimestamp, crc, payload: r.bytes(len, `${f}.payload`) });
  }
  return { low, high, nextOffset, batches };
}

// ---------------------------------------------------------------------------------------------
// routes

/** Path of the records route (JSON) of a topic partition, with its query. */
export function recordsPath(topic: string, partition: number, offset: number | string, limit?: number): string {
  const q = `offset=${offset}${limit === undefined ? '' : `&limit=${limit}`}`;
  return `/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/records?${q}`;
}

/** Path of the binary batches route of a topic partition, with its query. */
export function batchesPath(topic: string, partition: number, offset: number | string, maxBytes?: number): string {
  const q = `offset=${offset}${maxBytes === undefined ? '' : `&maxBytes=${maxBytes}`}`;
  return `/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/batches?${q}`;
}
