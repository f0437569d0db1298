// Page side of the exactly-once scenarios (loaded into tab.html with a dynamic import): a
// consume-transform-produce pipeline (orders -> invoices, offsets committed in the same
// transaction), an orders producer, a reader of a topic at either isolation level, and a
// transactional producer for the zombie scenarios.
const { createClient } = window.lanes;

const state = { client: null, producer: null, consumer: null, errors: [], committed: 0, aborted: 0 };
window.txnState = state;

function client(database) {
  state.client ??= createClient({ clientId: `txn-${Math.random().toString(36).slice(2, 6)}`, database, logCleanerIntervalMs: 0 });
  return state.client;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the pipeline: one transaction per order writes its invoice and commits the order's
 * offset. `slot` names the transactionalId, so a replacement tab fences (and aborts) what the
 * tab it replaces left open. `maxDelayMs`: a random pause inside each transaction, between the
 * send and the commit, so crashes land mid-transaction.
 */
export async function startPipeline({ database, slot, maxDelayMs = 10, transactionTimeout = 5000 }) {
  const c = client(database);
  const newProducer = async () => {
    const p = c.producer({ transactionalId: `pipeline-${slot}`, idempotent: true, maxInFlightRequests: 1, transactionTimeout });
    await p.connect();
    return p;
  };
  let producer = await newProducer();
  const consumer = c.consumer({ groupId: 'billing', heartbeatInterval: 100, sessionTimeout: 3000, rebalanceTimeout: 5000, maxWaitTimeInMs: 200 });
  state.producer = producer;
  state.consumer = consumer;
  await consumer.connect();
  await consumer.subscribe({ topics: ['orders'], fromBeginning: true });
  consumer.on(consumer.events.CRASH, (e) => { state.errors.push(String(e.payload.error)); });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message }) => {
      const tx = await producer.transaction();
      try {
        await tx.send({ topic: 'invoices', messages: [{ key: message.key, value: `invoice-${message.value}` }] });
        if (maxDelayMs > 0) await sleep(Math.floor(Math.random() * maxDelayMs));
        await tx.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic, partitions: [{ partition, offset: String(Number(message.offset) + 1) }] }] });
        await tx.commit();
        state.committed++;
      } catch (e) {
        if (tx.isActive()) await tx.abort().catch(() => undefined);
        state.aborted++;
        state.errors.push(`${e.name}: ${e.message}`);
        // Fenced (the broker timed the transaction out): as with KafkaJS, a new producer.
        if (e.name === 'ProducerFencedError') producer = await newProducer();
        throw e; // the record is processed again (in a new transaction) or by the partition's next owner
      }
    },
  });
  return consumer.memberId;
}

/** What this tab's pipeline did: transactions committed and aborted, errors seen (last 20). */
export function status() {
  return { committed: state.committed, aborted: state.aborted, errors: state.errors.slice(-20), assignment: state.consumer?.assignment?.() ?? [] };
}

/** Sends orders `from`..`from + count - 1` (one request), keyed so they spread over the partitions. */
export async function produceOrders({ database, from, count }) {
  const p = (state.ordersProducer ??= client(database).producer());
  await p.connect();
  const messages = Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `order-${from + i}` }));
  await p.send({ topic: 'orders', messages });
}

/** Creates the topics of the pipeline. */
export async function createTopics({ database, partitions = 6 }) {
  const admin = client(database).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: partitions }, { topic: 'invoices', numPartitions: partitions }] });
  await admin.disconnect();
}

/** The watermarks of a topic's partitions, with their last stable offsets. */
export async function offsets({ database, topic }) {
  const admin = client(database).admin();
  const step = (what, p) => Promise.race([p, sleep(10_000).then(() => { throw new Error(`offsets: ${what} got no answer in 10 s`); })]);
  await step('admin.connect', admin.connect());
  const o = await step('fetchTopicOffsets', admin.fetchTopicOffsets(topic));
  await step('admin.disconnect', admin.disconnect());
  return o;
}

/** Committed offsets of `billing` and the high watermarks of `orders`, per partition. */
export async function progress({ database }) {
  const admin = client(database).admin();
  await admin.connect();
  const [offs] = await admin.fetchOffsets({ groupId: 'billing', topics: ['orders'] });
  const highs = await admin.fetchTopicOffsets('orders');
  await admin.disconnect();
  return highs.map((h) => ({ partition: h.partition, high: Number(h.high), committed: Number(offs.partitions.find((p) => p.partition === h.partition)?.offset ?? -1) }));
}

/**
 * Reads a whole topic at one isolation level: first writes one sentinel record (outside any
 * transaction) at the end of every partition, then reads until every sentinel was seen, so
 * everything stable before them was read. Returns the values, sentinels left out.
 */
export async function readTopic({ database, topic, readUncommitted = false }) {
  const c = client(database);
  const admin = c.admin();
  await admin.connect();
  const parts = (await admin.fetchTopicOffsets(topic)).length;
  await admin.disconnect();
  const p = (state.sentinelProducer ??= c.producer());
  await p.connect();
  const tag = `sentinel-${Math.random().toString(36).slice(2)}`;
  await p.send({ topic, messages: Array.from({ length: parts }, (_, i) => ({ value: tag, partition: i })) });
  const consumer = c.consumer({ groupId: `reader-${tag}`, readUncommitted, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const values = [];
  let seen = 0;
  await new Promise((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const v = String(message.value);
        if (v === tag) { if (++seen === parts) resolve(); return; }
        if (!v.startsWith('sentinel-')) values.push(v);
      },
    });
  });
  await consumer.disconnect();
  return values;
}

/** A transactional producer of this tab with `transactionalId` (the zombie scenarios). */
export async function txProducer({ database, transactionalId, transactionTimeout }) {
  state.producer = client(database).producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout });
  await state.producer.connect();
}

/** Opens a transaction, sends `value` to invoices and commits unless `commit` is false. Answers the error's name and code, if any. */
export async function txSend({ value, commit = true }) {
  try {
    state.tx = await state.producer.transaction();
    await state.tx.send({ topic: 'invoices', messages: [{ value, partition: 0 }] });
    if (commit) await state.tx.commit();
    return { ok: true };
  } catch (e) {
    return { ok: false, name: e.name, code: e.code, retriable: e.retriable };
  }
}

/** Commits the transaction left open by txSend({ commit: false }). */
export async function txCommit() {
  try {
    await state.tx.commit();
    return { ok: true };
  } catch (e) {
    return { ok: false, name: e.name, code: e.code, retriable: e.retriable };
  }
}
