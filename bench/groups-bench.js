// Page side of the multi-tab benchmarks (bench/suites/groups.mjs). Times are
// performance.timeOrigin + performance.now(): one high-resolution clock shared by the tabs of
// this machine and the Node process that drives them.
import { createClient } from '/dist/index.js';

const now = () => performance.timeOrigin + performance.now();
const state = { client: null, consumer: null, latencies: [], channel: null, counts: 0, first: 0, last: 0, takeover: 0 };

function client(database) {
  state.client ??= createClient({ clientId: `bench-${Math.random().toString(36).slice(2, 6)}`, database, logCleanerIntervalMs: 0 });
  return state.client;
}

export const tab = {
  now,

  async createTopic(database, topic, numPartitions) {
    const admin = client(database).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions }] });
    state.admin = admin; // stays connected
  },

  /** Latency receiver: a group consumer recording now - sent for each record. */
  async startLatencyConsumer(database, topic) {
    state.latencies = [];
    const c = client(database).consumer({ groupId: 'latency', maxWaitTimeInMs: 5000 });
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: false });
    await c.run({ eachMessage: async ({ message }) => { state.latencies.push(now() - message.value.t); } });
    state.consumer = c;
    // Wait until the group assigned the partition, so the first record is not lost to 'latest'.
    while (c.assignment().length === 0) await new Promise((r) => setTimeout(r, 5));
  },

  latencies() { return state.latencies; },

  /** Sends `count` records one by one, `gapMs` apart, each carrying its send time. */
  async sendTimed(database, topic, count, gapMs) {
    const p = (state.producer ??= client(database).producer());
    await p.connect();
    for (let i = 0; i < count; i++) {
      await p.send({ topic, messages: [{ value: { t: now(), i } }] });
      await new Promise((r) => setTimeout(r, gapMs));
    }
  },

  /** BroadcastChannel receiver for the latency baseline; it echoes messages marked `echo` back to the sender. */
  listenPing(name) {
    state.pings = [];
    state.channel = new BroadcastChannel(name);
    state.channel.onmessage = (e) => {
      if (typeof e.data === 'number') state.pings.push(now() - e.data);
      else if (e.data?.echo) state.channel.postMessage({ back: e.data.echo });
    };
  },
  /** BroadcastChannel round trips to a listenPing tab, `gapMs` apart; resolves with each one's time. */
  async roundTrips(name, count, gapMs) {
    const ch = new BroadcastChannel(name);
    const out = [];
    for (let i = 0; i < count; i++) {
      const t = now();
      await new Promise((r) => { ch.onmessage = (e) => { if (e.data?.back === t) r(); }; ch.postMessage({ echo: t }); });
      out.push(now() - t);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    ch.close();
    return out;
  },
  pings() { return state.pings; },
  async sendPings(name, count, gapMs) {
    const ch = new BroadcastChannel(name);
    for (let i = 0; i < count; i++) {
      ch.postMessage(now());
      await new Promise((r) => setTimeout(r, gapMs));
    }
    ch.close();
  },

  /** A group member that records when it first processes a record of a partition it did not have at first. */
  async startTakeoverConsumer(database, topic) {
    const c = client(database).consumer({ groupId: 'takeover', sessionTimeout: 60_000, heartbeatInterval: 3000, maxWaitTimeInMs: 5000 });
    state.seen = new Map();
    state.initial = null;
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: false });
    await c.run({
      eachMessage: async ({ partition }) => {
        if (!state.seen.has(partition)) state.seen.set(partition, now());
      },
    });
    state.consumer = c;
  },
  assignment() { return state.consumer ? state.consumer.assignment().map((a) => a.partition) : []; },
  seen() { return Object.fromEntries(state.seen ?? []); },
  /** Holds a Web Lock until the tab dies (the baseline: how fast another tab learns of it). */
  async holdLock(name) {
    await new Promise((granted) => { navigator.locks.request(name, () => { granted(); return new Promise(() => {}); }); });
  },
  waitLock(name) {
    state.lockGranted = 0;
    navigator.locks.request(name, () => { state.lockGranted = now(); });
  },
  lockGranted() { return state.lockGranted; },

  /** Keeps sending one record to every partition every `gapMs` until stop(). */
  async produceContinuously(database, topic, numPartitions, gapMs) {
    const p = (state.producer ??= client(database).producer());
    await p.connect();
    state.producing = true;
    while (state.producing) {
      await p.send({ topic, messages: Array.from({ length: numPartitions }, (_, partition) => ({ value: 'x', partition })) });
      await new Promise((r) => setTimeout(r, gapMs));
    }
  },
  stopProducing() { state.producing = false; },

  /** Writes `count` records spread over partitions, in sends of `perSend`. */
  async fill(database, topic, count, numPartitions, perSend) {
    const p = (state.producer ??= client(database).producer());
    await p.connect();
    const value = { id: 0, name: 'x'.repeat(60), t: 1700000000000 };
    for (let i = 0; i < count; i += perSend) {
      const partition = (i / perSend) % numPartitions;
      await p.send({ topic, messages: Array.from({ length: perSend }, () => ({ value, partition })) });
    }
  },

  /**
   * A group member for the throughput run: pauses every partition it gets until go(), then
   * counts records with eachBatch.
   */
  async startCounter(database, topic, groupId) {
    state.counts = 0; state.first = 0; state.last = 0; state.go = false;
    const c = client(database).consumer({ groupId, sessionTimeout: 60_000, maxWaitTimeInMs: 1000 });
    state.fetches = 0; state.batches = 0;
    c.on(c.events.FETCH, (e) => { if (state.go) { state.fetches++; state.batches += e.payload.numberOfBatches; } });
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: true });
    await c.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, pause }) => {
        if (!state.go) { pause(); return; }
        if (!state.first) state.first = now();
        state.counts += batch.messages.length;
        resolveOffset(batch.lastOffset());
        state.last = now();
      },
    });
    state.consumer = c;
  },
  go(topic) {
    state.go = true;
    state.goAt = now();
    state.consumer.resume([{ topic }]);
    return state.goAt;
  },
  counted() { return { count: state.counts, first: state.first, last: state.last, goAt: state.goAt, fetches: state.fetches, batches: state.batches }; },

  async stop() {
    await state.consumer?.disconnect().catch(() => undefined);
    state.consumer = null;
  },
};
