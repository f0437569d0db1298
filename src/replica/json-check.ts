/**
 * Byte-level checks for pushed record fields [pure]: UTF-8 validity with an ASCII fast path,
 * and JSON text syntax (RFC 8259) without building values, so ingest does not pay for
 * TextDecoder and JSON.parse on every record.
 *
 * Invariants: `isValidJson(b, s, e)` is true exactly when `JSON.parse` of the UTF-8 text of
 * b[s, e) succeeds (UTF-8 itself is checked separately); nesting deeper than 512 is refused.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** True when b[s, s + len) is valid UTF-8. */
export function isValidUtf8(b: Uint8Array, s: number, len: number): boolean {
  const e = s + len;
  let i = s;
  while (i < e && b[i]! < 0x80) i++;
  if (i === e) return true;
  try { utf8.decode(b.subarray(i, e)); return true; } catch { return false; }
}

const WS = new Uint8Array(256);
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1;

/** True when b[s, e) is one JSON value (with optional surrounding whitespace). */
export function isValidJson(b: Uint8Array, s: number, e: number): boolean {
  let p = s;
  const ws = () => { while (p < e && WS[b[p]!]) p++; };
  const lit = (word: string) => {
    if (p + word.length > e) return false;
    for (let k = 0; k < word.length; k++) if (b[p + k] !== word.charCodeAt(k)) return false;
    p += word.length;
    return true;
  };
  const str = () => {
    p++; // opening quote
    while (p < e) {
      const c = b[p++]!;
      if (c === 0x22) return true;
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const x = b[p++];
        if (x === 0x75) {
          for (let k = 0; k < 4; k++) {
            const h = b[p++];
            if (h === undefined || !((h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66))) return false;
          }
        } else if (x === undefined || '"\\/bfnrt'.indexOf(String.fromCharCode(x)) < 0) return false;
      }
    }
    return false;
  };
  const digits = () => { const st = p; while (p < e && b[p]! >= 0x30 && b[p]! <= 0x39) p++; return p > st; };
  const num = () => {
    if (b[p] === 0x2d) p++;
    if (b[p] === 0x30) p++;
    else if (!digits()) return false;
    if (b[p] === 0x2e) { p++; if (!digits()) return false; }
    if (b[p] === 0x65 || b[p] === 0x45) { p++; if (b[p] === 0x2b || b[p] === 0x2d) p++; if (!digits()) return false; }
    return true;
  };
  const value = (depth: number): boolean => {
    if (depth > 512) return false;
    ws();
    if (p >= e) return false;
    const c = b[p]!;
    if (c === 0x22) return str();
    if (c === 0x7b) {
      p++; ws();
      if (b[p] === 0x7d) { p++; return true; }
      for (;;) {
        ws();
        if (b[p] !== 0x22 || !str()) return false;
        ws();
        if (b[p++] !== 0x3a) return false;
        if (!value(depth + 1)) return false;
        ws();
        const n = b[p++];
        if (n === 0x7d) return true;
        if (n !== 0x2c) return false;
      }
    }
    if (c === 0x5b) {
      p++; ws();
      if (b[p] === 0x5d) { p++; return true; }
      for (;;) {
        if (!value(depth + 1)) return false;
        ws();
        const n = b[p++];
        if (n === 0x5d) return true;
        if (n !== 0x2c) return false;
      }
    }
    if (c === 0x74) return lit('true');
    if (c === 0x66) return lit('false');
    if (c === 0x6e) return lit('null');
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return num();
    return false;
  };
  if (!value(0)) return false;
  ws();
  return p === e;
}
