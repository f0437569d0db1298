/**
 * A small interpreter of Kafka's message schemas [pure]: decodes and encodes any message of
 * ./messages.ts at any of its versions, including flexible versions (compact lengths, tagged
 * fields), the same way Kafka's generated message classes do.
 *
 * Invariants:
 * - A field exists in a version iff the version is inside `v`; outside it the decoder sets its
 *   default and the encoder writes nothing.
 * - In flexible versions every struct ends with a tagged-field section; fields with `tag` are
 *   written there only when they differ from their default, unknown tags are skipped.
 * - Decoding never reads past the frame (see Reader) and refuses arrays whose announced length
 *   cannot fit in the bytes left, so a lying length cannot allocate gigabytes.
 */
import { KafkaDecodeError, Reader, Writer } from './wire.js';

/** An inclusive version range. */
export type Versions = readonly [number, number];

/** One field of a message schema. */
export interface FieldSpec {
  /** Name, camelCase. */
  n: string;
  /** Type: a primitive, 'records', '[]<type>' or a struct name (with `f`). */
  t: string;
  /** Versions the field exists in. */
  v: Versions;
  /** Versions it may be null in. */
  nv?: Versions;
  /** Tag in flexible versions (a tagged field). */
  tag?: number;
  /** Versions the field is tagged in. */
  tv?: Versions;
  /** Default value. */
  d?: unknown;
  /** Fields of a struct or struct array. */
  f?: FieldSpec[];
}

/** A request or response schema. */
export interface MessageSpec {
  apiKey: number;
  /** Versions this listener speaks. */
  versions: Versions;
  /** Flexible versions, or null. */
  flexible: Versions | null;
  fields: FieldSpec[];
}

/** A decoded message: plain data keyed by field name. */
export type Msg = { [field: string]: any };

const inRange = (r: Versions | undefined, v: number): boolean => r !== undefined && v >= r[0] && v <= r[1];

/** True when `version` of the message uses the flexible encoding. */
export function isFlexible(spec: MessageSpec, version: number): boolean {
  return spec.flexible !== null && inRange(spec.flexible, version);
}

function defaultOf(f: FieldSpec): unknown {
  if (f.d !== undefined) return f.d;
  const t = f.t;
  if (t.startsWith('[]')) return [];
  switch (t) {
    case 'bool': return false;
    case 'int8': case 'int16': case 'uint16': case 'int32': case 'int64': case 'float64': return 0;
    case 'string': return '';
    case 'bytes': return new Uint8Array(0);
    case 'records': return null;
    case 'uuid': return '00000000000000000000000000000000';
    default: return f.f ? decodeDefaults(f.f) : null;
  }
}

function decodeDefaults(fields: FieldSpec[]): Msg {
  const out: Msg = {};
  for (const f of fields) out[f.n] = defaultOf(f);
  return out;
}

// ---- decoding -------------------------------------------------------------------------------

/** Decodes one message body of `spec` at `version` from `r`. */
export function decodeMessage(spec: MessageSpec, version: number, r: Reader): Msg {
  return decodeStruct(spec.fields, r, version, isFlexible(spec, version));
}

function decodeStruct(fields: FieldSpec[], r: Reader, version: number, flexible: boolean): Msg {
  const out: Msg = {};
  for (const f of fields) {
    if (!inRange(f.v, version) || (flexible && f.tag !== undefined && inRange(f.tv, version))) {
      out[f.n] = defaultOf(f);
      continue;
    }
    out[f.n] = decodeField(f, r, version, flexible);
  }
  if (flexible) {
    const count = r.uvarint();
    for (let i = 0; i < count; i++) {
      const tag = r.uvarint();
      const size = r.uvarint();
      const end = r.pos + size;
      if (end > r.end) throw new KafkaDecodeError(`tagged field ${tag} overruns the frame`);
      const f = fields.find((x) => x.tag === tag && inRange(x.tv, version));
      if (f) {
        const sub = new Reader(r.buf, r.pos, end);
        out[f.n] = decodeField(f, sub, version, flexible);
      }
      r.pos = end;
    }
  }
  return out;
}

function arrayLength(r: Reader, flexible: boolean, nullable: boolean, name: string): number | null {
  const n = flexible ? r.uvarint() - 1 : r.int32();
  if (n === -1) {
    if (!nullable) throw new KafkaDecodeError(`${name} must not be null`);
    return null;
  }
  if (n < 0) throw new KafkaDecodeError(`${name}: negative array length ${n}`);
  if (n > r.remaining) throw new KafkaDecodeError(`${name}: array of ${n} elements cannot fit in ${r.remaining} bytes`);
  return n;
}

function decodeField(f: FieldSpec, r: Reader, version: number, flexible: boolean): unknown {
  const nullable = inRange(f.nv, version);
  if (f.t.startsWith('[]')) {
    const n = arrayLength(r, flexible, nullable, f.n);
    if (n === null) return null;
    const elem = f.t.slice(2);
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = f.f ? decodeStruct(f.f, r, version, flexible) : decodePrimitive(elem, r, flexible, false, f.n);
    }
    return out;
  }
  if (f.f) {
    if (nullable && r.int8() < 0) return null;
    return decodeStruct(f.f, r, version, flexible);
  }
  return decodePrimitive(f.t, r, flexible, nullable, f.n);
}

function decodePrimitive(t: string, r: Reader, flexible: boolean, nullable: boolean, name: string): unknown {
  switch (t) {
    case 'bool': return r.bool();
    case 'int8': return r.int8();
    case 'int16': return r.int16();
    case 'uint16': return r.uint16();
    case 'int32': return r.int32();
    case 'int64': return r.int64();
    case 'float64': return r.float64();
    case 'uuid': return r.uuid();
    case 'string': {
      const s = flexible ? r.compactString() : r.string();
      if (s === null && !nullable) throw new KafkaDecodeError(`${name} must not be null`);
      return s;
    }
    case 'bytes': case 'records': {
      const b = flexible ? r.compactBytes() : r.bytes();
      if (b === null && !nullable && t === 'bytes') throw new KafkaDecodeError(`${name} must not be null`);
      return b;
    }
    default: throw new KafkaDecodeError(`unknown type ${t} of ${name}`);
  }
}

// ---- encoding -------------------------------------------------------------------------------

/** Encodes `msg` as the body of `spec` at `version` into `w`. Missing fields take their default. */
export function encodeMessage(spec: MessageSpec, version: number, msg: Msg, w: Writer): void {
  encodeStruct(spec.fields, msg, w, version, isFlexible(spec, version));
}

function encodeStruct(fields: FieldSpec[], msg: Msg, w: Writer, version: number, flexible: boolean): void {
  let tagged: FieldSpec[] | null = null;
  for (const f of fields) {
    if (!inRange(f.v, version)) continue;
    if (flexible && f.tag !== undefined && inRange(f.tv, version)) {
      const value = msg[f.n];
      if (value !== undefined && value !== null && value !== f.d) (tagged ??= []).push(f);
      continue;
    }
    encodeField(f, msg[f.n] === undefined ? defaultOf(f) : msg[f.n], w, version, flexible);
  }
  if (flexible) {
    if (!tagged) {
      w.uvarint(0);
      return;
    }
    tagged.sort((a, b) => a.tag! - b.tag!);
    w.uvarint(tagged.length);
    for (const f of tagged) {
      const sub = new Writer(64);
      encodeField(f, msg[f.n], sub, version, flexible);
      const bytes = sub.finish();
      w.uvarint(f.tag!).uvarint(bytes.length).raw(bytes);
    }
  }
}

function encodeField(f: FieldSpec, value: any, w: Writer, version: number, flexible: boolean): void {
  if (f.t.startsWith('[]')) {
    if (value === null) {
      if (flexible) w.uvarint(0);
      else w.int32(-1);
      return;
    }
    const list = value as unknown[];
    if (flexible) w.uvarint(list.length + 1);
    else w.int32(list.length);
    const elem = f.t.slice(2);
    for (const item of list) {
      if (f.f) encodeStruct(f.f, item as Msg, w, version, flexible);
      else encodePrimitive(elem, item, w, flexible);
    }
    return;
  }
  if (f.f) {
    if (inRange(f.nv, version)) {
      if (value === null) { w.int8(-1); return; }
      w.int8(1);
    }
    encodeStruct(f.f, (value ?? {}) as Msg, w, version, flexible);
    return;
  }
  encodePrimitive(f.t, value, w, flexible);
}

function encodePrimitive(t: string, value: any, w: Writer, flexible: boolean): void {
  switch (t) {
    case 'bool': w.bool(Boolean(value)); return;
    case 'int8': w.int8(value); return;
    case 'int16': w.int16(value); return;
    case 'uint16': w.uint16(value); return;
    case 'int32': w.int32(value); return;
    case 'int64': w.int64(value); return;
    case 'float64': w.float64(value); return;
    case 'uuid': w.uuid(value ?? ''); return;
    case 'string': if (flexible) w.compactString(value); else w.string(value); return;
    case 'bytes': case 'records': if (flexible) w.compactBytes(value); else w.bytes(value); return;
    default: throw new Error(`unknown type ${t}`);
  }
}
