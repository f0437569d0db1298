/**
 * Kafka's primitive wire types [pure]: big-endian fixed-width integers, zig-zag varints and
 * varlongs, unsigned varints (flexible versions' lengths), strings, bytes, UUIDs.
 *
 * Invariants:
 * - A Reader never reads past its end: every read checks the remaining length first and throws
 *   {@link KafkaDecodeError} naming what it was reading, so a truncated or lying frame fails
 *   cleanly instead of yielding garbage or a RangeError.
 * - int64 values are JavaScript numbers: Kafka offsets, timestamps and producer ids stay far
 *   below 2^53 here; a value outside the safe range is refused, never rounded.
 * - A Writer grows by doubling; `finish()` returns a view of exactly what was written.
 */

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

/** A request or record that does not parse: truncated, a negative length, bad UTF-8, ... */
export class KafkaDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaDecodeError';
  }
}

/** Reads Kafka primitives from a byte array. */
export class Reader {
  /** Current position. */
  pos: number;
  private readonly view: DataView;

  /** Reads `buf` from `start` to `end`. */
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Bytes left. */
  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new KafkaDecodeError(`truncated: ${what} needs ${n} byte(s), ${this.end - this.pos} left at position ${this.pos}`);
    }
  }

  /** int8 */
  int8(): number { this.need(1, 'int8'); return this.view.getInt8(this.pos++); }
  /** boolean (int8, non-zero is true) */
  bool(): boolean { return this.int8() !== 0; }
  /** int16 */
  int16(): number { this.need(2, 'int16'); const v = this.view.getInt16(this.pos); this.pos += 2; return v; }
  /** uint16 */
  uint16(): number { this.need(2, 'uint16'); const v = this.view.getUint16(this.pos); this.pos += 2; return v; }
  /** int32 */
  int32(): number { this.need(4, 'int32'); const v = this.view.getInt32(this.pos); this.pos += 4; return v; }
  /** uint32 */
  uint32(): number { this.need(4, 'uint32'); const v = this.view.getUint32(this.pos); this.pos += 4; return v; }
  /** int64 as a number; refuses values outside the safe integer range. */
  int64(): number {
    this.need(8, 'int64');
    const hi = this.view.getInt32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    const v = hi * 4294967296 + lo;
    if (!Number.isSafeInteger(v)) throw new KafkaDecodeError(`int64 ${hi}:${lo} is outside the supported range`);
    return v;
  }
  /** float64 */
  float64(): number { this.need(8, 'float64'); const v = this.view.getFloat64(this.pos); this.pos += 8; return v; }

  /** Unsigned LEB128 varint (at most 5 bytes, 32 bits). */
  uvarint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      this.need(1, 'varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new KafkaDecodeError('varint exceeds 32 bits');
        return result;
      }
    }
    throw new KafkaDecodeError('varint longer than 5 bytes');
  }
  /** Zig-zag varint (int32). */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  /** Zig-zag varlong (int64, within the safe integer range). */
  varlong(): number {
    let u = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      this.need(1, 'varlong');
      const b = this.buf[this.pos++]!;
      u += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (u > Number.MAX_SAFE_INTEGER * 2) throw new KafkaDecodeError('varlong outside the supported range');
        return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      }
    }
    throw new KafkaDecodeError('varlong longer than 10 bytes');
  }

  /** `n` raw bytes (a view, not a copy). */
  raw(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** UTF-8 text of `n` bytes. */
  utf8(n: number): string {
    const bytes = this.raw(n, 'string');
    try {
      return textDecoder.decode(bytes);
    } catch {
      throw new KafkaDecodeError('string is not valid UTF-8');
    }
  }

  /** int16-length string; null for length -1. */
  string(): string | null {
    const n = this.int16();
    if (n === -1) return null;
    if (n < 0) throw new KafkaDecodeError(`negative string length ${n}`);
    return this.utf8(n);
  }
  /** uvarint(length + 1) string; null for 0. */
  compactString(): string | null {
    const n = this.uvarint() - 1;
    return n === -1 ? null : this.utf8(n);
  }
  /** int32-length bytes; null for -1. */
  bytes(): Uint8Array | null {
    const n = this.int32();
    if (n === -1) return null;
    if (n < 0) throw new KafkaDecodeError(`negative bytes length ${n}`);
    return this.raw(n);
  }
  /** uvarint(length + 1) bytes; null for 0. */
  compactBytes(): Uint8Array | null {
    const n = this.uvarint() - 1;
    return n === -1 ? null : this.raw(n);
  }
  /** 16-byte UUID as 32 hex digits. */
  uuid(): string {
    return Buffer.from(this.raw(16, 'uuid')).toString('hex');
  }
}

/** Writes Kafka primitives into a growing buffer. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  /** Bytes written so far. */
  pos = 0;

  /** A writer with `initial` bytes of room. */
  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** int8 */
  int8(v: number): this { this.ensure(1); this.view.setInt8(this.pos, v); this.pos += 1; return this; }
  /** boolean */
  bool(v: boolean): this { return this.int8(v ? 1 : 0); }
  /** int16 */
  int16(v: number): this { this.ensure(2); this.view.setInt16(this.pos, v); this.pos += 2; return this; }
  /** uint16 */
  uint16(v: number): this { this.ensure(2); this.view.setUint16(this.pos, v); this.pos += 2; return this; }
  /** int32 */
  int32(v: number): this { this.ensure(4); this.view.setInt32(this.pos, v); this.pos += 4; return this; }
  /** uint32 */
  uint32(v: number): this { this.ensure(4); this.view.setUint32(this.pos, v >>> 0); this.pos += 4; return this; }
  /** int64 from a safe integer. */
  int64(v: number): this {
    this.ensure(8);
    const hi = Math.floor(v / 4294967296);
    this.view.setInt32(this.pos, hi);
    this.view.setUint32(this.pos + 4, v - hi * 4294967296);
    this.pos += 8;
    return this;
  }
  /** float64 */
  float64(v: number): this { this.ensure(8); this.view.setFloat64(this.pos, v); this.pos += 8; return this; }
  /** Unsigned varint. */
  uvarint(v: number): this {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
    return this;
  }
  /** Zig-zag varint / varlong (any safe integer). */
  varint(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  /** Raw bytes. */
  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  /** Copies `len` bytes of `src` from `start` (a byte loop for short runs, faster than a view). */
  copy(src: Uint8Array, start: number, len: number): this {
    this.ensure(len);
    if (len < 32) {
      const b = this.buf;
      let o = this.pos;
      for (let k = start, e = start + len; k < e; k++) b[o++] = src[k]!;
    } else {
      this.buf.set(src.subarray(start, start + len), this.pos);
    }
    this.pos += len;
    return this;
  }
  /** int16-length string (null as -1). */
  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const b = textEncoder.encode(s);
    return this.int16(b.length).raw(b);
  }
  /** Compact string (null as 0). */
  compactString(s: string | null): this {
    if (s === null) return this.uvarint(0);
    const b = textEncoder.encode(s);
    return this.uvarint(b.length + 1).raw(b);
  }
  /** int32-length bytes (null as -1). */
  bytes(b: Uint8Array | null): this {
    if (b === null) return this.int32(-1);
    return this.int32(b.length).raw(b);
  }
  /** Compact bytes (null as 0). */
  compactBytes(b: Uint8Array | null): this {
    if (b === null) return this.uvarint(0);
    return this.uvarint(b.length + 1).raw(b);
  }
  /** UUID from 32 hex digits (all zero when empty). */
  uuid(hex: string): this {
    const b = Buffer.from(hex.padStart(32, '0').slice(0, 32), 'hex');
    return this.raw(b.length === 16 ? b : new Uint8Array(16));
  }
  /** Overwrites an int32 at `at` (sizes and CRCs written after their content). */
  setInt32(at: number, v: number): void { this.view.setInt32(at, v); }
  /** Overwrites a uint32 at `at`. */
  setUint32(at: number, v: number): void { this.view.setUint32(at, v >>> 0); }
  /** The bytes written between `start` and `end` (a view). */
  slice(start: number, end = this.pos): Uint8Array { return this.buf.subarray(start, end); }
  /** Everything written (a view of the internal buffer). */
  finish(): Uint8Array { return this.buf.subarray(0, this.pos); }
}
