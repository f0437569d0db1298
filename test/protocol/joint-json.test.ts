// Firefox's path of the record encoder (src/protocol/joint-json.ts): a send's JSON values
// stringified with one call. The encoder loads it when the user agent is Firefox's; here the
// encoder module is imported afresh under such a user agent, and every payload is compared
// with the plain reference encoder (one JSON.stringify per value).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Message } from '../../src/types.js';
import { prng } from '../helpers/prng.js';
import { referencePayload } from '../helpers/record-reference.js';

const NOW = 1_700_000_000_000;
const FIREFOX_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0';

let encodeRecords: typeof import('../../src/protocol/record-batch.js').encodeRecords;
// From the same fresh module graph as the encoder.
let InvalidRecordError: typeof import('../../src/errors.js').InvalidRecordError;

/** How many times JSON.stringify ran for one encode, and whether its payload matches the reference. */
function encodeCounted(messages: Message[]): { calls: number; payload: number[] } {
  const spy = vi.spyOn(JSON, 'stringify');
  try {
    const payload = Array.from(encodeRecords(messages, NOW).payload);
    return { calls: spy.mock.calls.length, payload };
  } finally {
    spy.mockRestore();
  }
}

beforeAll(async () => {
  vi.stubGlobal('navigator', { userAgent: FIREFOX_UA });
  vi.resetModules();
  ({ encodeRecords } = await import('../../src/protocol/record-batch.js'));
  ({ InvalidRecordError } = await import('../../src/errors.js'));
  // The encoder loads the joint path on demand: wait until an encode of ASCII values takes it.
  const probe = Array.from({ length: 8 }, (_, i) => ({ value: { i } }));
  await vi.waitUntil(() => encodeCounted(probe).calls === 1);
});

afterAll(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe('encodeRecords in Firefox: one JSON.stringify per send', () => {
  const rand = prng(13);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  // ASCII only, with what JSON escapes (quotes, backslashes, control characters, a lone surrogate).
  const ascii = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\u0001', '\ud800', ',', ']', '}', 'x'];
  const text = (len: number) => { let s = ''; while (s.length < len) s += rand() < 0.7 ? 'x' : pick(ascii); return s; };
  const lengths = [0, 1, 60, 118, 119, 120, 125, 126, 127, 128, 129, 200, 16_370, 16_383, 16_384, 16_390];

  it('writes the reference bytes for sends of JSON, string, bytes and null values with one call', () => {
    for (let round = 0; round < 30; round++) {
      const messages: Message[] = [];
      const n = 8 + Math.floor(rand() * 40);
      let json = 0;
      for (let i = 0; i < n; i++) {
        const len = pick(lengths);
        const kind = Math.floor(rand() * 6);
        const value = kind === 0 ? null : kind === 1 ? text(len) : kind === 2 ? new Uint8Array(len).fill(7)
          : kind === 3 ? { id: i, s: text(len), n: [1, 2.5, -3, true, null], o: { '': {}, q: [] } }
          : kind === 4 ? [text(len % 50), i, { k: text(3) }] : rand() < 0.5 ? i * 1.5 : false;
        if (kind >= 3) json++;
        const m: Message = { value };
        if (rand() < 0.5) m.key = rand() < 0.5 ? text(Math.floor(rand() * 140)) : new Uint8Array(3);
        if (rand() < 0.3) m.timestamp = Math.floor(rand() * 2 ** 20);
        if (rand() < 0.25) m.headers = { h: text(Math.floor(rand() * 130)), b: new Uint8Array([1, 2, 3]) };
        messages.push(m);
      }
      const { calls, payload } = encodeCounted(messages);
      expect(payload).toEqual(referencePayload(messages, NOW));
      expect(calls).toBe(json ? 1 : 0);
    }
  });

  it('goes value by value, with the same bytes, when the joint text is not ASCII or a value holds the marker', () => {
    const base = () => Array.from({ length: 9 }, (_, i) => ({ value: { id: i, s: 'plain' } as unknown }) as Message);
    const cases: [string, (ms: Message[]) => void][] = [
      ['a value that is not ASCII', (ms) => { ms[4]!.value = { s: 'é' }; }],
      ['an array item that is the marker', (ms) => { ms[2]!.value = [1, '\0', 2]; }],
      ['an object key that is the marker', (ms) => { ms[6]!.value = { a: 1, '\0': 2 }; }],
      ['the marker as the last item of a nested array', (ms) => { ms[8]!.value = { a: ['x', '\0'] }; }],
    ];
    for (const [what, change] of cases) {
      const messages = base();
      change(messages);
      const { calls, payload } = encodeCounted(messages);
      expect(payload, what).toEqual(referencePayload(messages, NOW));
      expect(calls, what).toBe(1 + messages.length);
    }
    // Fewer than 8 messages: one call per value.
    const few = base().slice(0, 7);
    expect(encodeCounted(few)).toEqual({ calls: 7, payload: referencePayload(few, NOW) });
  });

  it('names a bad value as before, and writes the value a message holds when it reads differently the second time', () => {
    const bad = Array.from({ length: 10 }, (_, i) => ({ value: i === 5 ? { n: NaN } : { i } }) as Message);
    let err: unknown;
    try { encodeRecords(bad, NOW); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InvalidRecordError);
    expect((err as Error).message).toContain('messages[5].value.n');

    // A getter that hands out a new object on every read: the first read is stringified with
    // the others, the encoder's own read is not that object, so it stringifies what it read.
    let reads = 0;
    const messages: Message[] = Array.from({ length: 10 }, (_, i) => ({ value: { i } }));
    Object.defineProperty(messages[3], 'value', { get: () => ({ read: ++reads }), enumerable: true });
    const { payload } = encodeCounted(messages);
    expect(reads).toBe(2);
    // What the encoder's own read (the second) returned.
    Object.defineProperty(messages[3], 'value', { value: { read: 2 } });
    expect(payload).toEqual(referencePayload(messages, NOW));
  });
});
