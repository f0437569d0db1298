// Page side of the sync scenarios: a client with sync on, sends, status and mirror.
const { createClient } = window.lanes;
export const state = { client: null, admin: null, producer: null, statuses: [] };

/** Creates the client (sync on) and connects an admin, so the broker and its uploader run. */
export async function start({ database, url, token, lingerMs = 50, mirrorIntervalMs = 100, maxRequestBytes }) {
  state.client = createClient({ clientId: 'sync-tab', database, logCleanerIntervalMs: 0, sync: { url, token, lingerMs, mirrorIntervalMs, maxRequestBytes } });
  state.client.sync.on('status', (s) => state.statuses.push(s.state));
  state.admin = state.client.admin();
  await state.admin.connect();
  return true;
}

export async function createTopic({ topic, numPartitions, configEntries }) {
  await state.admin.createTopics({ topics: [{ topic, numPartitions, configEntries }] });
  return true;
}

/** Sends `count` records `${prefix}-${partition}-${i}` in batches of `batch`, round robin over partitions. */
export async function produce({ topic, count, partitions, prefix = 'r', batch = 100, from = 0 }) {
  state.producer ??= state.client.producer();
  await state.producer.connect();
  for (let i = from; i < from + count; i += batch) {
    const messages = [];
    for (let j = i; j < Math.min(i + batch, from + count); j++) {
      const p = j % partitions;
      messages.push({ value: `${prefix}-${p}-${j}`, partition: p });
    }
    await state.producer.send({ topic, messages });
  }
  return true;
}

/** Sends one record of `bytes` bytes ('x' repeated) to a partition. */
export async function produceLarge({ topic, partition, bytes }) {
  state.producer ??= state.client.producer();
  await state.producer.connect();
  await state.producer.send({ topic, messages: [{ partition, value: 'x'.repeat(bytes) }] });
  return true;
}

export async function status() {
  return state.client.sync.status();
}

/** Waits until lanes' service worker is registered and active (it controls no page: its scope is dist/). */
export async function swReady() {
  for (;;) {
    const regs = await navigator.serviceWorker.getRegistrations();
    const reg = regs.find((r) => r.active?.scriptURL.endsWith('/lanes-sw.js'));
    if (reg && reg.active.state === 'activated') return true;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function mirror({ topic, into }) {
  await state.client.sync.mirror({ topic, into });
  return true;
}

export async function offsets(topic) {
  return state.admin.fetchTopicOffsets(topic);
}

/** Reads every record of a local topic partition from the start (a free consumer). */
export async function readAll({ topic, partition, expected }) {
  const out = [];
  const c = state.client.consumer({ maxWaitTimeInMs: 100 });
  await c.connect();
  c.assign([{ topic, partition, offset: 'earliest' }]);
  await new Promise((resolve) => {
    void c.run({ eachMessage: async ({ message }) => { out.push({ value: message.value, replicaOffset: message.headers['lanes-replica-offset'] }); if (out.length >= expected) resolve(); } });
  });
  await c.disconnect();
  return out;
}
