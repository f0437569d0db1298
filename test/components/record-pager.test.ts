/**
 * The record browser's pager: pages of offset ranges read by one free consumer, in node
 * (in-page broker on fake-indexeddb).
 */
import { describe, expect, it } from 'vitest';
import { RecordPager } from '../../src/components/record-pager.js';
import { nodeClient } from '../helpers/node-client.js';

describe('RecordPager', () => {
  it('reads pages forward and back, at any offset, and nothing past the high watermark', async () => {
    const { client } = nodeClient();
    const producer = client.producer();
    await producer.connect();
    for (let i = 0; i < 5; i++) {
      await producer.send({ topic: 'orders', messages: Array.from({ length: 100 }, (_, j) => ({ key: `k${i * 100 + j}`, value: { n: i * 100 + j }, partition: 0 })) });
    }
    const pager = new RecordPager(client);
    const p1 = await pager.read('orders', 0, 0, 50, 500);
    expect(p1.records.map((r) => Number(r.offset))).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const p2 = await pager.read('orders', 0, 250, 50, 500);
    expect(p2.records.map((r) => Number(r.offset))).toEqual(Array.from({ length: 50 }, (_, i) => 250 + i));
    expect(p2.records[0]!.value).toEqual({ n: 250 });
    const back = await pager.read('orders', 0, 120, 10, 500);
    expect(back.records.map((r) => r.key)).toEqual(Array.from({ length: 10 }, (_, i) => `k${120 + i}`));
    const tail = await pager.read('orders', 0, 480, 50, 500);
    expect(tail.records).toHaveLength(20);
    expect((await pager.read('orders', 0, 500, 50, 500)).records).toEqual([]);
    const [a, b] = await Promise.all([pager.read('orders', 0, 10, 5, 500), pager.read('orders', 0, 400, 5, 500)]);
    expect(a.records.map((r) => Number(r.offset))).toEqual([10, 11, 12, 13, 14]);
    expect(b.records.map((r) => Number(r.offset))).toEqual([400, 401, 402, 403, 404]);
    await pager.close();
    await producer.disconnect();
  });
});
