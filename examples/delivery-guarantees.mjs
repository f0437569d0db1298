/*
 * Kafka's three delivery guarantees, as one consume-transform-produce step: a group reads
 * `orders` and writes one invoice per order to `invoices`. Run: `node --import fake-indexeddb/auto
 * examples/delivery-guarantees.mjs` (in a page, import it and call the functions).
 *
 * - atMostOnce: commit the order's offset, then write the invoice; a crash in between loses it.
 * - atLeastOnce: write the invoice, then commit (lanes' default, autoCommit); a crash in between
 *   writes it again.
 * - exactlyOnce: the invoice and the offset are one transaction: the broker writes the commit
 *   markers and the offset in one IndexedDB transaction, so both happen or neither.
 * Each function processes `count` orders and answers the invoices a read-committed consumer sees.
 */
import { createClient } from 'lanes';

const invoice = (message) => ({ key: message.key, value: `invoice for ${message.value}` });

/** Sends `count` orders, runs `process` on each in group `groupId`, answers the invoices. */
async function pipeline(database, count, groupId, run) {
  const client = createClient({ clientId: `example-${groupId}`, database });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }, { topic: 'invoices', numPartitions: 2 }] });
  const producer = client.producer();
  await producer.connect();
  await producer.send({ topic: 'orders', messages: Array.from({ length: count }, (_, i) => ({ key: `o${i}`, value: `order ${i}` })) });
  const consumer = client.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic: 'orders', fromBeginning: true });
  const done = await run(client, consumer, producer);
  // Read the invoices back as any read-committed consumer would.
  const reader = client.consumer({ groupId: `${groupId}-reader` });
  await reader.connect();
  await reader.subscribe({ topic: 'invoices', fromBeginning: true });
  const invoices = [];
  await new Promise((resolve) => {
    void reader.run({ eachMessage: async ({ message }) => { invoices.push(String(message.value)); if (invoices.length === count) resolve(); } });
  });
  for (const x of [reader, consumer, producer, admin, ...done]) await x.disconnect();
  return invoices;
}

/** Resolves once `count` orders were handled. */
const counter = (count) => {
  let n = 0, resolve;
  const all = new Promise((r) => { resolve = r; });
  return { all, one: () => { if (++n === count) resolve(); } };
};

/** At most once: the offset is committed before the invoice is written. */
export function atMostOnce(database, count = 10) {
  return pipeline(database, count, 'billing-at-most-once', async (client, consumer, producer) => {
    const handled = counter(count);
    await consumer.run({ autoCommit: false, eachMessage: async ({ topic, partition, message }) => {
      await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
      await producer.send({ topic: 'invoices', messages: [invoice(message)] });
      handled.one();
    } });
    await handled.all;
    return [];
  });
}

/** At least once (the default): the invoice is written, then the offset is committed. */
export function atLeastOnce(database, count = 10) {
  return pipeline(database, count, 'billing-at-least-once', async (client, consumer, producer) => {
    const handled = counter(count);
    await consumer.run({ eachMessage: async ({ message }) => {
      await producer.send({ topic: 'invoices', messages: [invoice(message)] });
      handled.one();
    } });
    await handled.all;
    return [];
  });
}

/** Exactly once: the invoice and the offset commit together, in one transaction. */
export function exactlyOnce(database, count = 10) {
  return pipeline(database, count, 'billing-exactly-once', async (client, consumer) => {
    const txp = client.producer({ transactionalId: 'billing-invoices', idempotent: true, maxInFlightRequests: 1 });
    await txp.connect();
    const handled = counter(count);
    await consumer.run({ autoCommit: false, eachMessage: async ({ topic, partition, message }) => {
      const tx = await txp.transaction();
      try {
        await tx.send({ topic: 'invoices', messages: [invoice(message)] });
        await tx.sendOffsets({ consumerGroupId: 'billing-exactly-once', topics: [{ topic, partitions: [{ partition, offset: String(Number(message.offset) + 1) }] }] });
        await tx.commit();
      } catch (e) {
        if (tx.isActive()) await tx.abort();
        throw e;
      }
      handled.one();
    } });
    await handled.all;
    return [txp];
  });
}

// Run as a program: each guarantee on its own database.
if (typeof process !== 'undefined' && process.argv?.[1]?.endsWith('delivery-guarantees.mjs')) {
  const stamp = Date.now();
  for (const [name, f] of Object.entries({ atMostOnce, atLeastOnce, exactlyOnce })) {
    const invoices = await f(`guarantees-${name}-${stamp}`, 10);
    console.log(`${name}: ${invoices.length} invoices, e.g. ${JSON.stringify(invoices[0])}`);
  }
}
