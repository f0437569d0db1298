/**
 * Stored batches -> the records route's JSON (`RecordsResponse`) [pure apart from Buffer].
 * Key and value are strings when they are UTF-8 text (JSON values as their JSON text), else
 * base64 with `keyEncoding` / `valueEncoding: 'base64'`; binary header values are `{ base64 }`.
 *
 * Invariants: records come out in offset order, none below `offset`, at most `limit`;
 * `nextOffset` is one past the last record given (or `offset` when none).
 */
import { FieldType, HEADER_ARRAY_ITEM, HEADER_EMPTY_ARRAY } from '../protocol/record-batch.js';
import type { JsonHeaderValue, JsonRecord, RecordsResponse, ReplicaBatch } from '../protocol/replica-wire.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(b: Uint8Array, s: number, l: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, l).toString('utf8');
}

/** UTF-8 text when the bytes are valid UTF-8, else null. */
function maybeText(b: Uint8Array, s: number, l: number): string | null {
  try { return utf8.decode(b.subarray(s, s + l)); } catch { return null; }
}

function b64(b: Uint8Array, s: number, l: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, l).toString('base64');
}

function varint(b: Uint8Array, r: { p: number }): number {
  let x = b[r.p++]!;
  if (x < 128) return x;
  let result = x & 127, mul = 128;
  for (;;) {
    x = b[r.p++]!;
    result += (x & 127) * mul;
    if (x < 128) return result;
    mul *= 128;
  }
}

/** Converts stored batches (payloads with skips 0, as the store keeps them) to the route's JSON. */
export function batchesToJson(batches: readonly ReplicaBatch[], offset: number, limit: number): RecordsResponse {
  const records: JsonRecord[] = [];
  let next = offset;
  outer: for (const batch of batches) {
    const b = batch.payload;
    const r = { p: 0 };
    let off = batch.baseOffset - 1;
    while (r.p < b.length) {
      if (records.length >= limit) break outer;
      const len = varint(b, r);
      const end = r.p + len;
      const attrs = b[r.p++]!;
      off += 1 + varint(b, r);
      if (off < offset) { r.p = end; continue; }
      const ts = varint(b, r);
      // A null-prototype object, so a header named "__proto__" stays data.
      const rec: JsonRecord = { offset: String(off), key: null, value: null, headers: Object.create(null) as JsonRecord['headers'], timestamp: String(ts) };
      const kt = attrs & 3, vt = (attrs >> 2) & 3;
      if (kt !== FieldType.Null) {
        const l = varint(b, r);
        const t = kt === FieldType.String ? text(b, r.p, l) : maybeText(b, r.p, l);
        if (t === null) { rec.key = b64(b, r.p, l); rec.keyEncoding = 'base64'; } else rec.key = t;
        r.p += l;
      }
      if (vt !== FieldType.Null) {
        const l = varint(b, r);
        const t = vt === FieldType.Bytes ? maybeText(b, r.p, l) : text(b, r.p, l);
        if (t === null) { rec.value = b64(b, r.p, l); rec.valueEncoding = 'base64'; } else rec.value = t;
        r.p += l;
      }
      if (attrs & 16) {
        const n = varint(b, r);
        for (let i = 0; i < n; i++) {
          const nl = varint(b, r);
          const name = text(b, r.p, nl);
          r.p += nl;
          const ht = b[r.p++]!;
          if (ht === HEADER_EMPTY_ARRAY) { rec.headers[name] = []; continue; }
          const vl = varint(b, r);
          const t = (ht & 3) === FieldType.String ? text(b, r.p, vl) : maybeText(b, r.p, vl);
          const hv: JsonHeaderValue = t === null ? { base64: b64(b, r.p, vl) } : t;
          r.p += vl;
          const prev = rec.headers[name];
          rec.headers[name] = prev === undefined ? (ht & HEADER_ARRAY_ITEM ? [hv] : hv) : Array.isArray(prev) ? [...prev, hv] : [prev, hv];
        }
      }
      r.p = end;
      records.push(rec);
      next = off + 1;
    }
  }
  return { records, nextOffset: String(next) };
}
