import { describe, expect, it } from 'vitest';
import { maxUtf8Length, readUtf8, writeUtf8 } from '../../src/protocol/utf8.js';

const utf8Bytes = (s: string) => new TextEncoder().encode(s);

const enc = new TextEncoder();

function write(s: string, at = 3): Uint8Array {
  const buf = new Uint8Array(at + maxUtf8Length(s) + 4).fill(0xaa);
  const n = writeUtf8(s, buf, at);
  // Nothing is written before `at` or after the bytes it reports.
  expect(buf.subarray(0, at).every((b) => b === 0xaa)).toBe(true);
  expect(buf.subarray(at + n).every((b) => b === 0xaa)).toBe(true);
  return buf.slice(at, at + n);
}

const samples: [string, string][] = [
  ['empty', ''],
  ['ascii', 'hello, world'],
  ['two-byte', 'naïve café ß ø'],
  ['three-byte', '日本語のテキスト €'],
  ['surrogate pairs', '😀 𝄞 👩‍💻 🇫🇷'],
  ['boundary 47 ascii', 'a'.repeat(47)],
  ['boundary 48 ascii', 'b'.repeat(48)],
  ['boundary 49 ascii', 'c'.repeat(49)],
  ['48 units ending in a pair', 'x'.repeat(46) + '😀'],
  ['long mixed', 'Grüße aus Zürich 😀 — 東京 '.repeat(20)],
  ['control and nul', '\u0000\u0001\u007f\u0080\u07ff\u0800\uffff'],
];

describe('utf8', () => {
  for (const [name, s] of samples) {
    it(`writes ${name} exactly as TextEncoder and reads it back`, () => {
      const bytes = write(s);
      expect(Array.from(bytes)).toEqual(Array.from(enc.encode(s)));
      expect(readUtf8(bytes, 0, bytes.length)).toBe(s);
      expect(bytes.length).toBeLessThanOrEqual(maxUtf8Length(s));
      expect(Array.from(utf8Bytes(s))).toEqual(Array.from(bytes));
    });
  }

  it('writes lone surrogates as U+FFFD, like TextEncoder, in short and long strings', () => {
    for (const s of ['a\ud800b', '\udc00', 'x\ud83d', '\ud83d\ud83d\ude00', 'y'.repeat(60) + '\ud800']) {
      expect(Array.from(write(s)), JSON.stringify(s)).toEqual(Array.from(enc.encode(s)));
    }
  });

  it('reads from the middle of a buffer', () => {
    const a = enc.encode('ab');
    const b = enc.encode('größe 😀');
    const buf = new Uint8Array([...a, ...b, 0x41]);
    expect(readUtf8(buf, a.length, b.length)).toBe('größe 😀');
    expect(readUtf8(buf, 0, 2)).toBe('ab');
  });
});
