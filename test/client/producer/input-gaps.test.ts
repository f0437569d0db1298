/**
 * Input the producer and the consumer API used to accept wrongly or report badly: a header with
 * an `undefined` value (silently dropped before; KafkaJS throws a TypeError, lanes refuses with
 * InvalidRecordError naming the header), `headers` given as an array (stored as an object of
 * '0', '1' before), header values given as arrays (read back faithfully, one-item and empty
 * arrays included), and NaN partitions, timestamps and offsets (reported as "got null" before).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidRecordError, type IHeaders } from '../../../src/index.js';
import { readAll, rejection, rejectionOf, setup } from '../helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
const open = async () => (env = await setup());
afterEach(async () => { await env?.close(); env = undefined; });

describe('headers', () => {
  it('refuses a header whose value is undefined or null, naming it, and writes nothing', async () => {
    const { admin, producer, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    for (const [headers, field] of [
      [{ ok: 'x', trace: undefined }, 'send.messages[1].headers.trace'],
      [{ trace: null }, 'send.messages[1].headers.trace'],
      [{ list: ['a', undefined] }, 'send.messages[1].headers.list[1]'],
    ] as const) {
      const e = await rejection(producer.send({ topic: 't', messages: [{ value: 'fine' }, { value: 'v', headers: headers as unknown as IHeaders }] }));
      expect(e).toBeInstanceOf(InvalidRecordError);
      expect(e.details).toMatchObject({ field });
      expect(e.message).toContain(field);
    }
    expect(await offsets('t')).toEqual([{ partition: 0, low: 0, high: 0 }]);
  });

  it('refuses headers given as an array (they are a { name: value } object)', async () => {
    const { admin, producer, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    const e = await rejection(producer.send({ topic: 't', messages: [{ value: 'v', headers: ['a', 'b'] as unknown as IHeaders }] }));
    expect(e).toBeInstanceOf(InvalidRecordError);
    expect(e.message).toContain('messages[0].headers must be a plain object');
    expect(await offsets('t')).toEqual([{ partition: 0, low: 0, high: 0 }]);
  });

  it('reads array-valued headers back as they were sent: several items, one item, none, bytes', async () => {
    const { admin, producer, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    const headers: IHeaders = { many: ['x', 'y', 'z'], one: ['only'], none: [], bytes: [new Uint8Array([1, 2]), 'text'], plain: 'p' };
    await producer.send({ topic: 't', messages: [{ value: 'v', headers }, { value: 'w', headers: { plain: 'q' } }] });
    const [m0, m1] = await readAll(broker, 't', 0);
    expect(m0!.headers).toEqual({ many: ['x', 'y', 'z'], one: ['only'], none: [], bytes: [new Uint8Array([1, 2]), 'text'], plain: 'p' });
    expect(m1!.headers).toEqual({ plain: 'q' });
  });
});

describe('NaN is reported as NaN', () => {
  it('in a message partition and timestamp', async () => {
    const { admin, producer } = await open();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    const p = await rejection(producer.send({ topic: 't', messages: [{ value: 'v', partition: NaN }] }));
    expect(p).toBeInstanceOf(InvalidArgumentError);
    expect(p.message).toContain('messages[0].partition must be an integer; got NaN');
    const t = await rejection(producer.send({ topic: 't', messages: [{ value: 'v', timestamp: NaN as unknown as string }] }));
    expect(t).toBeInstanceOf(InvalidRecordError);
    expect(t.message).toContain('got NaN');
    const inf = await rejection(producer.send({ topic: 't', messages: [{ value: 'v', timestamp: Infinity as unknown as string }] }));
    expect(inf.message).toContain('got Infinity');
  });

  it('in offsets of seek, commitOffsets, setOffsets and deleteTopicRecords, and in an assigned partition', async () => {
    const { admin, client } = await open();
    await admin.createTopics({ topics: [{ topic: 't' }] });
    const free = client.consumer();
    await free.connect();
    try {
      const a = await rejectionOf(() => free.assign([{ topic: 't', partition: NaN }]));
      expect(a).toBeInstanceOf(InvalidArgumentError);
      expect(a.message).toContain('partition NaN');
      free.assign([{ topic: 't', partition: 0, offset: '0' }]);
      const s = await rejectionOf(() => free.seek({ topic: 't', partition: 0, offset: NaN as unknown as string }));
      expect(s.message).toContain('seek.offset must be a non-negative integer offset (decimal string); got NaN');
    } finally {
      await free.disconnect();
    }
    const so = await rejection(admin.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: NaN as unknown as string }] }));
    expect(so.message).toContain('got NaN');
    const dr = await rejection(admin.deleteTopicRecords({ topic: 't', partitions: [{ partition: 0, offset: NaN as unknown as string }] }));
    expect(dr.message).toContain('got NaN');
    for (const e of [so, dr]) expect(e.message).not.toContain('got null');
  });
});
