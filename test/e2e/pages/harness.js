// Page side of the multi-tab scenarios. Every record a tab processes and every offset it
// commits is reported to the test (window.report, a Playwright binding) before the tab moves
// on, so the test knows exactly what a tab did even if it crashes right after.
const { createClient } = window.lanes;

const report = (e) => (window.report ? window.report(e) : Promise.resolve());
export const state = { processed: [], errors: [], consumer: null, producer: null, client: null };

export function client(database, extra = {}) {
  state.client ??= createClient({ clientId: `tab-${Math.random().toString(36).slice(2, 6)}`, database, logCleanerIntervalMs: 0, ...extra });
  return state.client;
}

/** Starts a group consumer. commit: 'auto' | 'after-each' (manual commit after each record) | 'none'. */
export async function startConsumer({ database, groupId, topics, fromBeginning = true, commit = 'auto', delayMs = 0, consumerConfig = {} }) {
  const c = client(database).consumer({ groupId, ...consumerConfig });
  state.consumer = c;
  await c.connect();
  await c.subscribe({ topics, fromBeginning });
  c.on(c.events.GROUP_JOIN, (e) => { state.generationId = e.payload.generationId; void report({ type: 'join', generationId: e.payload.generationId, assignment: e.payload.memberAssignment }); });
  c.on(c.events.CRASH, (e) => { state.errors.push(String(e.payload.error)); });
  await c.run({
    autoCommit: commit === 'auto',
    autoCommitThreshold: commit === 'auto' ? 1 : null,
    eachMessage: async ({ topic, partition, message }) => {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      const rec = { topic, partition, offset: Number(message.offset), value: message.value };
      state.processed.push(rec);
      await report({ type: 'processed', ...rec });
      if (commit === 'after-each') {
        await c.commitOffsets([{ topic, partition, offset: String(rec.offset + 1) }]);
        await report({ type: 'committed', topic, partition, offset: rec.offset + 1 });
      }
    },
  });
  return c.memberId;
}

export function assignment() {
  return state.consumer ? state.consumer.assignment().map((a) => `${a.topic}-${a.partition}`).sort() : [];
}

/** Creates a topic and keeps this tab's admin connected (in leader-tab mode it stays the leader). */
export async function createTopic(database, topic, numPartitions) {
  const admin = (state.admin ??= client(database).admin());
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
}

/** Sends `count` records one by one (awaited), reporting each acknowledged offset. */
export async function produceSequential({ database, topic, count, prefix = 'v', numPartitions }) {
  const p = (state.producer ??= client(database).producer());
  await p.connect();
  for (let i = 0; i < count; i++) {
    const value = `${prefix}${i}`;
    const [r] = await p.send({ topic, messages: [{ value, partition: numPartitions ? i % numPartitions : undefined }] });
    await report({ type: 'acked', value, partition: r.partition, offset: Number(r.baseOffset) });
  }
}

/** Sends `count` records in sends of `batch`, spread over partitions round-robin. */
export async function produce({ database, topic, count, numPartitions, prefix = 'v', batch = 100 }) {
  const p = (state.producer ??= client(database).producer());
  await p.connect();
  for (let i = 0; i < count; i += batch) {
    const messages = [];
    for (let j = i; j < Math.min(count, i + batch); j++) messages.push({ value: `${prefix}${j}`, partition: j % numPartitions });
    await p.send({ topic, messages });
  }
}

/** Reads every record of a topic from the beginning with a free consumer. */
export async function readAll({ database, topic }) {
  const cl = client(database);
  const admin = cl.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  const c = cl.consumer();
  await c.connect();
  const want = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  const out = [];
  c.assign(offsets.map((o) => ({ topic, partition: o.partition, offset: 'earliest' })));
  await new Promise((resolve) => {
    if (want === 0) return resolve();
    void c.run({ eachMessage: async ({ partition, message }) => { out.push({ partition, offset: Number(message.offset), value: message.value }); if (out.length >= want) resolve(); } });
  });
  await c.disconnect();
  await admin.disconnect();
  return out;
}

/** Commits as the consumer would with its current (possibly stale) generation; returns the error code or 'ok'. */
export async function commitNow(topic, partition, offset) {
  try {
    await state.consumer.commitOffsets([{ topic, partition, offset: String(offset) }]);
    return 'ok';
  } catch (e) {
    return e.code ?? String(e);
  }
}

export async function stopConsumer() {
  await state.consumer?.disconnect();
}

export async function host() {
  const admin = client(state.database).admin();
  return admin;
}

/** What a broker-side error looks like after crossing to this tab. */
export async function brokerError(database) {
  const admin = client(database).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: 'bad-topic', numPartitions: 0 }] });
    return null;
  } catch (e) {
    return {
      name: e.name, code: e.code, type: e.type, retriable: e.retriable, details: e.details,
      isLanesError: e instanceof window.lanes.LanesError,
      isSubclass: e instanceof window.lanes.InvalidPartitionsError,
    };
  }
}

/** A fetch below the low watermark: OffsetOutOfRange with KafkaJS's type, from the broker. */
export async function offsetOutOfRange(database) {
  const admin = client(database).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'oor' }] });
  try {
    await admin.deleteTopicRecords({ topic: 'oor', partitions: [{ partition: 0, offset: '5' }] });
    return null;
  } catch (e) {
    return { name: e.name, code: e.code, type: e.type, retriable: e.retriable, isSubclass: e instanceof window.lanes.OffsetOutOfRangeError };
  } finally {
    await admin.disconnect();
  }
}

/** A client of a given app "version": its own SharedWorker script URL (or no SharedWorker). */
export async function produceAsVersion({ database, version, topic, count }) {
  const extra = version === 'leader-tab' ? { broker: 'leader-tab' } : { broker: 'shared-worker', workerUrl: `/dist/lanes-broker.js?v=${version}` };
  const c = createClient({ clientId: `v${version}`, database, logCleanerIntervalMs: 0, ...extra });
  const p = c.producer();
  await p.connect();
  const offsets = [];
  for (let i = 0; i < count; i++) {
    const [r] = await p.send({ topic, messages: [{ value: `${version}-${i}`, partition: 0 }] });
    offsets.push(Number(r.baseOffset));
  }
  await p.disconnect();
  return offsets;
}

/** Fills storage with in-page-broker sends until one fails; returns what happened. */
export async function fillQuota({ database }) {
  const c = createClient({ clientId: 'quota', database, broker: 'in-page', logCleanerIntervalMs: 0 });
  const admin = c.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'big', numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(8 << 20) }] }] });
  const p = c.producer();
  await p.connect();
  let acked = 0, error = null;
  for (let i = 0; i < 4000 && !error; i++) {
    // Random bytes: IndexedDB compresses large values, so repeated bytes would never fill it.
    const value = crypto.getRandomValues(new Uint8Array(1 << 16));
    try {
      await p.send({ topic: 'big', messages: [{ value }] });
      acked++;
    } catch (e) {
      error = { name: e.name, code: e.code, retriable: e.retriable, isSubclass: e instanceof window.lanes.QuotaExceededError };
    }
  }
  const [o] = await admin.fetchTopicOffsets('big');
  const cons = c.consumer();
  await cons.connect();
  cons.assign([{ topic: 'big', partition: 0, offset: 'earliest' }]);
  let read = 0;
  if (acked > 0) await new Promise((resolve) => { void cons.run({ eachMessage: async () => { if (++read === acked) resolve(); } }); });
  await cons.disconnect();
  await p.disconnect();
  await admin.disconnect();
  return { acked, error, high: Number(o.high), read };
}

/** Starts a static group member (groupInstanceId kept in sessionStorage across reloads). */
export async function startStatic({ database, groupId, topics }) {
  return startConsumer({ database, groupId, topics, consumerConfig: { groupInstanceId: true, sessionTimeout: 10_000, heartbeatInterval: 300 } });
}

/** Connects with a worker URL that does not exist; returns the error it gets. */
export async function badWorker(database) {
  const c = createClient({ database, broker: 'shared-worker', workerUrl: '/dist/no-such-broker.js' });
  const admin = c.admin();
  try {
    await admin.connect();
    return null;
  } catch (e) {
    return { name: e.name, code: e.code, retriable: e.retriable, message: e.message };
  }
}
