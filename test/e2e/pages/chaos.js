// Page side of the chaos scenario. Each tab runs one group consumer and one producer; every
// acknowledged send, processed record and error is reported to the test (window.report, a
// Playwright binding) as it happens, so what a tab did is known even if it crashes next.
const { createClient, LanesError, logLevel } = window.lanes;

const report = (e) => (window.report ? window.report(e).catch(() => undefined) : Promise.resolve());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every error this tab saw, and whether it was a typed LanesError. */
function seen(where, e) {
  const typed = e instanceof LanesError;
  void report({ type: 'error', where, typed, name: e?.name ?? typeof e, code: e?.code ?? null, message: String(e?.message ?? e).slice(0, 300) });
}
addEventListener('unhandledrejection', (ev) => seen('unhandledrejection', ev.reason));
addEventListener('error', (ev) => seen('error', ev.error ?? new Error(ev.message)));

const state = { stopping: false, producing: null, consumer: null, client: null, starting: null };

/** Starts the consumer (retried until it joins) and the producer loop. */
export function start({ database, tab, topics, sendEveryMs = 40 }) {
  const client = (state.client = createClient({ clientId: tab, database, logCleanerIntervalMs: 0, logLevel: logLevel.NOTHING, requestTimeout: 15_000 }));
  state.starting = runConsumer(client, topics);
  state.producing = produceLoop(client, tab, topics, sendEveryMs);
  return true; // the consumer joins in the background; the test follows it through reports
}

async function runConsumer(client, topics) {
  const consumer = (state.consumer = client.consumer({
    groupId: 'chaos', sessionTimeout: 6000, heartbeatInterval: 300, rebalanceTimeout: 8000, maxWaitTimeInMs: 1000,
    retry: { retries: 3, initialRetryTime: 50, restartOnFailure: async () => true },
  }));
  consumer.on(consumer.events.CRASH, (e) => seen('crash', e.payload.error));
  consumer.on(consumer.events.COMMIT_OFFSETS_ERROR, (e) => seen('commit', e.payload.error));
  consumer.on(consumer.events.PARTITION_UNAVAILABLE, (e) => seen('unavailable', e.payload.error));
  for (;;) {
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommitInterval: 300,
        eachMessage: async ({ topic, partition, message }) => {
          await report({ type: 'processed', topic, partition, offset: Number(message.offset), value: message.value });
        },
      });
      return;
    } catch (e) {
      seen('run', e);
      if (state.stopping) return;
      await sleep(300);
    }
  }
}

async function produceLoop(client, tab, topics, sendEveryMs) {
  const producer = client.producer({ allowAutoTopicCreation: false, retry: { retries: 2, initialRetryTime: 50 } });
  let seq = 0;
  while (!state.stopping) {
    try {
      await producer.connect();
      break;
    } catch (e) {
      seen('connect', e);
      await sleep(200);
    }
  }
  while (!state.stopping) {
    const topic = topics[seq % topics.length];
    const value = `${tab}:${seq++}`;
    try {
      const [r] = await producer.send({ topic, messages: [{ key: value, value }] });
      await report({ type: 'acked', topic, partition: r.partition, offset: Number(r.baseOffset), value });
    } catch (e) {
      seen('send', e);
      await sleep(100);
    }
    await sleep(sendEveryMs);
  }
}

/** Stops producing; resolves once the producer loop has ended. */
export async function stopProducing() {
  state.stopping = true;
  await state.producing;
  return true;
}

/** The consumer's assignment, as topic-partition strings. */
export function assignment() {
  return state.consumer ? state.consumer.assignment().map((a) => `${a.topic}-${a.partition}`).sort() : [];
}

/** Admin actions of the control tab: each retried while the broker is unavailable, errors reported. */
export async function admin(action, arg) {
  const client = (state.adminClient ??= createClient({ clientId: 'control', database: arg.database, logCleanerIntervalMs: 0, logLevel: logLevel.NOTHING, requestTimeout: 15_000 }));
  const a = (state.admin ??= client.admin());
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await a.connect();
      if (action === 'create') return await a.createTopics({ topics: arg.topics });
      if (action === 'delete') { await a.deleteTopics({ topics: arg.topics }); return true; }
      if (action === 'offsets') return await a.fetchTopicOffsets(arg.topic);
      if (action === 'list') return await a.listTopics();
      throw new Error(`unknown action ${action}`);
    } catch (e) {
      seen(`admin.${action}`, e);
      if (!(e instanceof LanesError) || !e.retriable || Date.now() > deadline) return { error: { name: e?.name, code: e?.code, message: String(e?.message ?? e) } };
      await sleep(200);
    }
  }
}

/** Deletes the whole lanes database from outside (as "Clear site data" or another app would). */
export function deleteDatabase(database) {
  return new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(`lanes:${database}`);
    let blocked = false;
    req.onblocked = () => { blocked = true; };
    req.onsuccess = () => resolve({ ok: true, blocked });
    req.onerror = () => resolve({ ok: false, blocked, error: String(req.error) });
  });
}

/** Every record of a topic, read with a free consumer from the low watermark. */
export async function readAll({ database, topic }) {
  const client = (state.adminClient ??= createClient({ clientId: 'control', database, logCleanerIntervalMs: 0, logLevel: logLevel.NOTHING }));
  const a = (state.admin ??= client.admin());
  await a.connect();
  const offsets = await a.fetchTopicOffsets(topic);
  const want = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  const out = [];
  if (want === 0) return out;
  const c = client.consumer({ maxWaitTimeInMs: 200 });
  await c.connect();
  c.assign(offsets.map((o) => ({ topic, partition: o.partition, offset: 'earliest' })));
  await new Promise((resolve) => {
    void c.run({ eachMessage: async ({ partition, message }) => { out.push({ partition, offset: Number(message.offset), value: message.value }); if (out.length >= want) resolve(); } });
  });
  await c.disconnect();
  return out;
}
