import { describe, expect, it } from 'vitest';
import { isValidJson, isValidUtf8 } from '../../src/replica/json-check.js';

const enc = new TextEncoder();
const json = (t: string) => { const b = enc.encode(t); return isValidJson(b, 0, b.length); };
const parses = (t: string) => { try { JSON.parse(t); return true; } catch { return false; } };

describe('byte-level JSON and UTF-8 checks', () => {
  it('agrees with JSON.parse on valid and invalid texts', () => {
    const cases = [
      '0', '-0', '1.5e10', '-12.25E-3', '"a\\u00e9\\n"', '"é"', 'true', 'false', 'null', '[]', '{}', ' [1, "x", {"a": [null]}] ',
      '{"id":1,"kind":"click","ok":true}', '', ' ', '01', '1.', '.5', '+1', '-', '1e', '"', '"\\x"', '"\\u12"', '[1,]', '{"a":1,}', '{"a"}',
      '{a:1}', 'tru', 'nul', '[1 2]', '{"a":1 "b":2}', '"tab\there"', '1 2', '[', ']', '{"a":[1,{"b":null}]}', 'NaN', 'Infinity', "'x'",
    ];
    for (const t of cases) expect(json(t), t).toBe(parses(t));
  });

  it('agrees with JSON.parse on random mutations of a record value', () => {
    let seed = 1;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    const base = '{"id":12,"kind":"click","path":"/p/42","at":1700000000000,"ok":true,"tags":["a","b"],"n":null,"f":-1.5e-3}';
    const alphabet = '{}[]":,0123456789-+.eEtrufalsn \\u';
    for (let i = 0; i < 20_000; i++) {
      const chars = base.split('');
      const n = 1 + rnd(3);
      for (let k = 0; k < n; k++) {
        const at = rnd(chars.length);
        const op = rnd(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, alphabet[rnd(alphabet.length)]!);
        else chars[at] = alphabet[rnd(alphabet.length)]!;
      }
      const t = chars.join('');
      expect(json(t), t).toBe(parses(t));
    }
  });

  it('UTF-8: ASCII, multibyte, and broken sequences', () => {
    expect(isValidUtf8(enc.encode('abc'), 0, 3)).toBe(true);
    const e = enc.encode('aé€😀');
    expect(isValidUtf8(e, 0, e.length)).toBe(true);
    expect(isValidUtf8(new Uint8Array([0x61, 0xc3]), 0, 2)).toBe(false);
    expect(isValidUtf8(new Uint8Array([0xff]), 0, 1)).toBe(false);
    expect(isValidUtf8(new Uint8Array([0xed, 0xa0, 0x80]), 0, 3)).toBe(false); // surrogate
  });
});
