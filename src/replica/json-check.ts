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

// The scanner's state: module-level, so a check allocates nothing (it runs once per record).
let B: Uint8Array = new Uint8Array(0);
let P = 0;
let E = 0;

function ws(): void { while (P < E && WS[B[P]!]) P++; }

function lit(word: string): boolean {
  if (P + word.length > E) return false;
  for (let k = 0; k < word.length; k++) if (B[P + k] !== word.charCodeAt(k)) return false;
  P += word.length;
  return true;
}

function isHex(h: number | undefined): boolean {
  return h !== undefined && ((h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66));
}

/** Escapes allowed after a backslash: " \ / b f n r t (u is handled apart). */
const ESC = new Uint8Array(256);
for (const c of '"\\/bfnrt') ESC[c.charCodeAt(0)] = 1;

function str(): boolean {
  P++; // opening quote
  while (P < E) {
    const c = B[P++]!;
    if (c === 0x22) return true;
    if (c < 0x20) return false;
    if (c === 0x5c) {
      const x = B[P++];
      if (x === 0x75) {
        if (!isHex(B[P]) || !isHex(B[P + 1]) || !isHex(B[P + 2]) || !isHex(B[P + 3])) return false;
        P += 4;
      } else if (x === undefined || !ESC[x]) return false;
    }
  }
  return false;
}

function digits(): boolean {
  const st = P;
  while (P < E && B[P]! >= 0x30 && B[P]! <= 0x39) P++;
  return P > st;
}

function num(): boolean {
  if (B[P] === 0x2d) P++;
  if (B[P] === 0x30) P++;
  else if (!digits()) return false;
  if (B[P] === 0x2e) { P++; if (!digits()) return false; }
  if (B[P] === 0x65 || B[P] === 0x45) { P++; if (B[P] === 0x2b || B[P] === 0x2d) P++; if (!digits()) return false; }
  return true;
}

function value(depth: number): boolean {
  if (depth > 512) return false;
  ws();
  if (P >= E) return false;
  const c = B[P]!;
  if (c === 0x22) return str();
  if (c === 0x7b) {
    P++; ws();
    if (B[P] === 0x7d) { P++; return true; }
    for (;;) {
      ws();
      if (B[P] !== 0x22 || !str()) return false;
      ws();
      if (B[P++] !== 0x3a) return false;
      if (!value(depth + 1)) return false;
      ws();
      const n = B[P++];
      if (n === 0x7d) return true;
      if (n !== 0x2c) return false;
    }
  }
  if (c === 0x5b) {
    P++; ws();
    if (B[P] === 0x5d) { P++; return true; }
    for (;;) {
      if (!value(depth + 1)) return false;
      ws();
      const n = B[P++];
      if (n === 0x5d) return true;
      if (n !== 0x2c) return false;
    }
  }
  if (c === 0x74) return lit('true');
  if (c === 0x66) return lit('false');
  if (c === 0x6e) return lit('null');
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return num();
  return false;
}

/**
 * True when b[s, e) is one JSON value (with optional surrounding whitespace). Reads past `e`
 * only as far as one byte of lookahead; any such overrun ends in `false` (the end must be exact).
 */
export function isValidJson(b: Uint8Array, s: number, e: number): boolean {
  B = b; P = s; E = e;
  const ok = value(0) && (ws(), P === E);
  B = EMPTY;
  return ok;
}

const EMPTY = new Uint8Array(0);
