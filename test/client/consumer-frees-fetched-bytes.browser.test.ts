/**
 * The consumer frees each fetched batch's bytes once decoded (src/client/consumer/runner.ts
 * `release`), in real Chromium and Firefox: what it hands over must not depend on those bytes.
 */
import { expect } from '@esm-bundle/chai';
import { createClient, type KafkaMessage } from '../../src/index.js';
import { release } from '../../src/client/consumer/runner.js';
import { describe, it } from '../log/mocha-globals.js';

describe('consumer: fetched bytes freed after decode', () => {
  it('release() detaches a view spanning its buffer and leaves a partial view alone', () => {
    const whole = new Uint8Array([1, 2, 3, 4]);
    release(whole);
    expect(whole.buffer.byteLength).to.equal(0);
    const shared = new Uint8Array([1, 2, 3, 4]);
    const part = shared.subarray(1, 3);
    release(part);
    expect(Array.from(shared)).to.deep.equal([1, 2, 3, 4]);
    expect(Array.from(part)).to.deep.equal([2, 3]);
  });

  it('messages keep their bytes, strings, JSON and headers after their batches were freed', async () => {
    const database = `free-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const lanes = createClient({ clientId: 'browser-test', database, broker: 'in-page', logCleanerIntervalMs: 0 });
    const admin = lanes.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
    const producer = lanes.producer();
    await producer.connect();
    const sends = 5, perSend = 200;
    for (let s = 0; s < sends; s++) {
      await producer.send({
        topic: 't',
        messages: Array.from({ length: perSend }, (_, i) => {
          const n = s * perSend + i;
          return { key: `k${n}`, value: n % 2 ? new Uint8Array([n & 255, 7, 9]) : { n, text: `v${n}` }, headers: { h: new Uint8Array([n & 255]), s: `h${n}` } };
        }),
      });
    }
    const consumer = lanes.consumer({ maxWaitTimeInMs: 250, maxBytesPerPartition: 4096 });
    await consumer.connect();
    consumer.assign([{ topic: 't', partition: 0, offset: '0' }]);
    const got: KafkaMessage[] = [];
    let fetches = 0;
    consumer.on(consumer.events.FETCH, () => { fetches++; });
    let stopped!: Promise<void>;
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (e) => reject((e.payload as { error: Error }).error));
      void consumer.run({
        eachBatch: async ({ batch }) => {
          got.push(...batch.messages);
          if (got.length === sends * perSend) { stopped = consumer.stop(); resolve(); }
        },
      });
    });
    await stopped;
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
    expect(fetches).to.be.greaterThan(1);
    got.forEach((m, n) => {
      expect(m.offset).to.equal(String(n));
      expect(m.key).to.equal(`k${n}`);
      if (n % 2) expect(Array.from(m.value as Uint8Array)).to.deep.equal([n & 255, 7, 9]);
      else expect(m.value).to.deep.equal({ n, text: `v${n}` });
      expect(Array.from(m.headers!.h as Uint8Array)).to.deep.equal([n & 255]);
      expect(m.headers!.s).to.equal(`h${n}`);
    });
  });
});
