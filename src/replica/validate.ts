/**
 * Checks a pushed batch before anything is stored [pure]: CRC-32C, then every record of the
 * payload parsed strictly within its bounds, against the server's limits. Returns the batch
 * as the store appends it (dense payload with offset skips 0, timestamps taken from the
 * records, CRC recomputed when the payload was rewritten).
 *
 * Invariants:
 * - Never throws anything but a LanesError subclass naming the field (`batches[2].records[7].key`),
 *   whatever the bytes: no RangeError, no undefined reads past the payload.
 * - Accepts exactly what `encodeRecords` (and the log's cleaner) can produce: key types null,
 *   string, bytes; value types null, string, bytes, JSON (valid JSON text); header values
 *   string or bytes; strings valid UTF-8.
 * - The batch's `count` must equal the records present.
 */
import { CorruptRecordError, InvalidRecordError, RecordTooLargeError } from '../errors.js';
import { crc32c } from '../protocol/crc32c.js';
import { FieldType, HEADER_ARRAY_ITEM, HEADER_EMPTY_ARRAY } from '../protocol/record-batch.js';
import type { PushBatch } from '../protocol/replica-wire.js';
import { isValidJson, isValidUtf8 } from './json-check.js';

/** Server limits on what one batch may hold. */
export interface RecordLimits {
  /** Records per batch. */
  maxRecordsPerBatch: number;
  /** Bytes of one key. */
  maxKeyBytes: number;
  /** Headers per record. */
  maxHeaders: number;
  /** Bytes of one header (name + value). */
  maxHeaderBytes: number;
  /** Bytes of one record (its whole encoding). */
  maxRecordBytes: number;
}

/** Defaults: 10,000 records per batch, 4 KiB keys, 64 headers of at most 8 KiB, 1 MiB records. */
export const DEFAULT_RECORD_LIMITS: RecordLimits = {
  maxRecordsPerBatch: 10_000,
  maxKeyBytes: 4096,
  maxHeaders: 64,
  maxHeaderBytes: 8192,
  maxRecordBytes: 1 << 20,
};

/** A batch ready for the store. */
export interface CheckedBatch {
  count: number;
  firstTimestamp: number;
  maxTimestamp: number;
  crc: number;
  payload: Uint8Array;
}

/** A bounds-checked reader over one record; the field name is built only when an error needs it. */
class Cursor {
  p = 0;
  end = 0;
  n = 0;
  /** Start and length of the last span read. */
  s = 0;
  l = 0;
  constructor(readonly b: Uint8Array, readonly batchField: string) {}
  get field(): string { return `${this.batchField}.records[${this.n}]`; }
  fail(what: string): never {
    throw new InvalidRecordError(`${this.field} is malformed: ${what}`, { details: { field: this.field } });
  }
  varint(what: string): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.p >= this.end) this.fail(`truncated ${what}`);
      const x = this.b[this.p++]!;
      result += (x & 127) * mul;
      if (x < 128) {
        if (!Number.isSafeInteger(result)) this.fail(`${what} out of range`);
        return result;
      }
      mul *= 128;
    }
    return this.fail(`${what} is longer than 8 bytes`);
  }
  u8(what: string): number {
    if (this.p >= this.end) this.fail(`truncated ${what}`);
    return this.b[this.p++]!;
  }
  /** Skips a length-prefixed field, leaving its start and length in `s` and `l`. */
  span(what: string): void {
    const len = this.varint(`${what} length`);
    if (len > this.end - this.p) this.fail(`${what} runs past the record`);
    this.s = this.p;
    this.l = len;
    this.p += len;
  }
}

function checkText(b: Uint8Array, s: number, len: number, c: Cursor, sub: string, json: boolean): void {
  if (!isValidUtf8(b, s, len)) throw new InvalidRecordError(`${c.field}${sub} is not valid UTF-8`, { details: { field: `${c.field}${sub}` } });
  if (json && !isValidJson(b, s, s + len)) {
    throw new InvalidRecordError(`${c.field}${sub} is typed JSON but is not valid JSON text`, { details: { field: `${c.field}${sub}` } });
  }
}

/**
 * Verifies and normalizes one pushed batch. `field` names it in errors (`batches[3]`).
 * Throws CorruptRecordError for a CRC mismatch, InvalidRecordError for a malformed record or a
 * count that does not match, RecordTooLargeError for a limit exceeded.
 */
export function checkBatch(batch: PushBatch, limits: RecordLimits, field: string): CheckedBatch {
  const { payload } = batch;
  if (crc32c(payload) !== batch.crc) {
    throw new CorruptRecordError(`${field} fails its CRC-32C check (payload damaged in transit or at rest)`, { details: { field: `${field}.crc` } });
  }
  if (batch.count > limits.maxRecordsPerBatch) {
    throw new RecordTooLargeError(`${field} has ${batch.count} records; at most ${limits.maxRecordsPerBatch} per batch`, { details: { field: `${field}.count` } });
  }
  let n = 0;
  let first = Infinity;
  let max = -1;
  let dense = true;
  let p = 0;
  // Start of each record's fields after the offset skip, and its end, for a rewrite.
  const rests: number[] = [];
  const attrsOf: number[] = [];
  const c = new Cursor(payload, field);
  while (p < payload.length) {
    c.n = n;
    if (n >= limits.maxRecordsPerBatch) throw new RecordTooLargeError(`${field} has more than ${limits.maxRecordsPerBatch} records`, { details: { field: `${field}.count` } });
    c.p = p;
    c.end = payload.length;
    const len = c.varint('record length');
    if (len > payload.length - c.p) c.fail('record runs past the payload');
    if (len > limits.maxRecordBytes) throw new RecordTooLargeError(`${c.field} is ${len} bytes; at most ${limits.maxRecordBytes}`, { details: { field: c.field } });
    const end = c.p + len;
    c.end = end;
    const attrs = c.u8('attributes');
    if (attrs & ~31) c.fail(`unknown attribute bits 0x${attrs.toString(16)}`);
    const kt = attrs & 3, vt = (attrs >> 2) & 3;
    if (kt === FieldType.Json) c.fail('key type JSON is not allowed');
    const skip = c.varint('offset skip');
    if (skip !== 0) dense = false;
    const restStart = c.p;
    const ts = c.varint('timestamp');
    if (ts < first) first = ts;
    if (ts > max) max = ts;
    if (kt !== FieldType.Null) {
      c.span('key');
      if (c.l > limits.maxKeyBytes) throw new RecordTooLargeError(`${c.field}.key is ${c.l} bytes; at most ${limits.maxKeyBytes}`, { details: { field: `${c.field}.key` } });
      if (kt === FieldType.String) checkText(payload, c.s, c.l, c, '.key', false);
    }
    if (vt !== FieldType.Null) {
      c.span('value');
      if (vt !== FieldType.Bytes) checkText(payload, c.s, c.l, c, '.value', vt === FieldType.Json);
    }
    if (attrs & 16) {
      const h = c.varint('header count');
      if (h > limits.maxHeaders) throw new RecordTooLargeError(`${c.field}.headers has ${h} headers; at most ${limits.maxHeaders}`, { details: { field: `${c.field}.headers` } });
      for (let i = 0; i < h; i++) {
        c.span('header name');
        const nl = c.l;
        checkText(payload, c.s, c.l, c, `.headers[${i}].name`, false);
        const ht = c.u8('header type');
        const vt = ht & ~HEADER_ARRAY_ITEM;
        if (ht === HEADER_EMPTY_ARRAY) c.l = 0;
        else if (vt !== FieldType.String && vt !== FieldType.Bytes) c.fail(`header type ${ht} (string or bytes, an item of an array of them, or an empty array expected)`);
        else c.span('header value');
        if (nl + c.l > limits.maxHeaderBytes) throw new RecordTooLargeError(`${c.field}.headers[${i}] is ${nl + c.l} bytes; at most ${limits.maxHeaderBytes}`, { details: { field: `${c.field}.headers[${i}]` } });
        if (vt === FieldType.String) checkText(payload, c.s, c.l, c, `.headers[${i}].value`, false);
      }
    }
    if (c.p !== end) c.fail(`${end - c.p} unread bytes at the end of the record`);
    rests.push(restStart, end);
    attrsOf.push(attrs);
    n++;
    p = end;
  }
  if (n !== batch.count) {
    throw new InvalidRecordError(`${field}.count says ${batch.count} records; the payload holds ${n}`, { details: { field: `${field}.count` } });
  }
  if (dense) return { count: n, firstTimestamp: n ? first : batch.firstTimestamp, maxTimestamp: n ? max : batch.maxTimestamp, crc: batch.crc, payload };
  // Compacted on the device: give the records consecutive replica offsets (skip 0).
  let size = 0;
  for (let i = 0; i < n; i++) {
    const body = 2 + rests[2 * i + 1]! - rests[2 * i]!;
    size += varintSize(body) + body;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const s = rests[2 * i]!, e = rests[2 * i + 1]!;
    const body = 2 + e - s;
    o = putVarint(out, o, body);
    out[o++] = attrsOf[i]!;
    out[o++] = 0;
    out.set(payload.subarray(s, e), o);
    o += e - s;
  }
  return { count: n, firstTimestamp: first, maxTimestamp: max, crc: crc32c(out), payload: out };
}

function varintSize(n: number): number {
  let s = 1;
  while (n >= 128) { n = Math.floor(n / 128); s++; }
  return s;
}

function putVarint(b: Uint8Array, o: number, n: number): number {
  while (n >= 128) { b[o++] = (n % 128) | 128; n = Math.floor(n / 128); }
  b[o++] = n;
  return o;
}
