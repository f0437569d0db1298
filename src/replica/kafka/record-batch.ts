/**
 * Kafka RecordBatch v2 ("magic 2") encode and decode [pure apart from node:zlib for gzip].
 * https://kafka.apache.org/documentation/#recordbatch
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 (2)
 *   | crc uint32 (CRC-32C of everything after it) | attributes int16 | lastOffsetDelta int32
 *   | baseTimestamp int64 | maxTimestamp int64 | producerId int64 | producerEpoch int16
 *   | baseSequence int32 | recordCount int32 | records (possibly compressed)
 *   record: length varint | attributes int8 | timestampDelta varlong | offsetDelta varint
 *           | key (varint length, -1 null) | value (same) | headers varint count
 *           x (key: varint length + UTF-8, value: varint length, -1 null)
 *
 * Invariants:
 * - Decoding checks magic, batchLength against the bytes present, and the CRC before reading
 *   a record, and every record length against its batch: a corrupt batch is refused whole.
 * - Compression: none and gzip are read; snappy, lz4 and zstd are refused with
 *   {@link UnsupportedCompressionError}. Batches written here are uncompressed.
 * - A gzip batch inflates to at most `maxInflatedBytes` (default 16 MiB): a small batch of
 *   compressed zeros cannot make the server allocate gigabytes ({@link BatchTooLargeError}).
 * - Encoded batches carry producer id -1 (no idempotence state for consumers to check) and
 *   CreateTime timestamps, the record's own timestamp, so a Kafka client sees the device's time.
 */
import { gunzipSync } from 'node:zlib';
import { crc32c } from '../../protocol/crc32c.js';
import { KafkaDecodeError, Reader, Writer } from './wire.js';

/** One record header as Kafka carries it. */
export interface KafkaHeader {
  key: string;
  value: Uint8Array | null;
}

/** One record as Kafka carries it. */
export interface KafkaRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: KafkaHeader[];
}

/** A decoded batch (as a producer sent it). */
export interface DecodedBatch {
  baseOffset: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** Transactional or control batches are flagged so the listener can refuse them. */
  transactional: boolean;
  control: boolean;
  timestampType: 'CreateTime' | 'LogAppendTime';
  records: KafkaRecord[];
}

/** A batch compressed with a codec this listener does not read. */
export class UnsupportedCompressionError extends KafkaDecodeError {
  constructor(readonly codec: number) {
    super(`record batch compression ${['none', 'gzip', 'snappy', 'lz4', 'zstd'][codec] ?? codec} is not supported (use none or gzip)`);
    this.name = 'UnsupportedCompressionError';
  }
}

/** A message set in the old formats (magic 0 or 1). */
export class UnsupportedMagicError extends KafkaDecodeError {
  constructor(readonly magic: number) {
    super(`record batch magic ${magic} is not supported (only RecordBatch v2)`);
    this.name = 'UnsupportedMagicError';
  }
}

/** A gzip batch whose records inflate beyond the limit the listener sets. */
export class BatchTooLargeError extends KafkaDecodeError {
  constructor(readonly limit: number) {
    super(`record batch inflates beyond ${limit} bytes`);
    this.name = 'BatchTooLargeError';
  }
}

const HEADER_BYTES = 61;

/** Default bound on a gzip batch's inflated records: 16 MiB, the listener's default frame limit. */
export const DEFAULT_MAX_INFLATED_BYTES = 16 << 20;

/**
 * Decodes every batch in a Produce request's `records` bytes. Throws on any corruption, and
 * {@link BatchTooLargeError} for a gzip batch inflating beyond `maxInflatedBytes`.
 */
export function decodeBatches(bytes: Uint8Array, maxInflatedBytes = DEFAULT_MAX_INFLATED_BYTES): DecodedBatch[] {
  const out: DecodedBatch[] = [];
  const r = new Reader(bytes);
  while (r.remaining > 0) {
    if (r.remaining < 17) throw new KafkaDecodeError(`truncated record batch: ${r.remaining} trailing bytes`);
    const start = r.pos;
    const baseOffset = r.int64();
    const batchLength = r.int32();
    r.int32(); // partitionLeaderEpoch
    const magic = r.int8();
    if (magic !== 2) throw new UnsupportedMagicError(magic);
    if (batchLength < HEADER_BYTES - 12 || start + 12 + batchLength > r.end) {
      throw new KafkaDecodeError(`record batch length ${batchLength} does not match the ${r.end - start - 12} bytes present`);
    }
    const end = start + 12 + batchLength;
    const crc = r.uint32();
    const actual = crc32c(bytes.subarray(r.pos, end));
    if (actual !== crc) throw new KafkaDecodeError(`record batch CRC mismatch: stored ${crc}, computed ${actual}`);
    const b = new Reader(bytes, r.pos, end);
    const attributes = b.int16();
    const lastOffsetDelta = b.int32();
    const baseTimestamp = b.int64();
    b.int64(); // maxTimestamp
    const producerId = b.int64();
    const producerEpoch = b.int16();
    const baseSequence = b.int32();
    const count = b.int32();
    const codec = attributes & 7;
    let rr: Reader = b;
    if (codec === 1) {
      let plain: Uint8Array;
      try {
        plain = gunzipSync(b.raw(b.remaining), { maxOutputLength: maxInflatedBytes });
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new BatchTooLargeError(maxInflatedBytes);
        throw new KafkaDecodeError(`record batch gzip data is corrupt: ${(e as Error).message}`);
      }
      rr = new Reader(new Uint8Array(plain.buffer, plain.byteOffset, plain.length));
    } else if (codec !== 0) {
      throw new UnsupportedCompressionError(codec);
    }
    if (count < 0 || count > rr.remaining) throw new KafkaDecodeError(`record count ${count} cannot fit in the batch`);
    const records: KafkaRecord[] = new Array(count);
    for (let i = 0; i < count; i++) records[i] = decodeRecord(rr, baseOffset, baseTimestamp);
    if (rr.remaining !== 0) throw new KafkaDecodeError(`record batch has ${rr.remaining} bytes after its ${count} records`);
    if (count > 0 && records[count - 1]!.offset - baseOffset > lastOffsetDelta) {
      throw new KafkaDecodeError(`record offset delta beyond lastOffsetDelta ${lastOffsetDelta}`);
    }
    out.push({
      baseOffset, producerId, producerEpoch, baseSequence,
      transactional: (attributes & 0x10) !== 0, control: (attributes & 0x20) !== 0,
      timestampType: attributes & 8 ? 'LogAppendTime' : 'CreateTime', records,
    });
    r.pos = end;
  }
  return out;
}

function decodeRecord(r: Reader, baseOffset: number, baseTimestamp: number): KafkaRecord {
  const length = r.varint();
  if (length < 0 || length > r.remaining) throw new KafkaDecodeError(`record length ${length} exceeds the batch`);
  const end = r.pos + length;
  const rec = new Reader(r.buf, r.pos, end);
  rec.int8(); // attributes (unused)
  const timestamp = baseTimestamp + rec.varlong();
  const offset = baseOffset + rec.varint();
  const key = nullableBytes(rec, 'key');
  const value = nullableBytes(rec, 'value');
  const n = rec.varint();
  if (n < 0 || n > rec.remaining) throw new KafkaDecodeError(`header count ${n} exceeds the record`);
  const headers: KafkaHeader[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const kl = rec.varint();
    if (kl < 0) throw new KafkaDecodeError('header key must not be null');
    const hk = rec.utf8(kl);
    headers[i] = { key: hk, value: nullableBytes(rec, 'header value') };
  }
  if (rec.remaining !== 0) throw new KafkaDecodeError(`record has ${rec.remaining} unread bytes`);
  r.pos = end;
  return { offset, timestamp, key, value, headers };
}

function nullableBytes(r: Reader, what: string): Uint8Array | null {
  const n = r.varint();
  if (n === -1) return null;
  if (n < 0) throw new KafkaDecodeError(`${what} length ${n} is negative`);
  return r.raw(n, what);
}

/** Bytes a record takes inside a batch, roughly (for fetch size limits). */
export function recordSize(r: KafkaRecord): number {
  let n = 24 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += 10 + h.key.length * 3 + (h.value?.length ?? 0);
  return n;
}

const utf8 = new TextEncoder();

/**
 * Appends one uncompressed batch holding `records` (ascending offsets, at least one) to `w`.
 * `producerId` -1 unless the records keep a producer's identity.
 */
export function encodeBatch(w: Writer, records: readonly KafkaRecord[], producer = { producerId: -1, producerEpoch: -1, baseSequence: -1 }): void {
  const first = records[0]!;
  const baseOffset = first.offset;
  let baseTimestamp = first.timestamp;
  let maxTimestamp = first.timestamp;
  for (const r of records) {
    if (r.timestamp < baseTimestamp) baseTimestamp = r.timestamp;
    if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
  }
  const start = w.pos;
  w.int64(baseOffset).int32(0).int32(0).int8(2).uint32(0);
  const crcFrom = w.pos;
  w.int16(0).int32(records[records.length - 1]!.offset - baseOffset).int64(baseTimestamp).int64(maxTimestamp)
    .int64(producer.producerId).int16(producer.producerEpoch).int32(producer.baseSequence).int32(records.length);
  const body = new Writer(64);
  for (const r of records) {
    body.pos = 0;
    body.int8(0).varint(r.timestamp - baseTimestamp).varint(r.offset - baseOffset);
    if (r.key === null) body.varint(-1); else body.varint(r.key.length).raw(r.key);
    if (r.value === null) body.varint(-1); else body.varint(r.value.length).raw(r.value);
    body.varint(r.headers.length);
    for (const h of r.headers) {
      const k = utf8.encode(h.key);
      body.varint(k.length).raw(k);
      if (h.value === null) body.varint(-1); else body.varint(h.value.length).raw(h.value);
    }
    const bytes = body.finish();
    w.varint(bytes.length).raw(bytes);
  }
  w.setInt32(start + 8, w.pos - start - 12);
  w.setUint32(crcFrom - 4, crc32c(w.slice(crcFrom)));
}
