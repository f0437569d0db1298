// Kafka protocol codecs: primitives, schema interpreter (flexible versions, tagged fields),
// RecordBatch v2, the lanes <-> Kafka record mapping, the consumer protocol.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/protocol/crc32c.js';
import { encodeRecords } from '../../../src/protocol/record-batch.js';
import { decodeSubscription, encodeAssignment } from '../../../src/replica/kafka/groups.js';
import * as M from '../../../src/replica/kafka/messages.js';
import { decodeBatches, encodeBatch, UnsupportedCompressionError, UnsupportedMagicError, type KafkaRecord } from '../../../src/replica/kafka/record-batch.js';
import { encodeStoredBatch, kafkaToMessages } from '../../../src/replica/kafka/records.js';
import { decodeMessage, encodeMessage } from '../../../src/replica/kafka/schema.js';
import { KafkaDecodeError, Reader, Writer } from '../../../src/replica/kafka/wire.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('wire primitives', () => {
  it('round-trips varints, varlongs and int64 across signs and sizes', () => {
    const values = [0, 1, -1, 63, -64, 64, 300, -300, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 40), 2 ** 51, -(2 ** 51)];
    const w = new Writer(4);
    for (const v of values) w.varint(v).int64(v);
    const r = new Reader(w.finish());
    for (const v of values) {
      expect(r.varlong()).toBe(v);
      expect(r.int64()).toBe(v);
    }
    expect(r.remaining).toBe(0);
  });

  it('refuses reads past the end and negative lengths with KafkaDecodeError', () => {
    expect(() => new Reader(new Uint8Array([0, 5, 65])).string()).toThrow(KafkaDecodeError);
    expect(() => new Reader(new Uint8Array([0xff, 0xfe])).string()).toThrow(/negative string length/);
    expect(() => new Reader(new Uint8Array([0x80, 0x80])).uvarint()).toThrow(KafkaDecodeError);
    expect(() => new Reader(new Uint8Array([0, 2, 0xc3, 0x28])).string()).toThrow(/UTF-8/);
  });
});

describe('schema interpreter', () => {
  it('round-trips a flexible OffsetFetch v7 and a non-flexible v1 with the same data', () => {
    const msg = { groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0, 2] }], requireStable: true };
    for (const v of [1, 7]) {
      const w = new Writer();
      encodeMessage(M.OffsetFetchRequest, v, msg, w);
      const back = decodeMessage(M.OffsetFetchRequest, v, new Reader(w.finish()));
      expect(back.groupId).toBe('g');
      expect(back.topics).toEqual([{ name: 'orders', partitionIndexes: [0, 2] }]);
      expect(back.requireStable).toBe(v >= 7);
    }
  });

  it('writes non-default tagged fields in flexible versions and skips unknown tags', () => {
    const w = new Writer();
    encodeMessage(M.ApiVersionsResponse, 3, {
      errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }], throttleTimeMs: 0, finalizedFeaturesEpoch: 7,
    }, w);
    const back = decodeMessage(M.ApiVersionsResponse, 3, new Reader(w.finish()));
    expect(back.finalizedFeaturesEpoch).toBe(7);
    expect(back.apiKeys).toEqual([{ apiKey: 18, minVersion: 0, maxVersion: 3 }]);
    // An unknown tag (99) in a flexible request is skipped.
    const req = new Writer().compactString('kcat').compactString('1.7').uvarint(1).uvarint(99).uvarint(2).int16(5).finish();
    expect(decodeMessage(M.ApiVersionsRequest, 3, new Reader(req))).toMatchObject({ clientSoftwareName: 'kcat', clientSoftwareVersion: '1.7' });
  });

  it('honours nullable arrays by version (Metadata topics: null = all from v1)', () => {
    const w = new Writer();
    encodeMessage(M.MetadataRequest, 4, { topics: null, allowAutoTopicCreation: false }, w);
    expect(decodeMessage(M.MetadataRequest, 4, new Reader(w.finish())).topics).toBeNull();
    const w0 = new Writer().int32(-1).finish();
    expect(() => decodeMessage(M.MetadataRequest, 0, new Reader(w0))).toThrow(/must not be null/);
  });

  it('refuses an array length that cannot fit in the frame', () => {
    const bytes = new Writer().string('g').int32(1_000_000).finish();
    expect(() => decodeMessage(M.DescribeGroupsRequest, 0, new Reader(new Writer().int32(1_000_000).finish()))).toThrow(/cannot fit/);
    expect(bytes.length).toBeGreaterThan(0);
  });
});

const sample: KafkaRecord[] = [
  { offset: 10, timestamp: 1_700_000_000_000, key: utf8('k1'), value: utf8('hello'), headers: [{ key: 'h', value: utf8('x') }, { key: 'n', value: null }] },
  { offset: 11, timestamp: 1_699_999_999_000, key: null, value: null, headers: [] },
  { offset: 12, timestamp: 1_700_000_000_500, key: new Uint8Array([0, 255]), value: new Uint8Array(300).fill(7), headers: [] },
];

describe('RecordBatch v2', () => {
  it('round-trips records, offsets, timestamps (also earlier than the first) and null fields', () => {
    const w = new Writer();
    encodeBatch(w, sample, { producerId: 5, producerEpoch: 1, baseSequence: 9 });
    const [b, ...rest] = decodeBatches(w.finish());
    expect(rest).toHaveLength(0);
    expect(b!.records).toEqual(sample);
    expect(b!).toMatchObject({ baseOffset: 10, producerId: 5, producerEpoch: 1, baseSequence: 9, transactional: false, control: false });
  });

  it('detects a flipped byte by the CRC and a truncated batch by its length', () => {
    const w = new Writer();
    encodeBatch(w, sample);
    const bytes = w.finish().slice();
    bytes[bytes.length - 3]! ^= 1;
    expect(() => decodeBatches(bytes)).toThrow(/CRC mismatch/);
    expect(() => decodeBatches(w.finish().subarray(0, 40))).toThrow(KafkaDecodeError);
  });

  it('reads gzip batches and refuses snappy and old magic with typed errors', () => {
    const w = new Writer();
    encodeBatch(w, sample);
    const plain = w.finish();
    // Rebuild the same batch with its records section gzipped and attributes = 1.
    const records = plain.subarray(61);
    const gz = gzipSync(records);
    const out = new Writer();
    out.raw(plain.subarray(0, 61));
    out.raw(gz);
    const bytes = out.finish().slice();
    const view = new DataView(bytes.buffer);
    view.setInt32(8, bytes.length - 12);
    view.setInt16(21, 1);
    view.setUint32(17, crc32c(bytes.subarray(21)));
    expect(decodeBatches(bytes)[0]!.records).toEqual(sample);
    view.setInt16(21, 2);
    view.setUint32(17, crc32c(bytes.subarray(21)));
    expect(() => decodeBatches(bytes)).toThrow(UnsupportedCompressionError);
    bytes[16] = 1;
    expect(() => decodeBatches(bytes)).toThrow(UnsupportedMagicError);
  });
});

describe('lanes <-> Kafka record mapping', () => {
  it('transcodes a stored batch: strings and JSON as UTF-8, bytes as-is, headers in order, timestamps kept', () => {
    const enc = encodeRecords([
      { key: 'k', value: { a: [1, 'é'] }, headers: { h: ['one', 'two'], b: new Uint8Array([1, 2]) }, timestamp: 1000 },
      { key: new Uint8Array([9]), value: null, timestamp: 999 },
      { key: null, value: 'plain', timestamp: 1005 },
    ], 0);
    const w = new Writer();
    encodeStoredBatch(w, { baseOffset: 42, count: 3, firstTimestamp: enc.firstTimestamp, maxTimestamp: enc.maxTimestamp, crc: crc32c(enc.payload), payload: enc.payload });
    const [b] = decodeBatches(w.finish());
    const dec = new TextDecoder();
    expect(b!.records.map((r) => r.offset)).toEqual([42, 43, 44]);
    expect(b!.records.map((r) => r.timestamp)).toEqual([1000, 999, 1005]);
    expect(dec.decode(b!.records[0]!.value!)).toBe('{"a":[1,"é"]}');
    expect(b!.records[0]!.headers.map((h) => [h.key, [...h.value!]])).toEqual([['h', [...utf8('one')]], ['h', [...utf8('two')]], ['b', [1, 2]]]);
    expect([...b!.records[1]!.key!]).toEqual([9]);
    expect(b!.records[1]!.value).toBeNull();
    expect(b!.records[2]!.key).toBeNull();
    expect(dec.decode(b!.records[2]!.value!)).toBe('plain');
  });

  it('transcodes array headers: one Kafka header per item, an empty array left out', () => {
    const enc = encodeRecords([{ key: null, value: 'v', headers: { e: [], one: ['x'], h: 'y' }, timestamp: 1 }], 0);
    const w = new Writer();
    encodeStoredBatch(w, { baseOffset: 0, count: 1, firstTimestamp: 1, maxTimestamp: 1, crc: crc32c(enc.payload), payload: enc.payload });
    const [b] = decodeBatches(w.finish());
    expect(b!.records[0]!.headers.map((h) => [h.key, new TextDecoder().decode(h.value!)])).toEqual([['one', 'x'], ['h', 'y']]);
    expect(new TextDecoder().decode(b!.records[0]!.value!)).toBe('v');
  });

  it('keeps Kafka headers named like Object.prototype members as own headers, repeated ones as arrays', () => {
    const enc = new TextEncoder();
    const headers = [['__proto__', 'p'], ['constructor', 'c1'], ['constructor', 'c2'], ['toString', 't']].map(([key, v]) => ({ key: key!, value: enc.encode(v) }));
    const [m] = kafkaToMessages([{ offset: 0, timestamp: 1, key: null, value: enc.encode('v'), headers }], 5);
    expect(Object.getPrototypeOf(m!.headers)).toBe(Object.prototype);
    expect(Object.entries(m!.headers!)).toEqual([['__proto__', 'p'], ['constructor', ['c1', 'c2']], ['toString', 't']]);
  });

  it('maps Kafka bytes to strings when they are UTF-8, else keeps bytes; null header values become empty', () => {
    const [m1, m2, m3] = kafkaToMessages(sample, 5);
    expect(m1).toEqual({ key: 'k1', value: 'hello', headers: { h: 'x', n: '' }, timestamp: 1_700_000_000_000 });
    expect(m2).toEqual({ key: null, value: null, headers: undefined, timestamp: 1_699_999_999_000 });
    expect(m3!.key).toEqual(new Uint8Array([0, 255]));
    expect(m3!.value).toBe('\u0007'.repeat(300));
  });
});

describe('consumer protocol', () => {
  it('decodes a subscription with owned partitions (v1) and encodes an assignment', () => {
    const w = new Writer().int16(1).int32(2).string('a').string('b').bytes(null).int32(1).string('a').int32(2).int32(0).int32(3);
    expect(decodeSubscription(w.finish())).toEqual({ topics: ['a', 'b'], owned: { a: [0, 3] } });
    const r = new Reader(encodeAssignment({ b: [1], a: [0, 2] }));
    expect([r.int16(), r.int32(), r.string(), r.int32(), r.int32(), r.int32(), r.string(), r.int32(), r.int32()]).toEqual([0, 2, 'a', 2, 0, 2, 'b', 1, 1]);
  });
});
