// Benchmarks of the partitioned log, run in the page (broker: 'in-page') by bench/run.mjs.
//
// Every case is { setup?(opts), round(opts, index), teardown?() } and a round returns plain
// numbers (structured-clone data for page.evaluate). Each lanes measurement and each baseline
// measurement uses a fresh database name and deletes its database afterwards, outside the
// timed part. Records are keyless JSON values whose JSON text is exactly 100 bytes, sent to a
// one-partition topic; the raw IndexedDB baselines store the same value objects.
import { createClient } from '/dist/index.js';

/** JSON length of every benchmark value. */
export const VALUE_BYTES = 100;
const PAD = 'x'.repeat(VALUE_BYTES);
const T0 = 1_700_000_000_000;

/** A JSON-compatible value whose JSON text is exactly VALUE_BYTES long (for i < 10^9). */
export function makeValue(i) {
  const v = { id: i, user: `user-${i % 1000}`, type: 'page_view', path: `/products/${i % 10007}`, ts: T0 + i, pad: '' };
  v.pad = PAD.slice(0, VALUE_BYTES - JSON.stringify(v).length);
  return v;
}

function makeValues(from, n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = makeValue(from + i);
  return out;
}

function chunk(list, size) {
  const out = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

let seq = 0;
/** A database name no earlier round used. */
function freshName(what) {
  return `bench-${what}-${Date.now().toString(36)}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

const now = () => performance.now();

// ---- raw IndexedDB -----------------------------------------------------------------------------

function idbOpen(name) {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('records', { autoIncrement: true });
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function txDone(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

function reqDone(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** Deletes a database; waits for its connections to close (they all are by then). */
function deleteDb(name) {
  return new Promise((resolve, reject) => {
    const r = indexedDB.deleteDatabase(name);
    r.onsuccess = () => resolve();
    r.onerror = () => reject(r.error);
  });
}

/** Puts `values`, one row each, `perTx` rows per transaction, transactions one after another. */
async function idbPutAll(db, values, perTx) {
  for (let i = 0; i < values.length; i += perTx) {
    const tx = db.transaction('records', 'readwrite');
    const os = tx.objectStore('records');
    const end = Math.min(values.length, i + perTx);
    for (let j = i; j < end; j++) os.put(values[j]);
    await txDone(tx);
  }
}

// ---- lanes -------------------------------------------------------------------------------------

const TOPIC = 'bench';

/** A client with an empty one-partition topic, a connected producer and admin. */
async function openLanes(database) {
  const client = createClient({ clientId: 'bench', database, broker: 'in-page', logCleanerIntervalMs: 0 });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
  const producer = client.producer();
  await producer.connect();
  return {
    client, admin, producer, database,
    async high() {
      const [p] = await admin.fetchTopicOffsets(TOPIC);
      return Number(p.high);
    },
    async close() {
      await producer.disconnect();
      await admin.disconnect();
      await deleteDb(`lanes:${database}`);
    },
  };
}

/**
 * Reads `expect` records from offset 0 with a free consumer; resolves with the seconds from
 * run() until the last one was handed over. mode: 'eachMessage' | 'eachBatch'.
 */
async function consumeAll(client, expect, mode, config = {}) {
  const consumer = client.consumer(config);
  await consumer.connect();
  consumer.assign([{ topic: TOPIC, partition: 0, offset: '0' }]);
  let seen = 0;
  let finish;
  const finished = new Promise((r) => { finish = r; });
  let failed;
  const off = consumer.on(consumer.events.CRASH, (e) => { if (e.payload?.restart === false) { failed = e.payload.error; finish(); } });
  const t0 = now();
  if (mode === 'eachMessage') {
    await consumer.run({ eachMessage: async () => { if (++seen === expect) finish(); } });
  } else {
    await consumer.run({ eachBatch: async ({ batch }) => { seen += batch.messages.length; if (seen >= expect) finish(); } });
  }
  await finished;
  const seconds = (now() - t0) / 1000;
  off();
  await consumer.stop();
  await consumer.disconnect();
  if (failed) throw failed;
  if (seen !== expect) throw new Error(`${mode}: saw ${seen} records, expected ${expect}`);
  return seconds;
}

// ---- heap --------------------------------------------------------------------------------------

const MB = 1024 * 1024;

/** Full GC (needs --js-flags=--expose-gc), twice so weak and finalized garbage goes too. */
async function fullGc() {
  if (typeof window.gc !== 'function') throw new Error('window.gc is missing: launch Chromium with --js-flags=--expose-gc');
  window.gc();
  await new Promise((r) => setTimeout(r, 0));
  window.gc();
}

function usedHeap() {
  return performance.memory.usedJSHeapSize;
}

// ---- cases -------------------------------------------------------------------------------------

const state = {};

/** Alternates which side runs first, so drift over a round does not favour one. */
async function bothSides(index, only, lanes, baseline) {
  const out = {};
  const order = index % 2 === 0 ? ['lanes', 'baseline'] : ['baseline', 'lanes'];
  for (const side of order) {
    if (only && only !== side) continue;
    Object.assign(out, side === 'lanes' ? await lanes() : await baseline());
  }
  return out;
}

const cases = {
  /** (a) producer.send of `perCall` records per call, `calls` calls awaited one after another. */
  produceBatch: {
    setup({ calls, perCall }) {
      const values = makeValues(0, calls * perCall);
      state.produceBatch = { values, messages: chunk(values.map((value) => ({ value })), perCall) };
    },
    async round({ calls, perCall, only }, index) {
      const { values, messages } = state.produceBatch;
      const n = calls * perCall;
      return bothSides(index, only, async () => {
        const lanes = await openLanes(freshName('produce'));
        await lanes.producer.send({ topic: TOPIC, messages: [{ value: makeValue(-1) }] }); // warm metadata
        const t0 = now();
        for (const m of messages) await lanes.producer.send({ topic: TOPIC, messages: m });
        const s = (now() - t0) / 1000;
        const high = await lanes.high();
        await lanes.close();
        if (high !== n + 1) throw new Error(`produceBatch: high watermark ${high}, expected ${n + 1}`);
        return { lanes: n / s, lanesMBps: (n * VALUE_BYTES) / MB / s, lanesMsPerCall: (s * 1000) / calls };
      }, async () => {
        const name = freshName('idb-produce');
        const db = await idbOpen(name);
        const t0 = now();
        await idbPutAll(db, values, perCall);
        const s = (now() - t0) / 1000;
        db.close();
        await deleteDb(name);
        return { baseline: n / s, baselineMBps: (n * VALUE_BYTES) / MB / s };
      });
    },
    teardown() { delete state.produceBatch; },
  },

  /** (b) `count` concurrent one-record sends (Promise.all). */
  concurrentSends: {
    setup({ count }) {
      state.concurrentSends = { values: makeValues(0, count) };
    },
    async round({ count, only }, index) {
      const { values } = state.concurrentSends;
      return bothSides(index, only, async () => {
        const lanes = await openLanes(freshName('concurrent'));
        await lanes.producer.send({ topic: TOPIC, messages: [{ value: makeValue(-1) }] }); // warm metadata
        const t0 = now();
        const res = await Promise.all(values.map((value) => lanes.producer.send({ topic: TOPIC, messages: [{ value }] })));
        const s = (now() - t0) / 1000;
        const high = await lanes.high();
        await lanes.close();
        if (high !== count + 1 || res.length !== count) throw new Error(`concurrentSends: high watermark ${high}, expected ${count + 1}`);
        return { lanes: count / s, lanesMs: s * 1000 };
      }, async () => {
        const name = freshName('idb-concurrent');
        const db = await idbOpen(name);
        const t0 = now();
        await idbPutAll(db, values, 1);
        const s = (now() - t0) / 1000;
        db.close();
        await deleteDb(name);
        return { baseline: count / s, baselineMs: s * 1000 };
      });
    },
    teardown() { delete state.concurrentSends; },
  },

  /** (c) reading `count` records from offset 0 through a free consumer; baseline: one getAll. */
  consume: {
    async setup({ count, perSend }) {
      const lanes = await openLanes(freshName('consume'));
      const idbName = freshName('idb-consume');
      const db = await idbOpen(idbName);
      for (let i = 0; i < count; i += perSend) {
        const values = makeValues(i, Math.min(perSend, count - i));
        await lanes.producer.send({ topic: TOPIC, messages: values.map((value) => ({ value })) });
        await idbPutAll(db, values, values.length);
      }
      const high = await lanes.high();
      if (high !== count) throw new Error(`consume setup: high watermark ${high}, expected ${count}`);
      state.consume = { lanes, db, idbName };
    },
    async round({ count, only, consumerConfig }, index) {
      const { lanes, db } = state.consume;
      return bothSides(index, only, async () => {
        const m = await consumeAll(lanes.client, count, 'eachMessage', consumerConfig);
        const b = await consumeAll(lanes.client, count, 'eachBatch', consumerConfig);
        return { eachMessage: count / m, eachBatch: count / b };
      }, async () => {
        const t0 = now();
        const rows = await reqDone(db.transaction('records', 'readonly').objectStore('records').getAll());
        const s = (now() - t0) / 1000;
        if (rows.length !== count) throw new Error(`consume baseline: got ${rows.length} rows, expected ${count}`);
        return { baseline: count / s };
      });
    },
    async teardown() {
      const { lanes, db, idbName } = state.consume;
      delete state.consume;
      await lanes.close();
      db.close();
      await deleteDb(idbName);
    },
  },

  /**
   * (d) heap of this page (the broker's context) around appending `sends` x `perSend` records
   * and reading them all back with eachBatch. Run on a fresh page per round.
   */
  memory: {
    async round({ sends, perSend, sampleMs }) {
      await fullGc();
      const pageHeap = usedHeap();
      const lanes = await openLanes(freshName('memory'));
      await fullGc();
      const emptyLog = usedHeap();
      let peakAppend = emptyLog;
      let peakRead = 0;
      let phase = 'append';
      const sample = () => {
        const h = usedHeap();
        if (phase === 'append') peakAppend = Math.max(peakAppend, h);
        else peakRead = Math.max(peakRead, h);
      };
      const timer = setInterval(sample, sampleMs);
      const n = sends * perSend;
      let appendMs = 0;
      try {
        for (let i = 0; i < sends; i++) {
          const messages = makeValues(i * perSend, perSend).map((value) => ({ value }));
          const t0 = now();
          await lanes.producer.send({ topic: TOPIC, messages });
          appendMs += now() - t0;
        }
        sample();
        await fullGc();
        const afterAppend = usedHeap();
        phase = 'read';
        const readSeconds = await consumeAll(lanes.client, n, 'eachBatch');
        sample();
        clearInterval(timer);
        await fullGc();
        const afterRead = usedHeap();
        const high = await lanes.high();
        if (high !== n) throw new Error(`memory: high watermark ${high}, expected ${n}`);
        return {
          pageHeap: pageHeap / MB, emptyLog: emptyLog / MB, afterAppend: afterAppend / MB, afterRead: afterRead / MB,
          peakAppend: peakAppend / MB, peakRead: peakRead / MB, peak: Math.max(peakAppend, peakRead) / MB,
          appendRate: n / (appendMs / 1000), readRate: n / readSeconds,
        };
      } finally {
        clearInterval(timer);
        await lanes.close();
      }
    },
  },
};

/** What bench/run.mjs drives. */
export const bench = {
  cases,
  info: () => ({ userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency, hasGc: typeof window.gc === 'function', preciseMemory: !!performance.memory }),
  fullGc,
  usedHeap,
};
