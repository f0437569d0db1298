/**
 * The record batch codec: the wire and storage format shared by producers, the log and
 * consumers. A batch is one IndexedDB value: a small header (base offset, count, timestamps,
 * CRC-32C, producer id and sequence) and a `payload` of records encoded back to back.
 *
 * Record layout (varints are unsigned LEB128; a number may exceed 32 bits):
 *   varint length            bytes that follow in this record
 *   u8     attributes        bits 0-1 key type, bits 2-3 value type, bit 4 has headers
 *   varint offsetSkip        offset = previous record's offset + 1 + skip (first: base + skip)
 *   varint timestamp         milliseconds since the epoch (CreateTime)
 *   [varint len, bytes]      key, when its type is not null
 *   [varint len, bytes]      value, when its type is not null (json: JSON text)
 *   [varint n, n x (varint len, name, u8 type, varint len, bytes)]  headers, when bit 4
 *     header type: bits 0-1 the value's type; bit 7 set: the value is an item of an array
 *     (so `['x']` reads back as `['x']`, not `'x'`); bits 7 and 6 set: an empty array, no bytes.
 *     Items of one array are consecutive. A repeated name without bit 7 reads back as an array
 *     too (KafkaJS's way of decoding repeated Kafka headers).
 *
 * Invariants:
 * - Offsets inside a payload are strictly increasing; compaction only raises skips, so
 *   offsets never change and the batch's base and last offset stay.
 * - Payloads of dense records concatenate: the producer joins the records of several sends
 *   to one partition into one batch without re-encoding them.
 * - `crc` is CRC-32C of `payload`; the broker checks it where it reads a batch back from
 *   IndexedDB (log/reader.ts), before any consumer gets it.
 */
import { CorruptRecordError, formatValue, InvalidRecordError } from '../errors.js';
import type { HeaderValue, IHeaders, JsonValue, KafkaMessage, Message } from '../types.js';
import { crc32c } from './crc32c.js';
import type { jointJson } from './joint-json.js';
import { maxUtf8Length, readUtf8, writeUtf8 } from './utf8.js';
import type { RecordView } from './record-scan.js';

/** Type tags of keys, values and header values. */
export const FieldType = { Null: 0, String: 1, Bytes: 2, Json: 3 } as const;
/** A type tag. */
export type FieldType = (typeof FieldType)[keyof typeof FieldType];

/** Records encoded by a producer, before the broker gives them offsets. */
export interface EncodedRecords {
  count: number;
  firstTimestamp: number;
  maxTimestamp: number;
  /** Size of the largest record, checked against max.message.bytes. */
  maxRecordBytes: number;
  payload: Uint8Array;
  /** Codec of `payload` (1: GZIP); absent: not compressed. */
  compression?: number;
}

/** Timestamp types, as Kafka's `message.timestamp.type`. */
export type TimestampType = 'CreateTime' | 'LogAppendTime';

/** A stored record batch, as it is kept in IndexedDB and sent to consumers. */
export interface RecordBatch {
  topic: string;
  partition: number;
  baseOffset: number;
  /** Offset of the last record written in this batch, relative to baseOffset (kept through compaction). */
  lastOffsetDelta: number;
  /** Records present now (fewer than lastOffsetDelta + 1 after compaction). */
  count: number;
  firstTimestamp: number;
  maxTimestamp: number;
  timestampType: TimestampType;
  /** Append time when timestampType is LogAppendTime, else -1. */
  logAppendTime: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  crc: number;
  sizeBytes: number;
  payload: Uint8Array;
  /** Base offset of the segment holding this batch. */
  segment: number;
  /** When the cleaner first rewrote this batch (ms), or -1. Tombstones age from then. */
  cleanedAt: number;
  /** Codec of `payload` (1: GZIP, see protocol/compression); absent: not compressed. */
  compression?: number;
  /** Written inside a transaction: visible to read-committed readers once its COMMIT marker is. */
  transactional?: boolean;
  /** A transaction marker (Kafka's control batch): one offset, no user record, never delivered. */
  control?: 'COMMIT' | 'ABORT';
  /**
   * Log-internal state written with the batch (readers ignore it): the counters of its segment
   * through this batch, and its producer's idempotence state on the partition through this
   * batch. The log keeps them only in the partition's last batch instead of rewriting the
   * segment and producer rows on every append, and rebuilds them from that batch when it loads
   * the partition (see log/carried-state.ts).
   */
  carried?: CarriedState;
}

/** What a stored batch carries of its partition's state (see RecordBatch.carried). */
export interface CarriedState {
  /** The segment's counters after this batch (its nextOffset is the batch's last offset + 1). */
  segment: { sizeBytes: number; batchCount: number; recordCount: number; firstTimestamp: number; maxTimestamp: number };
  /** The producer's state after this batch (idempotent producers' batches only). */
  producer?: { epoch: number; lastSequence: number; recent: { firstSeq: number; lastSeq: number; baseOffset: number; logAppendTime: number }[]; updatedAt: number };
}

// ---------------------------------------------------------------------------------------------
// encoding

let scratch = new Uint8Array(1 << 16);
let pos = 0;

function ensure(extra: number): void {
  if (pos + extra <= scratch.length) return;
  let size = scratch.length * 2;
  while (size < pos + extra) size *= 2;
  const next = new Uint8Array(size);
  next.set(scratch.subarray(0, pos));
  scratch = next;
}

function varintSize(n: number): number {
  let s = 1;
  while (n >= 128) { n = Math.floor(n / 128); s++; }
  return s;
}

function writeVarint(n: number): void {
  while (n >= 128) {
    // The typed array keeps the low 8 bits (`|` works on the low 32: exact for any safe integer).
    scratch[pos++] = n | 128;
    n = Math.floor(n / 128);
  }
  scratch[pos++] = n;
}

/**
 * Writes a length-prefixed string. The prefix is reserved for `s.length` bytes, a lower bound
 * of its UTF-8 length and the exact one for ASCII; a longer encoding moves the text by the
 * prefix's extra bytes (room for that is ensured up front).
 */
function writeString(s: string): void {
  const reserve = varintSize(s.length);
  ensure(maxUtf8Length(s) + 5);
  const start = pos;
  const len = writeUtf8(s, scratch, start + reserve);
  const actual = varintSize(len);
  if (actual !== reserve) scratch.copyWithin(start + actual, start + reserve, start + reserve + len);
  pos = start;
  writeVarint(len);
  pos += len;
}

function writeBytes(b: Uint8Array): void {
  ensure(5 + b.length);
  writeVarint(b.length);
  scratch.set(b, pos);
  pos += b.length;
}

/** Refuses a key that is not a string, a Uint8Array or null. */
function badKey(k: unknown, field: string): never {
  throw new InvalidRecordError(`${field} must be a string, a Uint8Array or null; got ${describe(k)}`, { details: { field } });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/**
 * Fast check that `v` is JSON-compatible: no paths, no cycle set (a cycle runs into the depth
 * limit). The slow {@link assertJsonValue} runs only to name what is wrong.
 */
function isJsonValue(v: unknown, depth: number): boolean {
  if (v === null) return true;
  switch (typeof v) {
    case 'string': case 'boolean': return true;
    case 'number': return Number.isFinite(v);
    case 'object': {
      if (depth > 256) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!isJsonValue(v[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const k in v) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        if (!isJsonValue((v as Record<string, unknown>)[k], depth + 1)) return false;
      }
      return true;
    }
    default: return false;
  }
}

/** Throws unless `v` is JSON-compatible: plain objects, arrays, finite numbers, strings, booleans, null. */
export function assertJsonValue(v: unknown, field: string, depth = 0, seen?: Set<object>): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return;
    throw new InvalidRecordError(`${field} is ${v}, which JSON cannot represent`, { details: { field } });
  }
  if (typeof v !== 'object') {
    throw new InvalidRecordError(`${field} is a ${typeof v}, which cannot be stored (use string, Uint8Array, JSON-compatible data or null)`, { details: { field } });
  }
  if (depth > 256) throw new InvalidRecordError(`${field} is nested deeper than 256 levels`, { details: { field } });
  const s = seen ?? new Set<object>();
  if (s.has(v)) throw new InvalidRecordError(`${field} contains a cycle`, { details: { field } });
  s.add(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) assertJsonValue(v[i], `${field}[${i}]`, depth + 1, s);
  } else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidRecordError(`${field} is a ${describe(v)}, which is not JSON-compatible (use plain objects and arrays)`, { details: { field } });
    }
    for (const k of Object.keys(v)) assertJsonValue((v as Record<string, unknown>)[k], `${field}.${k}`, depth + 1, s);
  }
  s.delete(v);
}

function parseTimestamp(t: unknown, now: number, field: string): number {
  if (t === undefined || t === null) return now;
  // Strings must be decimal digits: Number('') is 0 and Number('0x10') is 16.
  const n = typeof t === 'string' ? (/^\d+$/.test(t) ? Number(t) : NaN) : t;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new InvalidRecordError(`${field} must be a non-negative integer of milliseconds (number or decimal string); got ${formatValue(t)}`, { details: { field } });
  }
  return n;
}

/** Header type bit: the value is an item of an array. */
export const HEADER_ARRAY_ITEM = 0x80;
/** Header type bits: an empty array (no value follows). */
export const HEADER_EMPTY_ARRAY = 0xc0;

/**
 * Writes headers. Refused (InvalidRecordError naming the header): `headers` that is an array or
 * not a plain object, and a value that is not a string or Uint8Array, including `undefined`
 * and `null` (KafkaJS throws a TypeError for those; lanes names the header instead of
 * silently dropping it).
 */
function writeHeaders(h: IHeaders, field: string): void {
  if (Array.isArray(h) || (Object.getPrototypeOf(h) !== Object.prototype && Object.getPrototypeOf(h) !== null)) {
    throw new InvalidRecordError(`${field} must be a plain object of { name: value } (a value may be an array); got ${Array.isArray(h) ? 'an array' : describe(h)}`, { details: { field } });
  }
  const entries: [string, HeaderValue | null, number][] = [];
  for (const name of Object.keys(h)) {
    const v = h[name];
    if (Array.isArray(v)) {
      if (v.length === 0) entries.push([name, null, HEADER_EMPTY_ARRAY]);
      for (let i = 0; i < v.length; i++) entries.push([name, checkHeaderValue(v[i], `${field}.${name}[${i}]`), HEADER_ARRAY_ITEM]);
    } else {
      entries.push([name, checkHeaderValue(v, `${field}.${name}`), 0]);
    }
  }
  ensure(5);
  writeVarint(entries.length);
  for (const [name, v, flags] of entries) {
    writeString(name);
    ensure(1);
    if (v === null) scratch[pos++] = flags;
    else if (typeof v === 'string') { scratch[pos++] = FieldType.String | flags; writeString(v); }
    else { scratch[pos++] = FieldType.Bytes | flags; writeBytes(v); }
  }
}

function checkHeaderValue(v: unknown, field: string): HeaderValue {
  if (typeof v === 'string' || v instanceof Uint8Array) return v;
  throw new InvalidRecordError(`header ${field} must be a string or Uint8Array; got ${v === undefined ? 'undefined' : describe(v)}`, { details: { field } });
}

/** Firefox's one JSON.stringify per send (protocol/joint-json.ts, see there), once loaded. */
let joint: typeof jointJson | undefined;
if (/Firefox\//.test((globalThis as { navigator?: { userAgent: string } }).navigator?.userAgent as string)) import('./joint-json.js').then((m) => { joint = m.jointJson; }, () => undefined);

/**
 * Validates and encodes messages into one payload. Throws InvalidRecordError naming the field
 * (`messages[2].value`) for anything that cannot be stored; nothing is returned half-done.
 * `indices[i]`, when given, is the index named for `messages[i]` (its place in the caller's
 * array, when `messages` is a subset of it).
 */
export function encodeRecords(messages: readonly Message[], now: number, fieldPrefix = 'messages', indices?: readonly number[]): EncodedRecords {
  pos = 0;
  let first = Infinity;
  let max = -1;
  let maxRecord = 0;
  // Bytes reserved for a record's length prefix: the previous record's, so a run of similar
  // records moves no bytes; a record whose prefix differs is moved once.
  let reserve = 1;
  // Field names are built only on the error paths: this loop runs once per record.
  const fieldOf = (i: number) => `${fieldPrefix}[${indices?.[i] ?? i}]`;
  // The JSON values stringified together (Firefox), and the next of them.
  const jv = joint?.(messages, isJsonValue);
  let j = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (m === null || typeof m !== 'object') throw new InvalidRecordError(`${fieldOf(i)} must be an object with a value`, { details: { field: fieldOf(i) } });
    const key = m.key;
    const kt: FieldType = key === null || key === undefined ? FieldType.Null : typeof key === 'string' ? FieldType.String
      : key instanceof Uint8Array ? FieldType.Bytes : badKey(key, `${fieldOf(i)}.key`);
    const v = m.value as unknown;
    let vt: FieldType;
    // What the value is written from: itself (a string or bytes), its JSON text, or that text's bytes.
    let body = v as string | Uint8Array | null;
    if (v === undefined) throw new InvalidRecordError(`${fieldOf(i)}.value is undefined (use null for a tombstone)`, { details: { field: `${fieldOf(i)}.value` } });
    if (v === null) vt = FieldType.Null;
    else if (typeof v === 'string') vt = FieldType.String;
    else if (v instanceof Uint8Array) vt = FieldType.Bytes;
    else {
      vt = FieldType.Json;
      // From the joint text while the message still holds the value stringified there.
      if (jv?.[0][j] === v) body = jv[1][j++]!;
      else {
        if (!isJsonValue(v, 0)) assertJsonValue(v, `${fieldOf(i)}.value`);
        body = JSON.stringify(v);
      }
    }
    const t = m.timestamp;
    const ts = t === undefined || t === null ? now
      : typeof t === 'number' && Number.isSafeInteger(t) && t >= 0 ? t : parseTimestamp(t, now, `${fieldOf(i)}.timestamp`);
    const hasHeaders = m.headers !== undefined && m.headers !== null;
    if (hasHeaders && typeof m.headers !== 'object') throw new InvalidRecordError(`${fieldOf(i)}.headers must be an object`, { details: { field: `${fieldOf(i)}.headers` } });
    if (ts < first) first = ts;
    if (ts > max) max = ts;

    ensure(32);
    const start = pos;
    pos += reserve; // length prefix reserved; fixed up below
    const bodyStart = pos;
    scratch[pos++] = kt | (vt << 2) | (hasHeaders ? 16 : 0);
    scratch[pos++] = 0; // offsetSkip: dense
    writeVarint(ts);
    if (kt === FieldType.String) writeString(m.key as string);
    else if (kt === FieldType.Bytes) writeBytes(m.key as Uint8Array);
    if (typeof body === 'string') writeString(body);
    else if (body) writeBytes(body);
    if (hasHeaders) writeHeaders(m.headers!, `${fieldOf(i)}.headers`);
    const len = pos - bodyStart;
    const ls = varintSize(len);
    if (ls !== reserve) {
      ensure(ls);
      scratch.copyWithin(start + ls, bodyStart, pos);
      reserve = ls;
    }
    const end = start + ls + len;
    pos = start;
    writeVarint(len);
    pos = end;
    if (ls + len > maxRecord) maxRecord = ls + len;
  }
  return {
    count: messages.length,
    firstTimestamp: messages.length ? first : now,
    maxTimestamp: messages.length ? max : now,
    maxRecordBytes: maxRecord,
    payload: scratch.slice(0, pos),
  };
}

/** Joins dense encoded records (of several sends to one partition) into one. */
export function concatRecords(parts: readonly EncodedRecords[]): EncodedRecords {
  if (parts.length === 1) return parts[0]!;
  let size = 0;
  for (const p of parts) size += p.payload.length;
  const payload = new Uint8Array(size);
  let o = 0;
  let count = 0, first = Infinity, max = -1, maxRecord = 0;
  for (const p of parts) {
    payload.set(p.payload, o);
    o += p.payload.length;
    count += p.count;
    if (p.count) {
      first = Math.min(first, p.firstTimestamp);
      max = Math.max(max, p.maxTimestamp);
    }
    maxRecord = Math.max(maxRecord, p.maxRecordBytes);
  }
  return { count, firstTimestamp: first === Infinity ? 0 : first, maxTimestamp: max, maxRecordBytes: maxRecord, payload };
}

// ---------------------------------------------------------------------------------------------
// decoding

/** A cursor over a payload. Varints may exceed 32 bits, so they are read with arithmetic. */
export class Reader {
  p = 0;
  constructor(readonly b: Uint8Array) {}
  varint(): number {
    const b = this.b;
    let x = b[this.p++]!;
    if (x < 128) return x;
    let result = x & 127;
    let mul = 128;
    for (;;) {
      x = b[this.p++]!;
      if (x === undefined) throw new CorruptRecordError('truncated varint in record batch');
      result += (x & 127) * mul;
      if (x < 128) return result;
      mul *= 128;
    }
  }
}

/** Throws CorruptRecordError unless the payload matches the batch's CRC-32C. */
export function verifyCrc(batch: Pick<RecordBatch, 'crc' | 'payload' | 'topic' | 'partition' | 'baseOffset'>): void {
  const c = crc32c(batch.payload);
  if (c !== batch.crc) {
    throw new CorruptRecordError(`record batch ${batch.topic}-${batch.partition}@${batch.baseOffset} fails its CRC-32C check`, {
      details: { topic: batch.topic, partition: batch.partition, baseOffset: batch.baseOffset },
    });
  }
}

/** Reads a null, string or bytes field (JSON values are parsed by decodeBatch, all at once). */
function readField(r: Reader, t: number): string | Uint8Array | null {
  if (t === FieldType.Null) return null;
  const len = r.varint();
  const start = r.p;
  r.p += len;
  return t === FieldType.String ? readUtf8(r.b, start, len) : r.b.slice(start, start + len);
}

/**
 * Sets header `name` as an own, enumerable property: a plain assignment to `__proto__` would
 * replace the object's prototype instead of adding a header.
 */
export function putHeader<V>(h: Record<string, V>, name: string, v: V): void {
  if (name === '__proto__') Object.defineProperty(h, name, { value: v, enumerable: true, writable: true, configurable: true });
  else h[name] = v;
}

/**
 * The copy of a payload in which decodeBatch parses JSON values, reused (a decode runs to its end
 * without yielding): a fresh copy per batch raised the sampled heap peak of a 1M-record read
 * from ~53 to ~58-67 MB.
 */
let jsonCopy = new Uint8Array(0);

/**
 * Decodes the records of a batch with offset >= `fromOffset`, at most `maxRecords` of them,
 * appending to `out`. Returns the offset of the last record decoded (or -1).
 *
 * JSON values are decoded together: in a copy of the payload every byte around them becomes
 * JSON whitespace, a comma or a bracket, so one UTF-8 decode and one JSON.parse of the copy
 * (a JSON array) yield them all. Per-value decodes cost a view, a string and a parse call per
 * record, which made up most of a read.
 */
export function decodeBatch(batch: RecordBatch, out: KafkaMessage[], fromOffset = 0, maxRecords = Infinity): number {
  const payload = batch.payload;
  const r = new Reader(payload);
  const end = payload.length;
  const appendTime = batch.timestampType === 'LogAppendTime' ? String(batch.logAppendTime) : null;
  let offset = batch.baseOffset - 1;
  let last = -1;
  let taken = 0;
  // The records of one send share their timestamp: its string is made once per run of them.
  let tsOf = -1, tsText = '';
  /** The payload's copy holding the JSON values as one array text; its bytes before `blank` are final. */
  let json: Uint8Array | undefined;
  let blank = 0;
  /** The messages whose values are the array's items, in order. */
  const pending: KafkaMessage[] = [];
  while (r.p < end && taken < maxRecords) {
    const len = r.varint();
    const recEnd = r.p + len;
    const attrs = r.b[r.p++]!;
    offset += 1 + r.varint();
    if (offset < fromOffset) { r.p = recEnd; continue; }
    const ts = r.varint();
    const key = readField(r, attrs & 3);
    const vt = (attrs >> 2) & 3;
    let value = null;
    if (vt === FieldType.Json) {
      const vl = r.varint();
      if (!json) {
        if (jsonCopy.length <= end) jsonCopy = new Uint8Array(end + 1);
        (json = jsonCopy).set(payload);
      }
      // The bytes since the previous value (or the start): '[' or ',', then spaces (a loop: a
      // few bytes per record, where a fill() call cost ~10% of the decode in both engines).
      json[blank] = blank ? 0x2c : 0x5b;
      for (let i = blank + 1; i < r.p; i++) json[i] = 0x20;
      blank = r.p += vl;
    } else {
      value = readField(r, vt);
    }
    const headers: IHeaders = {};
    if (attrs & 16) {
      const n = r.varint();
      for (let i = 0; i < n; i++) {
        const nl = r.varint();
        const name = readUtf8(r.b, r.p, nl);
        r.p += nl;
        const ht = r.b[r.p++]!;
        const prev = Object.hasOwn(headers, name) ? headers[name] : undefined;
        if (ht === HEADER_EMPTY_ARRAY) { putHeader(headers, name, []); continue; }
        const hv = readField(r, ht & 3) as HeaderValue;
        if (prev === undefined) putHeader(headers, name, ht & HEADER_ARRAY_ITEM ? [hv] : hv);
        else if (Array.isArray(prev)) prev.push(hv);
        else putHeader(headers, name, [prev, hv]);
      }
    }
    r.p = recEnd;
    if (ts !== tsOf) tsText = String(tsOf = ts);
    const m: KafkaMessage = { key, value, headers, timestamp: appendTime ?? tsText, offset: String(offset), attributes: 0, size: len };
    out.push(m);
    if (vt === FieldType.Json) pending.push(m);
    last = offset;
    taken++;
  }
  if (json) {
    json[blank] = 0x5d; // ']' right after the last value
    const values = JSON.parse(readUtf8(json, 0, blank + 1)) as JsonValue[];
    pending.forEach((m, i) => { m.value = values[i]!; });
  }
  return last;
}

/** Re-encodes the kept records of a payload (from scanRecords, ./record-scan.ts) with skips that keep their offsets. */
export function rebuildPayload(payload: Uint8Array, baseOffset: number, kept: readonly RecordView[]): Uint8Array {
  pos = 0;
  let prev = baseOffset - 1;
  for (const k of kept) {
    const restLen = k.restEnd - k.restStart;
    const skip = k.offset - prev - 1;
    const len = 1 + varintSize(skip) + restLen;
    ensure(len + 5);
    writeVarint(len);
    scratch[pos++] = k.attrs;
    writeVarint(skip);
    scratch.set(payload.subarray(k.restStart, k.restEnd), pos);
    pos += restLen;
    prev = k.offset;
  }
  return scratch.slice(0, pos);
}

/** CRC-32C of a payload. */
export function payloadCrc(payload: Uint8Array): number {
  return crc32c(payload);
}
