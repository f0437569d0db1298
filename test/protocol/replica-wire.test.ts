import { describe, expect, it } from 'vitest';
import {
  decodeBatchesFrame, decodePushFrame, encodeBatchesFrame, encodePushFrame, isValidTopicName, recordsPath,
  type PushFrame,
} from '../../src/protocol/replica-wire.js';
import { encodeRecords } from '../../src/protocol/record-batch.js';
import { crc32c } from '../../src/protocol/crc32c.js';
import { InvalidArgumentError } from '../../src/errors.js';

function sampleFrame(): PushFrame {
  const a = encodeRecords([{ key: 'k', value: 'v1' }, { value: { n: 1 } }], 1000);
  const b = encodeRecords([{ value: new Uint8Array([1, 2, 3]), headers: { h: 'x' } }], 2000);
  return {
    deviceId: 'device-é-1',
    batches: [
      { topic: 'orders', partition: 0, baseOffset: 10, lastOffsetDelta: 1, producerId: 3, producerEpoch: 0, baseSequence: 7, count: 2, firstTimestamp: 1000, maxTimestamp: 1000, crc: crc32c(a.payload), topicGeneration: 1_700_000_000_123, payload: a.payload },
      { topic: 'a.b_c-d', partition: 5, baseOffset: 2 ** 40, lastOffsetDelta: 0, producerId: -1, producerEpoch: -1, baseSequence: -1, count: 1, firstTimestamp: 2000, maxTimestamp: 2000, crc: crc32c(b.payload), topicGeneration: 0, payload: b.payload },
    ],
  };
}

describe('replica wire: push frame', () => {
  it('round-trips every field', () => {
    const f = sampleFrame();
    const back = decodePushFrame(encodePushFrame(f));
    expect(back.deviceId).toBe(f.deviceId);
    expect(back.batches.length).toBe(2);
    for (let i = 0; i < 2; i++) {
      const { payload, ...rest } = back.batches[i]!;
      const { payload: p0, ...rest0 } = f.batches[i]!;
      expect(rest).toEqual(rest0);
      expect(Array.from(payload)).toEqual(Array.from(p0));
    }
  });

  it('reads version 1 frames (no topic generation): their batches have generation 0', () => {
    const v2 = encodePushFrame(sampleFrame());
    // Version 1 is version 2 without each batch's 8 generation bytes before its payload length.
    const parts: Uint8Array[] = [v2.subarray(0, 4), new Uint8Array([1])];
    let at = 5;
    const view = new DataView(v2.buffer, v2.byteOffset);
    at += 2 + view.getUint16(at) + 4;
    parts.push(v2.subarray(5, at));
    for (let i = 0; i < 2; i++) {
      const start = at;
      at += 2 + view.getUint16(at) + 4 + 8 + 4 + 8 + 2 + 4 + 4 + 8 + 8 + 4;
      parts.push(v2.subarray(start, at));
      at += 8; // generation
      const len = view.getUint32(at);
      parts.push(v2.subarray(at, at + 4 + len));
      at += 4 + len;
    }
    const v1 = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { v1.set(p, o); o += p.length; }
    const back = decodePushFrame(v1);
    expect(back.batches.map((b) => [b.topic, b.baseOffset, b.topicGeneration, b.count])).toEqual([['orders', 10, 0, 2], ['a.b_c-d', 2 ** 40, 0, 1]]);
  });

  it('round-trips an empty frame', () => {
    expect(decodePushFrame(encodePushFrame({ deviceId: 'd', batches: [] }))).toEqual({ deviceId: 'd', batches: [] });
  });

  it('names the field of a truncation at every cut, never a RangeError', () => {
    const bytes = encodePushFrame(sampleFrame());
    for (let cut = 0; cut < bytes.length; cut++) {
      let err: unknown;
      try { decodePushFrame(bytes.subarray(0, cut)); } catch (e) { err = e; }
      expect(err, `cut at ${cut}`).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).details.field).toBeTypeOf('string');
    }
  });

  it('refuses bad magic, version, trailing bytes, bad topic and limits', () => {
    const bytes = encodePushFrame(sampleFrame());
    const bad = (mut: (b: Uint8Array) => Uint8Array, field: string) => {
      try { decodePushFrame(mut(bytes.slice())); expect.unreachable(); } catch (e) {
        expect(e).toBeInstanceOf(InvalidArgumentError);
        expect((e as InvalidArgumentError).details.field).toBe(field);
      }
    };
    bad((b) => { b[0] = 0; return b; }, 'magic');
    bad((b) => { b[4] = 9; return b; }, 'version');
    bad((b) => { const c = new Uint8Array(b.length + 1); c.set(b); return c; }, 'batchCount');
    // first topic's first byte becomes a space
    bad((b) => { b[4 + 1 + 2 + new TextEncoder().encode('device-é-1').length + 4 + 2] = 32; return b; }, 'batches[0].topic');
    expect(() => decodePushFrame(bytes, { maxBatches: 1, maxPayloadBytes: 1 << 20 })).toThrow(/at most 1/);
    expect(() => decodePushFrame(bytes, { maxBatches: 10, maxPayloadBytes: 2 })).toThrow(/batches\[0\]\.payload/);
  });

  it('encoder refuses bad values, naming the field', () => {
    const f = sampleFrame();
    f.batches[1]!.partition = -1;
    expect(() => encodePushFrame(f)).toThrow(/batches\[1\]\.partition/);
    expect(() => encodePushFrame({ deviceId: '', batches: [] })).toThrow(/deviceId/);
    expect(() => encodePushFrame({ deviceId: 'd', batches: [{ ...sampleFrame().batches[0]!, topic: 'no spaces' }] })).toThrow(/topic/);
  });
});

describe('replica wire: batches frame and routes', () => {
  it('round-trips', () => {
    const p = new Uint8Array([9, 8, 7]);
    const frame = { low: 0, high: 12, nextOffset: 12, batches: [{ baseOffset: 5, count: 7, firstTimestamp: 1, maxTimestamp: 2, crc: crc32c(p), payload: p }] };
    const back = decodeBatchesFrame(encodeBatchesFrame(frame));
    expect({ ...back, batches: back.batches.map((b) => ({ ...b, payload: Array.from(b.payload) })) })
      .toEqual({ ...frame, batches: frame.batches.map((b) => ({ ...b, payload: Array.from(b.payload) })) });
    expect(() => decodeBatchesFrame(encodeBatchesFrame(frame).subarray(0, 20))).toThrow(InvalidArgumentError);
  });

  it('topic names and paths', () => {
    for (const t of ['orders.v1_x-y', '__proto__', 'constructor', 'valueOf', 'x'.repeat(249)]) expect(isValidTopicName(t)).toBe(true);
    for (const t of ['', '.', '..', 'a b', 'x'.repeat(250), 'é']) expect(isValidTopicName(t)).toBe(false);
    expect(recordsPath('orders', 2, 10, 100)).toBe('/v1/topics/orders/partitions/2/records?offset=10&limit=100');
  });
});
