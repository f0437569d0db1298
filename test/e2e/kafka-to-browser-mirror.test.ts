// A browser and Kafka clients through the replica: what a page in Chromium produced and synced
// is printed by kcat exactly, in order per partition; records produced with kcat -P and with a
// KafkaJS idempotent producer through the Kafka listener reach the page through
// client.sync.mirror, with their keys, values and headers, in replica offset order.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kcat, startReplica, type Replica } from '../replica/kafka/helpers.js';
import { startHarness, type Harness } from './browser.js';

describe('browser <-> replica <-> Kafka clients', () => {
  let r: Replica;
  let h: Harness;

  beforeAll(async () => {
    r = await startReplica(['--kafka-auth', 'none', '--allow-origin', '*']);
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
    await r?.stop();
  });

  it('kcat -C prints exactly the records a page produced and synced, in order per partition', async () => {
    const page = await h.context.newPage();
    await page.goto(`${h.url}/test/e2e/pages/tab.html`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    await page.evaluate(async ({ url, token }) => {
      const { createClient } = (window as unknown as { lanes: typeof import('../../src/index.js') }).lanes;
      const client = createClient({ clientId: 'device', database: `device-${Date.now()}`, sync: { url, token, lingerMs: 10 } });
      const admin = client.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] });
      const producer = client.producer();
      await producer.connect();
      for (let i = 0; i < 20; i++) {
        await producer.send({ topic: 'orders', messages: [{ key: `k${i}`, value: i % 2 ? { n: i } : `text ${i}`, partition: i % 2, headers: { i: String(i) }, timestamp: 1_700_000_000_000 + i }] });
      }
      // Synced: every partition's replicated offset reached its high watermark.
      for (;;) {
        const offsets = await admin.fetchTopicOffsets('orders');
        if (offsets.every((o) => o.replicated === o.high)) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      await producer.disconnect();
      await admin.disconnect();
    }, { url: r.http, token: await r.token('default') });
    await page.close();
    const out = await kcat(['-b', `127.0.0.1:${r.kafkaPort}`, '-C', '-t', 'orders', '-o', 'beginning', '-e', '-q', '-f', '%p|%o|%k|%s|%T|%h\\n']);
    const lines = out.split('\n').filter(Boolean);
    for (const p of [0, 1]) {
      const expected = Array.from({ length: 10 }, (_, j) => {
        const i = j * 2 + p;
        return `${p}|${j}|k${i}|${i % 2 ? JSON.stringify({ n: i }) : `text ${i}`}|${1_700_000_000_000 + i}|i=${i}`;
      });
      expect(lines.filter((l) => l.startsWith(`${p}|`))).toEqual(expected);
    }
  });

  it('a page mirrors what kcat -P and a KafkaJS idempotent producer wrote', async () => {
    const kafka = new Kafka({ clientId: 'mirror-test', brokers: [`127.0.0.1:${r.kafkaPort}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'prices', numPartitions: 2 }] });
    await admin.disconnect();
    await kcat(['-b', `127.0.0.1:${r.kafkaPort}`, '-P', '-t', 'prices', '-p', '0', '-K', ':', '-H', 'src=kcat'], 'sku-1:{"eur":10}\nsku-2:{"eur":12}\n');
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: 'prices', messages: [{ key: 'sku-3', value: 'sold out', partition: 1, headers: { src: 'kafkajs' } }] });
    await producer.disconnect();

    const page = await h.context.newPage();
    await page.goto(`${h.url}/test/e2e/pages/tab.html`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const got = await page.evaluate(async ({ url, token }) => {
      const { createClient } = (window as unknown as { lanes: typeof import('../../src/index.js') }).lanes;
      const client = createClient({ clientId: 'mirror', database: `mirror-${Date.now()}`, sync: { url, token, mirrorIntervalMs: 50 } });
      const admin = client.admin();
      await admin.connect();
      await client.sync.mirror({ topic: 'prices', into: 'prices-mirror' });
      const consumer = client.consumer({ groupId: 'mirror-reader' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'prices-mirror', fromBeginning: true });
      const out: { partition: number; key: string; value: string; src: string; replicaOffset: string }[] = [];
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            out.push({
              partition, key: String(message.key), value: String(message.value),
              src: String(message.headers.src), replicaOffset: String(message.headers['lanes-replica-offset']),
            });
            if (out.length === 3) resolve();
          },
        });
      });
      await consumer.disconnect();
      await admin.disconnect();
      return out.sort((a, b) => a.partition - b.partition || Number(a.replicaOffset) - Number(b.replicaOffset));
    }, { url: r.http, token: await r.token('default') });
    expect(got).toEqual([
      { partition: 0, key: 'sku-1', value: '{"eur":10}', src: 'kcat', replicaOffset: '0' },
      { partition: 0, key: 'sku-2', value: '{"eur":12}', src: 'kcat', replicaOffset: '1' },
      { partition: 1, key: 'sku-3', value: 'sold out', src: 'kafkajs', replicaOffset: '0' },
    ]);
    await page.close();
  });
});
