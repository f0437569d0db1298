import { describe, expect, it } from 'vitest';
import { CorruptRecordError, InvalidRecordError } from '../../src/errors.js';
import {
  concatRecords, decodeBatch, encodeRecords, payloadCrc, rebuildPayload, verifyCrc,
  type EncodedRecords, type RecordBatch, type TimestampType,
} from '../../src/protocol/record-batch.js';
import { scanRecords, type RecordView } from '../../src/protocol/record-scan.js';
import type { KafkaMessage, Message } from '../../src/types.js';
import { referencePayload } from '../helpers/record-reference.js';

const NOW = 1_700_000_000_000;

function batchOf(enc: EncodedRecords, baseOffset = 0, timestampType: TimestampType = 'CreateTime', logAppendTime = -1): RecordBatch {
  return {
    topic: 't', partition: 0, baseOffset, lastOffsetDelta: enc.count - 1, count: enc.count,
    firstTimestamp: enc.firstTimestamp, maxTimestamp: enc.maxTimestamp, timestampType, logAppendTime,
    producerId: -1, producerEpoch: 0, baseSequence: -1, crc: payloadCrc(enc.payload), sizeBytes: enc.payload.length + 64,
    payload: enc.payload, segment: 0, cleanedAt: -1,
  };
}

function roundTrip(messages: Message[], baseOffset = 0): KafkaMessage[] {
  const b = batchOf(encodeRecords(messages, NOW), baseOffset);
  const out: KafkaMessage[] = [];
  decodeBatch(b, out);
  return out;
}

function refusal(messages: unknown[]): InvalidRecordError {
  try {
    encodeRecords(messages as Message[], NOW);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidRecordError);
    return e as InvalidRecordError;
  }
  throw new Error('expected encodeRecords to refuse the input');
}

const bytes = (...b: number[]) => new Uint8Array(b);

describe('encodeRecords / decodeBatch round trip', () => {
  it('keeps string, bytes and null keys apart (an empty string is not null)', () => {
    const out = roundTrip([{ key: 'k', value: 'a' }, { key: bytes(0, 255, 7), value: 'b' }, { key: null, value: 'c' }, { value: 'd' }, { key: '', value: 'e' }]);
    expect(out.map((m) => m.key)).toEqual(['k', bytes(0, 255, 7), null, null, '']);
    expect(out[1]!.key).toBeInstanceOf(Uint8Array);
  });

  it('keeps string, bytes, JSON and null values with their types', () => {
    const json = { id: 7, total: 12.5, tags: ['a', 'b'], nested: { ok: true, none: null }, empty: {} };
    const values = ['text', '', bytes(1, 2, 3), new Uint8Array(0), json, [1, 'two', null], 42, -0.5, true, false, null];
    const out = roundTrip(values.map((value) => ({ key: 'k', value })));
    expect(out.map((m) => m.value)).toEqual(values);
    expect(out[2]!.value).toBeInstanceOf(Uint8Array);
    expect(typeof out[0]!.value).toBe('string');
    expect(typeof out[6]!.value).toBe('number');
  });

  it('numbers records from the base offset and reports their sizes', () => {
    const out = roundTrip([{ value: 'a' }, { value: 'bb' }, { value: 'ccc' }], 40);
    expect(out.map((m) => m.offset)).toEqual(['40', '41', '42']);
    expect(out.every((m) => m.attributes === 0)).toBe(true);
    expect(out[2]!.size).toBeGreaterThan(out[0]!.size);
  });

  it('keeps string and bytes headers; a repeated name comes back as an array', () => {
    const [m] = roundTrip([{ value: 'v', headers: { a: 'x', b: bytes(9, 8), multi: ['1', bytes(2), '3'], 'ünï 😀': 'ok' } }]);
    expect(m!.headers).toEqual({ a: 'x', b: bytes(9, 8), multi: ['1', bytes(2), '3'], 'ünï 😀': 'ok' });
  });

  it('reads back headers named like Object.prototype members as sent, the prototype untouched', () => {
    const sent = JSON.parse('{"__proto__": "p", "constructor": "c", "toString": ["t1", "t2"], "valueOf": []}') as Record<string, string | string[]>;
    const bin = Object.defineProperty({ hasOwnProperty: 'h' }, '__proto__', { value: bytes(1, 2), enumerable: true });
    const [m, n] = roundTrip([{ value: 'v', headers: sent }, { value: 'w', headers: bin }]);
    for (const [got, want] of [[m!.headers, sent], [n!.headers, bin]] as const) {
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
      expect(Object.keys(got)).toEqual(Object.keys(want));
      for (const k of Object.keys(want)) expect(Object.getOwnPropertyDescriptor(got, k)!.value).toEqual(Object.getOwnPropertyDescriptor(want, k)!.value);
    }
  });

  it('refuses a header whose value is undefined (naming it) instead of dropping it', () => {
    expect(() => encodeRecords([{ value: 'v', headers: { a: 'x', skipped: undefined } }], 0)).toThrow(/messages\[0\]\.headers\.skipped must be a string or Uint8Array; got undefined/);
  });

  it('gives records without headers an empty headers object', () => {
    const out = roundTrip([{ value: 'v' }, { value: 'w', headers: {} }]);
    expect(out.map((m) => m.headers)).toEqual([{}, {}]);
  });

  it('round-trips unicode in keys, values, JSON and header values, short and long', () => {
    const short = 'ß€😀𝄞';
    const long = 'Grüße 😀 東京 — '.repeat(12); // far over the 48-char fast path
    const exact48 = 'é'.repeat(48);
    const out = roundTrip([
      { key: short, value: long, headers: { h: long } },
      { key: long, value: { s: short, l: long } },
      { key: exact48, value: 'e'.repeat(49) + '😀' },
    ]);
    expect(out[0]!.key).toBe(short);
    expect(out[0]!.value).toBe(long);
    expect(out[0]!.headers.h).toBe(long);
    expect(out[1]!.key).toBe(long);
    expect(out[1]!.value).toEqual({ s: short, l: long });
    expect(out[2]!.key).toBe(exact48);
    expect(out[2]!.value).toBe('e'.repeat(49) + '😀');
  });

  it('keeps lone surrogates as U+FFFD (what UTF-8 can carry)', () => {
    const out = roundTrip([{ key: 'a\ud800', value: '\udc00b' }]);
    expect(out[0]!.key).toBe('a\ufffd');
    expect(out[0]!.value).toBe('\ufffdb');
  });

  it('keeps timestamps given as numbers or decimal strings and defaults to now', () => {
    const enc = encodeRecords([{ value: 'a', timestamp: 5 }, { value: 'b', timestamp: '1699999999999' }, { value: 'c' }, { value: 'd', timestamp: 0 }], NOW);
    expect(enc.firstTimestamp).toBe(0);
    expect(enc.maxTimestamp).toBe(NOW);
    const out: KafkaMessage[] = [];
    decodeBatch(batchOf(enc), out);
    expect(out.map((m) => m.timestamp)).toEqual(['5', '1699999999999', String(NOW), '0']);
  });

  it('reports the append time instead of the create time for LogAppendTime batches', () => {
    const out: KafkaMessage[] = [];
    decodeBatch(batchOf(encodeRecords([{ value: 'a', timestamp: 5 }, { value: 'b' }], NOW), 0, 'LogAppendTime', 123), out);
    expect(out.map((m) => m.timestamp)).toEqual(['123', '123']);
  });

  it('handles records whose length prefix takes 1, 2, 3 and 4 bytes', () => {
    const sizes = [10, 200, 20_000, 2_200_000];
    const values = sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
    const enc = encodeRecords(values.map((value, i) => ({ key: `k${i}`, value })), NOW);
    expect(enc.maxRecordBytes).toBeGreaterThan(2_200_000);
    const out: KafkaMessage[] = [];
    decodeBatch(batchOf(enc), out);
    expect(out.map((m) => (m.value as Uint8Array).length)).toEqual(sizes);
    expect(out.every((m, i) => (m.value as Uint8Array).every((b) => b === i + 1))).toBe(true);
    // The shared buffer grew; later small encodes are still right.
    expect(roundTrip([{ key: 'after', value: 'small' }])[0]).toMatchObject({ key: 'after', value: 'small', offset: '0' });
  });

  it('reports the largest record size, which grows with the record', () => {
    const small = encodeRecords([{ value: 'x' }], NOW).maxRecordBytes;
    const big = encodeRecords([{ value: 'x' }, { value: 'y'.repeat(1000) }], NOW);
    expect(big.maxRecordBytes).toBeGreaterThan(1000);
    expect(big.maxRecordBytes).toBeLessThan(1020);
    expect(small).toBeLessThan(20);
    expect(big.count).toBe(2);
  });

  it('returns an independent payload (later encodes do not change it)', () => {
    const a = encodeRecords([{ value: 'first' }], NOW);
    const copy = a.payload.slice();
    encodeRecords([{ value: 'second, longer, overwriting the scratch buffer' }], NOW);
    expect(Array.from(a.payload)).toEqual(Array.from(copy));
  });
});

describe('decodeBatch options', () => {
  const b = batchOf(encodeRecords(['a', 'b', 'c', 'd'].map((value) => ({ value })), NOW), 10);

  it('skips records below fromOffset and stops after maxRecords, returning the last offset', () => {
    const out: KafkaMessage[] = [];
    expect(decodeBatch(b, out, 12)).toBe(13);
    expect(out.map((m) => m.value)).toEqual(['c', 'd']);
    const two: KafkaMessage[] = [];
    expect(decodeBatch(b, two, 0, 2)).toBe(11);
    expect(two.map((m) => m.offset)).toEqual(['10', '11']);
    const none: KafkaMessage[] = [];
    expect(decodeBatch(b, none, 14)).toBe(-1);
    expect(none).toEqual([]);
  });

  it('appends to the array it is given', () => {
    const out: KafkaMessage[] = [];
    decodeBatch(b, out, 13);
    decodeBatch(batchOf(encodeRecords([{ value: 'e' }], NOW), 14), out);
    expect(out.map((m) => m.offset)).toEqual(['13', '14']);
  });
});

describe('decodeBatch of JSON values (parsed together as one array)', () => {
  const values: Message['value'][] = [
    { a: 1, s: 'x,y]', nested: [[1], { '[': ']' }] },
    'a string, with ] and [',
    [],
    null,
    new Uint8Array([0x5b, 0x2c, 0x5d, 0xff]),
    { unicode: 'Grüße 😀 \u2028', n: -0.5e-7, t: true, f: false, z: null },
    '',
    0,
    { long: 'x'.repeat(500) },
    'last',
    [1, '2', { three: 3 }],
  ];
  const messages: Message[] = values.map((value, i) => ({
    value, key: i % 3 === 0 ? null : i % 3 === 1 ? `k${i}` : new Uint8Array([i]),
    ...(i % 2 ? { headers: { h: `v${i}`, list: ['[', ','] } } : {}),
  }));
  const b = batchOf(encodeRecords(messages, NOW), 100);

  it('gives every record its own value, key and headers among records of other types', () => {
    const out: KafkaMessage[] = [];
    expect(decodeBatch(b, out)).toBe(110);
    expect(out.map((m) => m.value)).toEqual(values);
    expect(out.map((m) => m.key)).toEqual(messages.map((m) => m.key));
    expect(out.map((m) => m.headers)).toEqual(messages.map((m) => m.headers ?? {}));
    expect(out.map((m) => m.offset)).toEqual(values.map((_, i) => String(100 + i)));
  });

  it('parses only the records asked for (fromOffset, maxRecords), a JSON value last in the payload included', () => {
    const mid: KafkaMessage[] = [];
    expect(decodeBatch(b, mid, 105, 4)).toBe(108);
    expect(mid.map((m) => m.value)).toEqual(values.slice(5, 9));
    const tail: KafkaMessage[] = [];
    decodeBatch(b, tail, 110);
    expect(tail.map((m) => m.value)).toEqual([[1, '2', { three: 3 }]]);
    const one = batchOf(encodeRecords([{ value: { only: 1 } }], NOW));
    const got: KafkaMessage[] = [];
    decodeBatch(one, got);
    expect(got[0]!.value).toEqual({ only: 1 });
  });

  it('decodes a large batch, a smaller one after it and the large one again (the copy is reused)', () => {
    const big = Array.from({ length: 300 }, (_, i) => ({ i, text: `${i}`.padEnd(1000, '.') }));
    const bigBatch = batchOf(encodeRecords(big.map((value, i) => ({ value, key: `k${i}` })), NOW));
    const small = batchOf(encodeRecords([{ value: { a: [1] } }, { value: 'plain' }, { value: { b: 2 } }], NOW));
    for (const [batch, expected] of [[bigBatch, big], [small, [{ a: [1] }, 'plain', { b: 2 }]], [bigBatch, big]] as const) {
      const out: KafkaMessage[] = [];
      decodeBatch(batch, out);
      expect(out.map((m) => m.value)).toEqual(expected);
    }
    const part: KafkaMessage[] = [];
    decodeBatch(bigBatch, part, 59, 200);
    expect(part.map((m) => m.value)).toEqual(big.slice(59, 259));
  });

  it('gives each record a value object of its own', () => {
    const same = batchOf(encodeRecords([{ value: { n: 1 } }, { value: { n: 1 } }], NOW));
    const out: KafkaMessage[] = [];
    decodeBatch(same, out);
    expect(out[0]!.value).toEqual(out[1]!.value);
    expect(out[0]!.value).not.toBe(out[1]!.value);
  });
});

describe('encodeRecords refuses what cannot be stored, naming the field', () => {
  class Point { constructor(public x = 1) {} }
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cases: [string, unknown, RegExp][] = [
    ['undefined value', { value: undefined }, /messages\[1\]\.value.*undefined/],
    ['function value', { value: () => 1 }, /messages\[1\]\.value.*function/],
    ['Date value', { value: new Date() }, /messages\[1\]\.value.*Date/],
    ['Map value', { value: new Map() }, /messages\[1\]\.value.*Map/],
    ['class instance', { value: new Point() }, /messages\[1\]\.value.*Point/],
    ['NaN value', { value: NaN }, /messages\[1\]\.value.*NaN/],
    ['Infinity inside JSON', { value: { a: [1, Infinity] } }, /messages\[1\]\.value\.a\[1\]/],
    ['cyclic object', { value: cyclic }, /messages\[1\]\.value.*cycle/],
    ['bigint value', { value: 10n }, /messages\[1\]\.value.*bigint/],
    ['symbol value', { value: Symbol('s') }, /messages\[1\]\.value.*symbol/],
    ['undefined inside JSON', { value: { a: undefined } }, /messages\[1\]\.value\.a/],
    ['number key', { key: 5, value: 'v' }, /messages\[1\]\.key.*number/],
    ['object key', { key: { a: 1 }, value: 'v' }, /messages\[1\]\.key/],
    ['number header', { value: 'v', headers: { h: 5 } }, /messages\[1\]\.headers\.h/],
    ['object header in an array', { value: 'v', headers: { h: ['ok', {}] } }, /messages\[1\]\.headers\.h/],
    ['string headers', { value: 'v', headers: 'h' }, /messages\[1\]\.headers/],
    ['negative timestamp', { value: 'v', timestamp: -1 }, /messages\[1\]\.timestamp/],
    ['fractional timestamp', { value: 'v', timestamp: 1.5 }, /messages\[1\]\.timestamp/],
    ['non-numeric timestamp', { value: 'v', timestamp: 'yesterday' }, /messages\[1\]\.timestamp/],
    ['empty-string timestamp', { value: 'v', timestamp: '' }, /messages\[1\]\.timestamp/],
    ['hex timestamp', { value: 'v', timestamp: '0x10' }, /messages\[1\]\.timestamp/],
    ['exponent timestamp', { value: 'v', timestamp: '1e3' }, /messages\[1\]\.timestamp/],
    ['null message', null, /messages\[1\]/],
  ];
  for (const [name, bad, pattern] of cases) {
    it(`refuses a ${name}`, () => {
      const e = refusal([{ value: 'fine' }, bad]);
      expect(e.message).toMatch(pattern);
      expect(e.code).toBe('INVALID_RECORD');
      expect(String(e.details.field ?? '')).toMatch(/^messages\[1\]/);
    });
  }

  it('accepts a cycle-free object that shares a sub-object twice', () => {
    const shared = { x: 1 };
    expect(roundTrip([{ value: { a: shared, b: shared } }])[0]!.value).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it('names the caller\'s index when told the indices of a subset', () => {
    try {
      encodeRecords([{ value: 'ok' }, { value: undefined } as unknown as Message], NOW, 'send.messages', [3, 8]);
      throw new Error('not refused');
    } catch (e) {
      expect((e as Error).message).toMatch(/send\.messages\[8\]\.value/);
    }
  });
});

describe('concatRecords', () => {
  it('joins payloads so offsets continue across the parts', () => {
    const a = encodeRecords([{ value: 'a', timestamp: 50 }, { value: 'b', timestamp: 60 }], NOW);
    const b = encodeRecords([{ value: 'c', timestamp: 10 }], NOW);
    const c = encodeRecords([{ value: 'd'.repeat(300), timestamp: 70 }], NOW);
    const all = concatRecords([a, b, c]);
    expect(all.count).toBe(4);
    expect(all.firstTimestamp).toBe(10);
    expect(all.maxTimestamp).toBe(70);
    expect(all.maxRecordBytes).toBe(c.maxRecordBytes);
    expect(all.payload.length).toBe(a.payload.length + b.payload.length + c.payload.length);
    const out: KafkaMessage[] = [];
    decodeBatch(batchOf(all, 100), out);
    expect(out.map((m) => [m.offset, m.value])).toEqual([['100', 'a'], ['101', 'b'], ['102', 'c'], ['103', 'd'.repeat(300)]]);
  });

  it('returns a single part unchanged', () => {
    const a = encodeRecords([{ value: 'a' }], NOW);
    expect(concatRecords([a])).toBe(a);
  });
});

describe('scanRecords / rebuildPayload', () => {
  const enc = encodeRecords([
    { key: 'a', value: '0', timestamp: 100 },
    { key: 'b', value: '1', timestamp: 101 },
    { key: 'a', value: null, timestamp: 102 },
    { value: 'keyless', timestamp: 103 },
    { key: bytes(0x61), value: '4', timestamp: 104, headers: { h: 'x' } },
    { key: 'b', value: { five: 5 }, timestamp: 105 },
  ], NOW);

  function scan(payload: Uint8Array, base: number): RecordView[] {
    const views: RecordView[] = [];
    scanRecords(payload, base, (r) => views.push(r));
    return views;
  }

  it('reports offsets, timestamps, key identities and tombstones without decoding', () => {
    const views = scan(enc.payload, 20);
    expect(views.map((v) => v.offset)).toEqual([20, 21, 22, 23, 24, 25]);
    expect(views.map((v) => v.timestamp)).toEqual([100, 101, 102, 103, 104, 105]);
    expect(views.map((v) => v.tombstone)).toEqual([false, false, true, false, false, false]);
    expect(views[3]!.keyId).toBeNull();
    expect(views[0]!.keyId).toBe(views[2]!.keyId);
    expect(views[1]!.keyId).toBe(views[5]!.keyId);
    expect(views[0]!.keyId).not.toBe(views[1]!.keyId);
    // A string key and a bytes key with the same bytes are different keys.
    expect(views[4]!.keyId).not.toBe(views[0]!.keyId);
  });

  it('rebuilds a payload of kept records at their original, now sparse, offsets', () => {
    const views = scan(enc.payload, 20);
    const kept = [views[1]!, views[4]!, views[5]!];
    const payload = rebuildPayload(enc.payload, 20, kept);
    expect(payload.length).toBeLessThan(enc.payload.length);
    const b = { ...batchOf({ ...enc, payload }, 20), lastOffsetDelta: 5, count: 3 };
    const out: KafkaMessage[] = [];
    expect(decodeBatch(b, out)).toBe(25);
    expect(out.map((m) => [m.offset, m.key, m.value, m.timestamp])).toEqual([
      ['21', 'b', '1', '101'], ['24', bytes(0x61), '4', '104'], ['25', 'b', { five: 5 }, '105'],
    ]);
    expect(out[1]!.headers).toEqual({ h: 'x' });
    expect(scan(payload, 20).map((v) => v.offset)).toEqual([21, 24, 25]);
    // fromOffset inside a gap starts at the next kept record.
    const from22: KafkaMessage[] = [];
    decodeBatch(b, from22, 22);
    expect(from22.map((m) => m.offset)).toEqual(['24', '25']);
  });

  it('can rebuild an already sparse payload again, and to nothing', () => {
    const views = scan(enc.payload, 0);
    const once = rebuildPayload(enc.payload, 0, [views[0]!, views[3]!, views[5]!]);
    const twiceViews = scan(once, 0);
    const twice = rebuildPayload(once, 0, [twiceViews[2]!]);
    expect(scan(twice, 0).map((v) => v.offset)).toEqual([5]);
    const out: KafkaMessage[] = [];
    decodeBatch({ ...batchOf({ ...enc, payload: twice }), count: 1 }, out);
    expect(out.map((m) => [m.offset, m.value])).toEqual([['5', { five: 5 }]]);
    expect(rebuildPayload(enc.payload, 0, []).length).toBe(0);
  });
});

describe('verifyCrc', () => {
  it('accepts an intact batch', () => {
    expect(() => verifyCrc(batchOf(encodeRecords([{ key: 'k', value: 'v' }], NOW), 3))).not.toThrow();
  });

  it('detects any single flipped byte with a CorruptRecordError naming the batch', () => {
    const b = batchOf(encodeRecords([{ key: 'k', value: 'value', headers: { h: 'x' } }], NOW), 3);
    for (let i = 0; i < b.payload.length; i++) {
      const payload = b.payload.slice();
      payload[i]! ^= 0x01;
      try {
        verifyCrc({ ...b, payload });
        throw new Error(`flip at ${i} not detected`);
      } catch (e) {
        expect(e).toBeInstanceOf(CorruptRecordError);
        expect((e as CorruptRecordError).details).toEqual({ topic: 't', partition: 0, baseOffset: 3 });
      }
    }
  });

  it('detects a wrong stored crc', () => {
    const b = batchOf(encodeRecords([{ value: 'v' }], NOW));
    expect(() => verifyCrc({ ...b, crc: (b.crc ^ 1) >>> 0 })).toThrow(CorruptRecordError);
  });
});

describe('encodeRecords writes the documented bytes', () => {
  // The plain reference of the record layout: test/helpers/record-reference.ts.
  const reference = referencePayload;
  let seed = 7;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '\n', 'é', 'ß', '€', '中', '😀', '\ud800'];
  const text = (len: number) => { let s = ''; while (s.length < len) s += rand(3) ? 'x' : alphabet[rand(alphabet.length)]; return s; };

  it('matches the reference for random keys, values, JSON, headers and timestamps, across prefix sizes', () => {
    // Lengths around the 1/2/3-byte varint limits of the string and record prefixes, in runs of
    // equal and of changing sizes.
    const lengths = [0, 1, 60, 118, 119, 120, 125, 126, 127, 128, 129, 200, 16_370, 16_383, 16_384, 16_390, 40_000];
    for (let round = 0; round < 30; round++) {
      const messages: Message[] = [];
      const n = 1 + rand(40);
      for (let i = 0; i < n; i++) {
        const len = lengths[rand(lengths.length)]!;
        const kind = rand(5);
        const value = kind === 0 ? null : kind === 1 ? text(len) : kind === 2 ? new Uint8Array(len).fill(rand(256)) : kind === 3 ? { id: i, s: text(len), n: [1, 2.5, -3] } : text(rand(4));
        const m: Message = { value };
        if (rand(2)) m.key = rand(2) ? text(rand(140)) : new Uint8Array(rand(5));
        if (rand(3) === 0) m.timestamp = rand(2) ? rand(2 ** 20) : String(NOW + rand(1000));
        if (rand(4) === 0) m.headers = { h: text(rand(130)), b: new Uint8Array([1, 2, 3]) };
        messages.push(m);
      }
      const enc = encodeRecords(messages, NOW);
      expect(Array.from(enc.payload)).toEqual(reference(messages, NOW));
    }
  });
});
