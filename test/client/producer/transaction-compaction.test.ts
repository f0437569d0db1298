/**
 * Consumers of a compacted topic written by transactions, through the client API: after a
 * clean, a read-committed consumer (the default) gets exactly what it got before, the last
 * committed value of every key included; a read-uncommitted one gets the same minus the aborted
 * records (Kafka's cleaner discards them); fetchTopicOffsets answers the same watermarks and
 * last stable offset. The open transaction's records survive and count once it commits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Producer } from '../../../src/index.js';
import { recorder, setup } from '../helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
const extra: { disconnect(): Promise<void> }[] = [];
afterEach(async () => {
  for (const p of extra.splice(0).reverse()) await p.disconnect();
  await env?.close();
  env = undefined;
});

async function txProducer(id: string): Promise<Producer> {
  const p = env!.client.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  extra.push(p);
  return p;
}

async function consumerFromStart(readUncommitted: boolean) {
  const c = await env!.consumer({ readUncommitted });
  c.assign([{ topic: 'c', partition: 0, offset: 0 }]);
  const r = recorder();
  await c.run({ eachMessage: r.eachMessage });
  return { r, seen: () => r.got.map((m) => `${m.offset}:${String(m.key)}=${String(m.value)}`) };
}

describe('compaction of transactional writes, as consumers see it', () => {
  it('read-committed consumers see the same before and after a clean; read-uncommitted ones lose only aborted records', async () => {
    env = await setup();
    const { admin, producer } = env;
    await admin.createTopics({ topics: [{ topic: 'c', configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '1' }] }] });
    await producer.send({ topic: 'c', messages: [{ key: 'k', value: 'v1' }] }); // 0
    const p = await txProducer('writer');
    const aborted = await p.transaction();
    await aborted.send({ topic: 'c', messages: [{ key: 'k', value: 'v2' }] }); // 1
    await aborted.abort(); // ABORT 2
    const committed = await p.transaction();
    await committed.send({ topic: 'c', messages: [{ key: 'a', value: 'a1' }] }); // 3
    await committed.commit(); // COMMIT 4
    const open = await p.transaction();
    await open.send({ topic: 'c', messages: [{ key: 'k', value: 'v4' }] }); // 5, open
    await producer.send({ topic: 'c', messages: [{ key: 'z', value: 'z' }] }); // 6

    const beforeRc = await consumerFromStart(false);
    const beforeRu = await consumerFromStart(true);
    await beforeRc.r.until(2);
    await beforeRu.r.until(5);
    const offsets = await admin.fetchTopicOffsets('c');
    expect(offsets).toMatchObject([{ partition: 0, low: '0', high: '7', lastStable: '5' }]);

    await admin.runLogCleaner({ topics: ['c'] });
    expect(await admin.fetchTopicOffsets('c')).toEqual(offsets);
    const afterRc = await consumerFromStart(false);
    const afterRu = await consumerFromStart(true);
    await afterRc.r.until(2);
    await afterRu.r.until(4);

    await open.commit(); // COMMIT 7
    await producer.send({ topic: 'c', messages: [{ key: 'end', value: 'end' }] }); // 8: nothing else is coming
    for (const c of [beforeRc, afterRc]) await c.r.until(5);
    await beforeRu.r.until(6);
    await afterRu.r.until(5);
    const all = ['0:k=v1', '3:a=a1', '5:k=v4', '6:z=z', '8:end=end'];
    expect(beforeRc.seen()).toEqual(all);
    expect(afterRc.seen()).toEqual(all);
    expect(beforeRu.seen()).toEqual(['0:k=v1', '1:k=v2', '3:a=a1', '5:k=v4', '6:z=z', '8:end=end']);
    expect(afterRu.seen()).toEqual(all);

    // Committed now, the transaction's k=v4 supersedes k=v1 at the next clean.
    await admin.runLogCleaner({ topics: ['c'] });
    const late = await consumerFromStart(false);
    await late.r.until(4);
    expect(late.seen()).toEqual(['3:a=a1', '5:k=v4', '6:z=z', '8:end=end']);
    expect(await admin.fetchTopicOffsets('c')).toMatchObject([{ partition: 0, low: '0', high: '9', lastStable: '9' }]);
  });
});
