/** Reads bounded by records as well as bytes: the log's read, the broker's fetch, the consumer. */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/index.js';
import { readPartition } from '../../../src/log/reader.js';
import { setup } from '../helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
afterEach(async () => { await env?.close(); env = undefined; });

async function tenBatchesOfTen() {
  env = await setup();
  await env.admin.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
  for (let b = 0; b < 10; b++) {
    await env.producer.send({ topic: 't', messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${b * 10 + i}` })) });
  }
  return env;
}

describe('max records', () => {
  it('the log read stops adding batches once they hold maxRecords records', async () => {
    const e = await tenBatchesOfTen();
    const all = await readPartition(e.broker.store, 't', 0, 0, 1 << 20);
    expect(all.batches.map((b) => b.baseOffset)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const some = await readPartition(e.broker.store, 't', 0, 0, 1 << 20, 25);
    expect(some.batches.map((b) => b.baseOffset)).toEqual([0, 10, 20]);
    // From the middle of a batch, only the records at and after the offset count.
    const mid = await readPartition(e.broker.store, 't', 0, 15, 1 << 20, 5);
    expect(mid.batches.map((b) => b.baseOffset)).toEqual([10]);
    const fetched = await e.broker.fetch({ partitions: [{ topic: 't', partition: 0, offset: 0 }], maxWaitMs: 0, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20, maxRecordsPerPartition: 11 });
    expect(fetched[0]!.batches.map((b) => b.baseOffset)).toEqual([0, 10]);
  });

  it('a consumer hands over at most maxRecordsPerPartition records per fetch, and all of them in order', async () => {
    const e = await tenBatchesOfTen();
    const consumer = await e.consumer({ maxRecordsPerPartition: 7 });
    consumer.assign([{ topic: 't', partition: 0, offset: '0' }]);
    const sizes: number[] = [];
    const offsets: number[] = [];
    let fetches = 0;
    consumer.on(consumer.events.FETCH, () => { fetches++; });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          sizes.push(batch.messages.length);
          for (const m of batch.messages) offsets.push(Number(m.offset));
          if (offsets.length === 100) resolve();
        },
      });
    });
    expect(offsets).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(7);
    expect(fetches).toBeGreaterThanOrEqual(Math.ceil(100 / 7));
  });

  it('refuses maxRecordsPerPartition below 1', async () => {
    env = await setup();
    expect(() => env!.client.consumer({ maxRecordsPerPartition: 0 })).toThrow(InvalidArgumentError);
  });
});
