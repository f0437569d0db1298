/**
 * A plain reference of the record layout in src/protocol/record-batch.ts, for tests that compare
 * the encoder's bytes with it: TextEncoder for text, one JSON.stringify per JSON value,
 * arithmetic varints, no reserved prefixes and no reuse between records. Headers are plain
 * `name: string | Uint8Array` entries (no arrays).
 */
import type { Message } from '../../src/types.js';

const te = new TextEncoder();

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) { out.push((n % 128) | 128); n = Math.floor(n / 128); }
  out.push(n);
  return out;
}
const field = (b: Uint8Array) => [...varint(b.length), ...b];
const typeOf = (v: unknown) => (v === null || v === undefined ? 0 : typeof v === 'string' ? 1 : v instanceof Uint8Array ? 2 : 3);
const bytesOf = (v: unknown) => (typeof v === 'string' ? te.encode(v) : v instanceof Uint8Array ? v : te.encode(JSON.stringify(v)));

/** The payload bytes `encodeRecords(messages, now)` must write. */
export function referencePayload(messages: Message[], now: number): number[] {
  const out: number[] = [];
  for (const m of messages) {
    const kt = typeOf(m.key);
    const vt = typeOf(m.value);
    const headers = m.headers ? Object.entries(m.headers) : undefined;
    const body: number[] = [kt | (vt << 2) | (headers ? 16 : 0), 0, ...varint(m.timestamp === undefined ? now : Number(m.timestamp))];
    if (kt) body.push(...field(bytesOf(m.key)));
    if (vt) body.push(...field(bytesOf(m.value)));
    if (headers) {
      body.push(...varint(headers.length));
      for (const [name, v] of headers) body.push(...field(te.encode(name)), typeOf(v), ...field(bytesOf(v)));
    }
    out.push(...varint(body.length), ...body);
  }
  return out;
}
