/**
 * The byte mapping between lanes records and Kafka records [pure].
 *
 * lanes -> Kafka (Fetch): a stored replica batch (lanes' record-batch payload, dense offsets)
 * becomes one Kafka RecordBatch v2 with the same base offset, count and timestamps, transcoded
 * record by record without decoding values:
 * - key / value: a string is its UTF-8 bytes, bytes are themselves, a JSON value is its JSON
 *   text in UTF-8, null is null (a tombstone value stays a tombstone).
 * - headers: each name/value pair in order; string values as UTF-8, bytes as themselves; the
 *   items of an array value as one header each, under its name (an empty array is left out).
 * - timestamp: the record's own (CreateTime).
 *
 * Kafka -> lanes (Produce): key, value and header values that are valid UTF-8 become strings,
 * anything else stays bytes (Uint8Array); null stays null, a null header value becomes an empty
 * string (lanes headers carry no null). So text round-trips exactly both ways and binary data
 * stays binary; a device reading a Kafka-produced JSON document gets its text (JSON.parse it).
 *
 * Invariants:
 * - The transcoder reads only inside the payload; a payload that does not parse throws
 *   KafkaDecodeError (the store verified its CRC, so this means a bug, never silent garbage).
 * - A Kafka batch written here has producer id -1 and a CRC-32C over attributes..end.
 */
import { crc32c } from '../../protocol/crc32c.js';
import { FieldType, HEADER_EMPTY_ARRAY, putHeader } from '../../protocol/record-batch.js';
import type { ReplicaBatch } from '../../protocol/replica-wire.js';
import type { IHeaders, Message } from '../../types.js';
import type { KafkaRecord } from './record-batch.js';
import { KafkaDecodeError, type Writer } from './wire.js';

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Size of a zig-zag varint/varlong. */
function zsize(v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  let s = 1;
  while (u >= 128) { u = Math.floor(u / 128); s++; }
  return s;
}

// Scratch positions of one record's fields (reused; the transcoder is synchronous).
let hdr = new Int32Array(64);

/**
 * Appends the Kafka RecordBatch v2 form of a stored batch to `w`. Returns the bytes written.
 */
export function encodeStoredBatch(w: Writer, b: ReplicaBatch): number {
  const p = b.payload;
  const end = p.length;
  const start = w.pos;
  const baseTs = b.firstTimestamp;
  w.int64(b.baseOffset).int32(0).int32(0).int8(2).uint32(0);
  const crcFrom = w.pos;
  w.int16(0).int32(Math.max(0, b.count - 1)).int64(baseTs).int64(b.maxTimestamp).int64(-1).int16(-1).int32(-1).int32(b.count);
  let i = 0;
  let n = 0;
  const uv = (): number => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (i >= end || shift > 49) throw new KafkaDecodeError('stored payload: bad varint');
      const c = p[i++]!;
      result += (c & 0x7f) * 2 ** shift;
      if ((c & 0x80) === 0) return result;
    }
  };
  let delta = 0;
  while (i < end) {
    const len = uv();
    const recEnd = i + len;
    if (recEnd > end) throw new KafkaDecodeError('stored payload: record overruns the batch');
    const attrs = p[i++]!;
    delta += uv();
    const ts = uv();
    const kt = attrs & 3;
    const vt = (attrs >> 2) & 3;
    let kStart = 0, kLen = -1, vStart = 0, vLen = -1;
    if (kt !== FieldType.Null) { kLen = uv(); kStart = i; i += kLen; }
    if (vt !== FieldType.Null) { vLen = uv(); vStart = i; i += vLen; }
    let h = 0, empty = 0;
    if (attrs & 16) {
      h = uv();
      if (hdr.length < h * 5) hdr = new Int32Array(h * 5 * 2);
      for (let j = 0; j < h; j++) {
        const nl = uv();
        hdr[j * 5] = i; hdr[j * 5 + 1] = nl;
        i += nl;
        const t = p[i++]!;
        // An empty array (lanes only) has no Kafka form: it is left out (length -2 marks it).
        if (t === HEADER_EMPTY_ARRAY) { hdr[j * 5 + 2] = 0; hdr[j * 5 + 3] = -2; empty++; }
        else if (t === FieldType.Null) { hdr[j * 5 + 2] = 0; hdr[j * 5 + 3] = -1; }
        else { const l = uv(); hdr[j * 5 + 2] = i; hdr[j * 5 + 3] = l; i += l; }
      }
    }
    if (i > recEnd) throw new KafkaDecodeError('stored payload: record fields overrun the record');
    i = recEnd;
    const tsDelta = ts - baseTs;
    let size = 1 + zsize(tsDelta) + zsize(delta) + zsize(kLen) + Math.max(0, kLen) + zsize(vLen) + Math.max(0, vLen) + zsize(h - empty);
    for (let j = 0; j < h; j++) {
      const nl = hdr[j * 5 + 1]!, vl = hdr[j * 5 + 3]!;
      if (vl !== -2) size += zsize(nl) + nl + zsize(vl) + Math.max(0, vl);
    }
    w.varint(size).int8(0).varint(tsDelta).varint(delta);
    w.varint(kLen);
    if (kLen > 0) w.copy(p, kStart, kLen);
    w.varint(vLen);
    if (vLen > 0) w.copy(p, vStart, vLen);
    w.varint(h - empty);
    for (let j = 0; j < h; j++) {
      const nl = hdr[j * 5 + 1]!, vl = hdr[j * 5 + 3]!;
      if (vl === -2) continue;
      w.varint(nl).copy(p, hdr[j * 5]!, nl).varint(vl);
      if (vl > 0) w.copy(p, hdr[j * 5 + 2]!, vl);
    }
    delta++;
    n++;
  }
  if (n !== b.count) throw new KafkaDecodeError(`stored payload holds ${n} records, the batch says ${b.count}`);
  w.setInt32(start + 8, w.pos - start - 12);
  w.setUint32(crcFrom - 4, crc32c(w.slice(crcFrom)));
  return w.pos - start;
}

/**
 * The first record of a stored batch at or above offset `from` whose timestamp is at least
 * `ts`, with that timestamp (ListOffsets by time looks inside the batch, as Kafka does), or
 * null when there is none. Reads only the records' length, offset skip and timestamp.
 */
export function firstRecordAtOrAfter(b: ReplicaBatch, ts: number, from: number): { offset: number; timestamp: number } | null {
  const p = b.payload;
  let i = 0;
  const uv = (): number => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (i >= p.length || shift > 49) throw new KafkaDecodeError('stored payload: bad varint');
      const c = p[i++]!;
      result += (c & 0x7f) * 2 ** shift;
      if ((c & 0x80) === 0) return result;
    }
  };
  let delta = 0;
  while (i < p.length) {
    const len = uv();
    const end = i + len;
    if (end > p.length) throw new KafkaDecodeError('stored payload: record overruns the batch');
    i++; // attributes
    delta += uv();
    const timestamp = uv();
    const offset = b.baseOffset + delta;
    if (offset >= from && timestamp >= ts) return { offset, timestamp };
    i = end;
    delta++;
  }
  return null;
}

function text(b: Uint8Array | null): string | Uint8Array | null {
  if (b === null) return null;
  try {
    return strict.decode(b);
  } catch {
    return b.slice();
  }
}

/** Kafka records (from a Produce) as lanes messages; see the module comment for the mapping. */
export function kafkaToMessages(records: readonly KafkaRecord[], now: number): Message[] {
  return records.map((r) => {
    let headers: IHeaders | undefined;
    if (r.headers.length > 0) {
      headers = {};
      for (const h of r.headers) {
        const v = (h.value === null ? '' : text(h.value)) as string | Uint8Array;
        const prev = Object.hasOwn(headers, h.key) ? headers[h.key] : undefined;
        putHeader(headers, h.key, prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]);
      }
    }
    return { key: text(r.key) as string | Uint8Array | null, value: text(r.value), headers, timestamp: r.timestamp >= 0 ? r.timestamp : now };
  });
}
