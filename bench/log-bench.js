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
  const v = { id: i, user: `user-${i % 1000}`, type: 'view', path: `/p/${i % 10007}`, ts: T0 + i, pad: '' };
  const short = VALUE_BYTES - JSON.stringify(v).length;
  if (short < 0) throw new Error(`makeValue(${i}) is over ${VALUE_BYTES} bytes`);
  v.pad = PAD.slice(0, short);
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

/** The raw IndexedDB database behind a lanes log (for reads that bypass lanes). */
function openRawLog(database) {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(`lanes:${database}`);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/**
 * The first stages of a read, timed into `out`: a raw getAll of every batch row
 * (`getAllBatchRowsMs`) and their CRC check (`crcMs`); answers the rows, the time of decoding
 * them all and the decoded messages.
 */
async function readStages(db, out, decodeBatch, verifyCrc) {
  const t0 = now();
  const rows = await reqDone(db.transaction('batches', 'readonly').objectStore('batches').getAll());
  out.getAllBatchRowsMs = now() - t0;
  [out.crcMs] = timeIt(() => { for (const b of rows) verifyCrc(b); });
  const [decodeMs, decoded] = timeIt(() => { const o = []; for (const b of rows) decodeBatch(b, o, 0); return o; });
  return { rows, decodeMs, decoded };
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
async function consumeAll(client, expect, mode, config = {}, atEnd = undefined) {
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
    await consumer.run({ eachBatch: async ({ batch }) => { seen += batch.messages.length; if (seen >= expect) { atEnd?.(); finish(); } } });
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs both sides of a round, alternating which goes first so drift does not favour one, with
 * `settleMs` of quiet before each: a side that wrote 100k rows leaves LevelDB compaction behind
 * it on the storage thread, and without the pause the side after it pays for that.
 */
async function bothSides(index, only, settleMs, lanes, baseline) {
  const out = {};
  const order = index % 2 === 0 ? ['lanes', 'baseline'] : ['baseline', 'lanes'];
  for (const side of order) {
    if (only && only !== side) continue;
    if (settleMs) await sleep(settleMs);
    Object.assign(out, side === 'lanes' ? await lanes() : await baseline());
  }
  return out;
}

/**
 * (t) One consume-transform-produce pipeline run: a group consumer reads `count` orders
 * (pre-produced, outside the timed part) from a 1-partition topic and writes one invoice per
 * order, `maxRecordsPerPartition` orders per eachBatch call. 'exactly-once': per batch one
 * transaction (tx.send of the batch's invoices, sendOffsets, commit). 'at-least-once': per batch
 * one producer.send of the invoices, then the consumer's own commit of the batch's offset
 * (commitOffsets, awaited). Answers invoices per second, timed from run() to the last commit.
 */
async function pipelineRun(count, perBatch, mode) {
  const database = freshName(`pipeline-${mode}`);
  const client = createClient({ clientId: 'bench', database, broker: 'in-page', logCleanerIntervalMs: 0 });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }, { topic: 'invoices', numPartitions: 1 }] });
  const producer = client.producer(mode === 'exactly-once' ? { transactionalId: 'bench-pipeline', idempotent: true, maxInFlightRequests: 1 } : {});
  await producer.connect();
  const feeder = client.producer();
  await feeder.connect();
  for (let i = 0; i < count; i += 1000) {
    await feeder.send({ topic: 'orders', messages: makeValues(i, Math.min(1000, count - i)).map((value) => ({ value })) });
  }
  const consumer = client.consumer({ groupId: 'billing', maxRecordsPerPartition: perBatch, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'orders', fromBeginning: true });
  let done = 0;
  let finish;
  const finished = new Promise((r) => { finish = r; });
  const t0 = now();
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, resolveOffset }) => {
      const invoices = batch.messages.map((m) => ({ value: { order: m.offset, total: m.value.id } }));
      const next = String(Number(batch.messages[batch.messages.length - 1].offset) + 1);
      if (mode === 'exactly-once') {
        const tx = await producer.transaction();
        await tx.send({ topic: 'invoices', messages: invoices });
        await tx.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
        await tx.commit();
      } else {
        await producer.send({ topic: 'invoices', messages: invoices });
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      }
      for (const m of batch.messages) resolveOffset(m.offset);
      done += batch.messages.length;
      if (done >= count) finish();
    },
  });
  await finished;
  const seconds = (now() - t0) / 1000;
  await consumer.disconnect();
  const [inv] = await admin.fetchTopicOffsets('invoices');
  await producer.disconnect();
  await feeder.disconnect();
  await admin.disconnect();
  await deleteDb(`lanes:${database}`);
  // Exactly once: the invoices plus one COMMIT marker per transaction; at least once: the invoices.
  if (Number(inv.high) < count) throw new Error(`pipeline ${mode}: ${inv.high} invoice offsets for ${count} orders`);
  return count / seconds;
}

const cases = {
  /** (a) producer.send of `perCall` records per call, `calls` calls awaited one after another. */
  produceBatch: {
    setup({ calls, perCall }) {
      const values = makeValues(0, calls * perCall);
      const enc = new TextEncoder();
      // The design's floor: each 1,000 records pre-encoded (outside the timed part) as one
      // binary value, as a record batch is one row of the log.
      const encoded = chunk(values, perCall).map((c) => enc.encode(c.map((v) => JSON.stringify(v)).join('\n')));
      state.produceBatch = { values, encoded, messages: chunk(values.map((value) => ({ value })), perCall) };
    },
    async round({ calls, perCall, only, settleMs }, index) {
      const { values, encoded, messages } = state.produceBatch;
      const n = calls * perCall;
      return bothSides(index, only, settleMs, async () => {
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
        // The floor, measured right after the row-per-record baseline (same settle pause first).
        if (settleMs) await sleep(settleMs);
        const floorName = freshName('idb-floor');
        const fdb = await idbOpen(floorName);
        const f0 = now();
        await idbPutAll(fdb, encoded, 1);
        const fs = (now() - f0) / 1000;
        fdb.close();
        await deleteDb(floorName);
        return { baseline: n / s, baselineMBps: (n * VALUE_BYTES) / MB / s, floor: n / fs, floorMBps: (n * VALUE_BYTES) / MB / fs };
      });
    },
    teardown() { delete state.produceBatch; },
  },

  /** (b) `count` concurrent one-record sends (Promise.all). */
  concurrentSends: {
    setup({ count }) {
      state.concurrentSends = { values: makeValues(0, count) };
    },
    async round({ count, only, settleMs }, index) {
      const { values } = state.concurrentSends;
      return bothSides(index, only, settleMs, async () => {
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
  /** (t) the transactional pipeline against the same pipeline at least once, same run, alternating. */
  txnPipeline: {
    async round({ count, perBatch, settleMs }, index) {
      const out = {};
      for (const b of perBatch) {
        Object.assign(out, await bothSides(index, undefined, settleMs, async () => ({ [`exactlyOnce${b}`]: await pipelineRun(count, b, 'exactly-once') }), async () => ({ [`atLeastOnce${b}`]: await pipelineRun(count, b, 'at-least-once') })));
      }
      return out;
    },
  },

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
    async round({ count, only, consumerConfig, settleMs }, index) {
      const { lanes, db } = state.consume;
      return bothSides(index, only, settleMs, async () => {
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
   * (o) broker open: a fresh client on an existing log, timed from createClient until the first
   * send resolved (broker open + producer connect + metadata + one append). Three logs built once
   * in setup: one topic and nothing in it; one topic with `records` records in one-batch
   * segments (segment.bytes 1, so `records / perSend` segments); `topics` topics of one
   * partition and one record each. Each round opens all three, in rotating order, and closes
   * the broker (last client gone) after each.
   */
  open: {
    async setup({ records, perSend, topics }) {
      const empty = freshName('open-empty');
      const big = freshName('open-big');
      const many = freshName('open-many');
      const mk = async (database) => {
        const client = createClient({ clientId: 'bench-setup', database, broker: 'in-page', logCleanerIntervalMs: 0 });
        const admin = client.admin();
        await admin.connect();
        const producer = client.producer();
        await producer.connect();
        return { admin, producer, close: async () => { await producer.disconnect(); await admin.disconnect(); } };
      };
      let c = await mk(empty);
      await c.admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
      await c.close();
      c = await mk(big);
      await c.admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '1' }] }] });
      for (let i = 0; i < records; i += perSend) {
        await c.producer.send({ topic: TOPIC, messages: makeValues(i, perSend).map((value) => ({ value })) });
      }
      await c.close();
      c = await mk(many);
      const names = Array.from({ length: topics }, (_, i) => `t${i}`);
      await c.admin.createTopics({ topics: names.map((topic) => ({ topic, numPartitions: 1 })) });
      for (let i = 0; i < names.length; i += 50) {
        await Promise.all(names.slice(i, i + 50).map((topic, j) => c.producer.send({ topic, messages: [{ value: makeValue(i + j) }] })));
      }
      await c.close();
      state.open = { dbs: { empty, big, many } };
    },
    async round({ repeats = 1 }, index) {
      const { dbs } = state.open;
      const times = { empty: [], big: [], many: [] };
      const order = ['empty', 'big', 'many'];
      for (let r = 0; r < repeats; r++) {
        for (let k = 0; k < 3; k++) {
          const which = order[(index + r + k) % 3];
          const topic = which === 'many' ? 't0' : TOPIC;
          await sleep(200);
          const t0 = now();
          const client = createClient({ clientId: 'bench-open', database: dbs[which], broker: 'in-page', logCleanerIntervalMs: 0 });
          const producer = client.producer();
          await producer.connect();
          await producer.send({ topic, messages: [{ value: makeValue(-1) }] });
          times[which].push(now() - t0);
          await producer.disconnect();
        }
      }
      // The median of a round's repeats: one load spike on a shared machine does not make the round.
      const median = (a) => { const x = [...a].sort((p, q) => p - q); return x.length % 2 ? x[x.length >> 1] : (x[x.length / 2 - 1] + x[x.length / 2]) / 2; };
      return { empty: median(times.empty), big: median(times.big), many: median(times.many) };
    },
    async teardown() {
      const { dbs } = state.open;
      delete state.open;
      for (const name of Object.values(dbs)) await deleteDb(`lanes:${name}`);
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
        let endOfRead = 0;
        let gcMs = 0;
        const readSeconds = await consumeAll(lanes.client, n, 'eachBatch', {}, () => {
          // The last batch is in hand and the consumer still runs: what does it hold on to?
          sample();
          const t = now();
          // Twice: a gc() that lands while V8's concurrent marking runs only finishes that cycle,
          // and what was marked live before it died stays (floating garbage, up to ~25 MB at a
          // fast read); the second collection starts from the roots as they are now.
          window.gc();
          window.gc();
          endOfRead = usedHeap();
          gcMs = now() - t; // not read time
        }) - gcMs / 1000;
        clearInterval(timer);
        await fullGc();
        const afterRead = usedHeap();
        const high = await lanes.high();
        if (high !== n) throw new Error(`memory: high watermark ${high}, expected ${n}`);
        return {
          pageHeap: pageHeap / MB, emptyLog: emptyLog / MB, afterAppend: afterAppend / MB, endOfRead: endOfRead / MB, afterRead: afterRead / MB,
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

// ---- diagnostics (bench/diag.mjs) ---------------------------------------------------------------
// Not benchmarks with goals: phase timings that say where the time of a case goes.

/**
 * The internal codec functions (encodeRecords, decodeBatch, verifyCrc, concatRecords), from
 * bench/.codec.js, which bench/diag.mjs bundles from src/protocol/record-batch.ts before it
 * opens the page. Diagnostics only.
 */
async function internals() {
  const mod = await import('/bench/.codec.js');
  const want = ['encodeRecords', 'decodeBatch', 'verifyCrc', 'concatRecords'];
  for (const w of want) if (!mod[w]) throw new Error(`bench/.codec.js has no ${w}: run node bench/diag.mjs`);
  return mod;
}

/** Keeps the smallest value per key over passes after the first (a warm-up): on a shared machine the least disturbed pass is the closest to the real cost. */
function keepBest(best, cur, pass) {
  if (pass === 0) return;
  for (const [k, v] of Object.entries(cur)) best[k] = k in best && typeof v === 'number' ? Math.min(best[k], v) : v;
}

function timeIt(fn) {
  const t0 = now();
  const r = fn();
  return [now() - t0, r];
}

const diag = {
  /** (t) per-step times of the pipeline, one order per batch: where each side's time per order goes. */
  async pipelinePhases({ count = 400, perBatch = 1, passes = 2 } = {}) {
    const out = {};
    for (let pass = 0; pass < passes; pass++) {
      for (const mode of ['exactly-once', 'at-least-once']) {
        const database = freshName(`phases-${mode}`);
        const client = createClient({ clientId: 'bench', database, broker: 'in-page', logCleanerIntervalMs: 0 });
        const admin = client.admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }, { topic: 'invoices', numPartitions: 1 }] });
        const producer = client.producer(mode === 'exactly-once' ? { transactionalId: 'bench-phases', idempotent: true, maxInFlightRequests: 1 } : {});
        await producer.connect();
        await producer.connect();
        const feeder = client.producer();
        await feeder.connect();
        await feeder.send({ topic: 'orders', messages: makeValues(0, count).map((value) => ({ value })) });
        const consumer = client.consumer({ groupId: 'billing', maxRecordsPerPartition: perBatch, maxWaitTimeInMs: 100 });
        await consumer.connect();
        await consumer.subscribe({ topic: 'orders', fromBeginning: true });
        const t = { begin: 0, send: 0, offsets: 0, commit: 0, handler: 0, between: 0 };
        let done = 0;
        let finish;
        const finished = new Promise((r) => { finish = r; });
        let last;
        const t0 = now();
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            const h0 = now();
            if (last !== undefined) t.between += h0 - last;
            const invoices = batch.messages.map((m) => ({ value: { order: m.offset } }));
            const next = String(Number(batch.messages[batch.messages.length - 1].offset) + 1);
            let a = now();
            const lap = (k) => { const b = now(); t[k] += b - a; a = b; };
            if (mode === 'exactly-once') {
              const tx = await producer.transaction(); lap('begin');
              await tx.send({ topic: 'invoices', messages: invoices }); lap('send');
              await tx.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] }); lap('offsets');
              await tx.commit(); lap('commit');
            } else {
              await producer.send({ topic: 'invoices', messages: invoices }); lap('send');
              await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]); lap('commit');
            }
            for (const m of batch.messages) resolveOffset(m.offset);
            done += batch.messages.length;
            last = now();
            t.handler += last - h0;
            if (done >= count) finish();
          },
        });
        await finished;
        const total = now() - t0;
        await consumer.disconnect();
        await producer.disconnect();
        await feeder.disconnect();
        await admin.disconnect();
        await deleteDb(`lanes:${database}`);
        const n = count / perBatch;
        out[`${mode} pass ${pass}`] = { msPerBatch: total / n, ...Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v / n])) };
      }
    }
    return out;
  },
  /**
   * Where broker open goes on the three logs of case (o): raw IndexedDB steps of an open (open
   * the database; read all topic rows; read all producer rows) beside the full lanes open
   * (createClient -> connect -> first send), min and median of `reps` repetitions each.
   */
  async openPhases({ records = 1_000_000, perSend = 1000, topics = 500, reps = 15 } = {}) {
    await cases.open.setup({ records, perSend, topics });
    const { dbs } = state.open;
    const rawOpen = (name) => new Promise((resolve, reject) => {
      const r = indexedDB.open(`lanes:${name}`);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const samples = {};
    const add = (k, v) => (samples[k] ??= []).push(v);
    for (let rep = 0; rep < reps; rep++) {
      for (const which of ['empty', 'big', 'many']) {
        await sleep(100);
        let t0 = now();
        const db = await rawOpen(dbs[which]);
        add(`${which}.rawOpen`, now() - t0);
        t0 = now();
        await reqDone(db.transaction('topics').objectStore('topics').getAll());
        add(`${which}.topicsGetAll`, now() - t0);
        t0 = now();
        await reqDone(db.transaction('producers').objectStore('producers').getAll());
        add(`${which}.producersGetAll`, now() - t0);
        t0 = now();
        await reqDone(db.transaction('meta').objectStore('meta').get('nextProducerId'));
        add(`${which}.oneGet`, now() - t0);
        db.close();
        await sleep(100);
        const topic = which === 'many' ? 't0' : TOPIC;
        t0 = now();
        const client = createClient({ clientId: 'bench-open', database: dbs[which], broker: 'in-page', logCleanerIntervalMs: 0 });
        const producer = client.producer();
        await producer.connect();
        add(`${which}.connect`, now() - t0);
        await producer.send({ topic, messages: [{ value: makeValue(-1) }] });
        add(`${which}.lanes`, now() - t0);
        await producer.disconnect();
      }
    }
    await cases.open.teardown();
    const median = (a) => { const x = [...a].sort((p, q) => p - q); return x.length % 2 ? x[x.length >> 1] : (x[x.length / 2 - 1] + x[x.length / 2]) / 2; };
    return Object.fromEntries(Object.entries(samples).map(([k, a]) => [k, { min: Math.min(...a), median: median(a) }]));
  },

  /**
   * The floor's transaction in variants, per 1,000-record value (ms per transaction, median of
   * `passes` alternating passes): the bench's floor (one Uint8Array put, auto-commit), the same
   * with an explicit `tx.commit()`, a lanes-shaped batch row, and the batch row plus the two
   * small rows (segment, producer state) an append used to write.
   */
  async commitVariants({ calls = 100, perCall = 1000, passes = 5 } = {}) {
    const values = makeValues(0, calls * perCall);
    const enc = new TextEncoder();
    const encoded = chunk(values, perCall).map((c) => enc.encode(c.map((v) => JSON.stringify(v)).join('\n')));
    const row = (i) => ({ topic: TOPIC, partition: 0, baseOffset: i * perCall, lastOffsetDelta: perCall - 1, count: perCall, firstTimestamp: T0, maxTimestamp: T0, timestampType: 'CreateTime', logAppendTime: -1, producerId: 1, producerEpoch: 0, baseSequence: i * perCall, crc: 0, sizeBytes: encoded[i].length + 64, payload: encoded[i], segment: 0, cleanedAt: -1 });
    const seg = (i) => ({ topic: TOPIC, partition: 0, baseOffset: 0, nextOffset: i * perCall, sizeBytes: 0, batchCount: i, recordCount: i * perCall, firstTimestamp: 0, maxTimestamp: 0, createdAt: 0, sealedAt: -1, version: 0 });
    const prod = (i) => ({ producerId: 1, topic: TOPIC, partition: 0, epoch: 0, lastSequence: i, recent: [{ firstSeq: 0, lastSeq: 1, baseOffset: 0, logAppendTime: -1 }], updatedAt: 0 });
    const variants = {
      floorAuto: (os, i) => { os.put(encoded[i]); },
      floorCommit: (os, i, tx) => { os.put(encoded[i]); tx.commit(); },
      rowAuto: (os, i) => { os.put(row(i)); },
      rowCommit: (os, i, tx) => { os.put(row(i)); tx.commit(); },
      row3Auto: (os, i) => { os.put(row(i)); os.put(seg(i)); os.put(prod(i)); },
      row3Commit: (os, i, tx) => { os.put(row(i)); os.put(seg(i)); os.put(prod(i)); tx.commit(); },
    };
    const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let pass = 0; pass <= passes; pass++) {
      const names = Object.keys(variants);
      if (pass % 2) names.reverse();
      for (const v of names) {
        const name = freshName('idb-commit');
        const db = await idbOpen(name);
        await sleep(300);
        const t0 = now();
        for (let i = 0; i < calls; i++) {
          const tx = db.transaction('records', 'readwrite');
          variants[v](tx.objectStore('records'), i, tx);
          await txDone(tx);
        }
        const ms = (now() - t0) / calls;
        db.close();
        await deleteDb(name);
        if (pass > 0) samples[v].push(ms);
      }
    }
    const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
    return Object.fromEntries(Object.entries(samples).map(([k, a]) => [k, { medianMs: median(a), minMs: Math.min(...a) }]));
  },

  /**
   * What a put of a lanes-shaped batch row costs by how the store gets its key (ms per
   * transaction, put + commit(), and ms in the put call alone; median of `passes` alternating
   * passes): in-line keys (keyPath, as lanes' batches store was created: the engine
   * deserializes a copy of the value to read the key), out-of-line keys (the key passed to
   * put), and the floor's bare value with an autoIncrement key.
   */
  async putKeyVariants({ calls = 100, perCall = 1000, passes = 5 } = {}) {
    const values = makeValues(0, calls * perCall);
    const enc = new TextEncoder();
    const encoded = chunk(values, perCall).map((c) => enc.encode(c.map((v) => JSON.stringify(v)).join('\n')));
    const row = (i) => ({ topic: TOPIC, partition: 0, baseOffset: i * perCall, lastOffsetDelta: perCall - 1, count: perCall, firstTimestamp: T0, maxTimestamp: T0, timestampType: 'CreateTime', logAppendTime: -1, producerId: 1, producerEpoch: 0, baseSequence: i * perCall, crc: 0, sizeBytes: encoded[i].length + 64, payload: encoded[i], segment: 0, cleanedAt: -1 });
    const open = (name) => new Promise((resolve, reject) => {
      const r = indexedDB.open(name, 1);
      r.onupgradeneeded = () => {
        r.result.createObjectStore('inline', { keyPath: ['topic', 'partition', 'baseOffset'] });
        r.result.createObjectStore('outOfLine');
        r.result.createObjectStore('floor', { autoIncrement: true });
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const variants = {
      inlineKey: (os, i) => os.put(row(i)),
      outOfLineKey: (os, i) => os.put(row(i), [TOPIC, 0, i * perCall]),
      floor: (os, i) => os.put(encoded[i]),
    };
    const storeOf = { inlineKey: 'inline', outOfLineKey: 'outOfLine', floor: 'floor' };
    const samples = {};
    for (let pass = 0; pass <= passes; pass++) {
      const names = Object.keys(variants);
      if (pass % 2) names.reverse();
      for (const v of names) {
        const name = freshName('idb-putkey');
        const db = await open(name);
        await sleep(300);
        let putMs = 0;
        const t0 = now();
        for (let i = 0; i < calls; i++) {
          const tx = db.transaction(storeOf[v], 'readwrite');
          const p0 = now();
          variants[v](tx.objectStore(storeOf[v]), i);
          putMs += now() - p0;
          tx.commit();
          await txDone(tx);
        }
        const ms = (now() - t0) / calls;
        db.close();
        await deleteDb(name);
        if (pass > 0) {
          (samples[`${v}.txMs`] ??= []).push(ms);
          (samples[`${v}.putCallMs`] ??= []).push(putMs / calls);
        }
      }
    }
    const median = (a) => { const x = [...a].sort((p, q) => p - q); return x.length % 2 ? x[x.length >> 1] : (x[x.length / 2 - 1] + x[x.length / 2]) / 2; };
    return Object.fromEntries(Object.entries(samples).map(([k, a]) => [k, { median: median(a), min: Math.min(...a) }]));
  },

  /** Phases of (a): lanes' encode and CRC per 1,000-record send, raw IndexedDB batch rows, real sends. */
  async producePhases({ calls = 100, perCall = 1000, passes = 4 } = {}) {
    const { encodeRecords, verifyCrc } = await internals();
    const values = makeValues(0, calls * perCall);
    const messages = chunk(values.map((value) => ({ value })), perCall);
    const best = {};
    for (let pass = 0; pass <= passes; pass++) {
      const out = {};
      // 1. lanes encode (validation, JSON.stringify, UTF-8, framing)
      const encoded = [];
      let [ms] = timeIt(() => { for (const m of messages) encoded.push(encodeRecords(m, Date.now(), 'm')); });
      out.encodeMsPerSend = ms / calls;
      // 1b. the same records as pre-stringified strings (no JSON validation/stringify) and as
      // UTF-8 bytes (no text encoding either): what framing, UTF-8 and JSON each cost
      const asStrings = messages.map((m) => m.map(({ value }) => ({ value: JSON.stringify(value) })));
      const asBytes = asStrings.map((m) => m.map(({ value }) => ({ value: new TextEncoder().encode(value) })));
      [ms] = timeIt(() => { for (const m of asStrings) encodeRecords(m, Date.now(), 'm'); });
      out.encodeStringValuesMsPerSend = ms / calls;
      [ms] = timeIt(() => { for (const m of asBytes) encodeRecords(m, Date.now(), 'm'); });
      out.encodeBytesValuesMsPerSend = ms / calls;
      // 2. the JSON.stringify part alone
      [ms] = timeIt(() => { let n = 0; for (const v of values) n += JSON.stringify(v).length; return n; });
      out.stringifyMsPerSend = ms / calls;
      // 3. CRC-32C of each payload (what the appender computes)
      [ms] = timeIt(() => { for (const e of encoded) { try { verifyCrc({ crc: -1, payload: e.payload, topic: 't', partition: 0, baseOffset: 0 }); } catch { /* mismatch on purpose */ } } });
      out.crcMsPerSend = ms / calls;
      out.payloadBytesPerSend = encoded.reduce((n, e) => n + e.payload.length, 0) / calls;
      // 4. raw IndexedDB, one row per 1,000-record batch (a lanes-shaped row), one transaction each
      const name = freshName('idb-batchrows');
      const db = await idbOpen(name);
      let t0 = now();
      for (let i = 0; i < encoded.length; i++) {
        const tx = db.transaction('records', 'readwrite');
        tx.objectStore('records').put({ topic: TOPIC, partition: 0, baseOffset: i * perCall, lastOffsetDelta: perCall - 1, count: perCall, crc: 0, sizeBytes: encoded[i].payload.length, payload: encoded[i].payload });
        await txDone(tx);
      }
      out.idbBatchRowMsPerSend = (now() - t0) / calls;
      // 5. the same with the 3 small rows the appender also writes (segment, producer state)
      t0 = now();
      for (let i = 0; i < encoded.length; i++) {
        const tx = db.transaction('records', 'readwrite');
        const os = tx.objectStore('records');
        os.put({ topic: TOPIC, partition: 0, baseOffset: i * perCall, lastOffsetDelta: perCall - 1, count: perCall, crc: 0, sizeBytes: encoded[i].payload.length, payload: encoded[i].payload });
        os.put({ topic: TOPIC, partition: 0, baseOffset: 0, nextOffset: i * perCall, sizeBytes: 0, batchCount: i, recordCount: i * perCall, firstTimestamp: 0, maxTimestamp: 0, createdAt: 0, sealedAt: -1, version: 0 });
        os.put({ producerId: 1, topic: TOPIC, partition: 0, epoch: 0, lastSequence: i, recent: [{ firstSeq: 0, lastSeq: 1, baseOffset: 0, logAppendTime: -1 }], updatedAt: 0 });
        await txDone(tx);
      }
      out.idbBatchRow3PutsMsPerSend = (now() - t0) / calls;
      db.close();
      await deleteDb(name);
      // 6. real lanes sends, awaited one by one
      const lanes = await openLanes(freshName('phases'));
      await lanes.producer.send({ topic: TOPIC, messages: [{ value: makeValue(-1) }] });
      t0 = now();
      for (const m of messages) await lanes.producer.send({ topic: TOPIC, messages: m });
      out.lanesSendMsPerSend = (now() - t0) / calls;
      // 7. lanes with 4 sends in flight (what an app that does not await each send gets)
      t0 = now();
      const inflight = [];
      for (const m of messages) {
        inflight.push(lanes.producer.send({ topic: TOPIC, messages: m }));
        if (inflight.length >= 4) await inflight.shift();
      }
      await Promise.all(inflight);
      out.lanes4InFlightMsPerSend = (now() - t0) / calls;
      await lanes.close();
      keepBest(best, out, pass);
    }
    best.lanesRecordsPerSec = (perCall * 1000) / best.lanesSendMsPerSend;
    best.lanes4InFlightRecordsPerSec = (perCall * 1000) / best.lanes4InFlightMsPerSend;
    return best;
  },

  /**
   * Timeline of (a)'s awaited 1,000-record send, beside the floor's transaction, from timestamps
   * taken by wrappers of IDBDatabase.transaction, IDBObjectStore.put, IDBTransaction.commit and
   * the transaction's complete event (installed only for this diagnostic): per send, ms from the
   * call to the write transaction's creation (tab + broker JS before IndexedDB), creation to
   * commit() (puts), commit() to complete (the storage backend), complete to the send resolving
   * (JS after the commit); means over `calls` sends (the clock is coarse: 0.1 ms without
   * cross-origin isolation), the best of `passes` passes.
   */
  async sendTimeline({ calls = 100, perCall = 1000, passes = 4 } = {}) {
    const values = makeValues(0, calls * perCall);
    const messages = chunk(values.map((value) => ({ value })), perCall);
    const enc = new TextEncoder();
    const encoded = chunk(values, perCall).map((c) => enc.encode(c.map((v) => JSON.stringify(v)).join('\n')));
    const median = (a) => a.reduce((x, y) => x + y, 0) / a.length;
    let mark = null; // the current send's timestamps, set while a timed send runs
    const P = { tx: IDBDatabase.prototype.transaction, put: IDBObjectStore.prototype.put, commit: IDBTransaction.prototype.commit };
    IDBDatabase.prototype.transaction = function (stores, mode, o) {
      const tx = P.tx.call(this, stores, mode, o);
      if (mark && mode === 'readwrite' && mark.tx === undefined) {
        const m = mark;
        m.tx = now();
        tx.addEventListener('complete', () => { m.complete = now(); });
      }
      return tx;
    };
    IDBObjectStore.prototype.put = function (...a) { if (mark) { mark.puts = (mark.puts ?? 0) + 1; mark.lastPut = now(); } return P.put.apply(this, a); };
    IDBTransaction.prototype.commit = function () { if (mark && mark.commit === undefined) mark.commit = now(); return P.commit.call(this); };
    const best = {};
    try {
      for (let pass = 0; pass <= passes; pass++) {
        const out = {};
        // the floor's transaction (one put, auto-commit), one after another
        const name = freshName('idb-floor-tl');
        const db = await idbOpen(name);
        await sleep(300);
        const floor = [];
        const floorPut = [];
        for (let i = 0; i < calls; i++) {
          const t0 = now();
          const tx = db.transaction('records', 'readwrite');
          tx.objectStore('records').put(encoded[i]);
          floorPut.push(now() - t0);
          await txDone(tx);
          floor.push(now() - t0);
        }
        db.close();
        await deleteDb(name);
        out.floorMs = median(floor);
        out.floorTxAndPutMs = median(floorPut);
        const lanes = await openLanes(freshName('timeline'));
        await lanes.producer.send({ topic: TOPIC, messages: [{ value: makeValue(-1) }] });
        await sleep(300);
        const rows = [];
        for (const m of messages) {
          mark = { start: now() };
          await lanes.producer.send({ topic: TOPIC, messages: m });
          mark.end = now();
          rows.push(mark);
          mark = null;
        }
        await lanes.close();
        out.lanesSendMs = median(rows.map((r) => r.end - r.start));
        out.callToTxMs = median(rows.map((r) => r.tx - r.start));
        out.txToCommitMs = median(rows.map((r) => (r.commit ?? r.lastPut) - r.tx));
        out.commitToCompleteMs = median(rows.map((r) => r.complete - (r.commit ?? r.lastPut)));
        out.completeToResolvedMs = median(rows.map((r) => r.end - r.complete));
        out.putsPerSend = median(rows.map((r) => r.puts ?? 0));
        out.lanesOverFloor = out.floorMs / out.lanesSendMs;
        keepBest(best, out, pass);
      }
    } finally {
      IDBDatabase.prototype.transaction = P.tx;
      IDBObjectStore.prototype.put = P.put;
      IDBTransaction.prototype.commit = P.commit;
    }
    return best;
  },

  /**
   * The read of (d) without the broker and IndexedDB: `records` records decoded from 10 stored
   * batch rows read once, one row at a time with a macrotask turn every 9 rows (one fetch's
   * worth), the heap sampled every 50 ms and after each row. Says whether the decode's garbage
   * alone reaches the (d) read peak.
   */
  async decodePeak({ records = 1_000_000, perSend = 1000, fresh = false } = {}) {
    const { decodeBatch, verifyCrc } = await internals();
    const lanes = await openLanes(freshName('decode-peak'));
    for (let i = 0; i < 10 * perSend; i += perSend) {
      await lanes.producer.send({ topic: TOPIC, messages: makeValues(i, perSend).map((value) => ({ value })) });
    }
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open(`lanes:${lanes.database}`);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const rows = await reqDone(db.transaction('batches', 'readonly').objectStore('batches').getAll());
    db.close();
    await fullGc();
    const before = usedHeap() / MB;
    let peak = 0;
    const timer = setInterval(() => { peak = Math.max(peak, usedHeap()); }, 50);
    const t0 = now();
    let seen = 0;
    for (let k = 0; seen < records; k++) {
      const row = rows[k % rows.length];
      // fresh: each row as a new ArrayBuffer, as a fetch from IndexedDB delivers it
      const b = fresh ? { ...row, payload: row.payload.slice() } : row;
      verifyCrc(b);
      const messages = [];
      decodeBatch(b, messages, 0);
      seen += messages.length;
      peak = Math.max(peak, usedHeap());
      if (k % 9 === 8) await new Promise((r) => setTimeout(r, 0));
    }
    const ms = now() - t0;
    clearInterval(timer);
    await lanes.close();
    return { before, peakMB: peak / MB, rate: seen / (ms / 1000) };
  },

  /**
   * The IndexedDB side of the (d) read alone: `sends` x `perSend` records appended, then the
   * batch rows read back 9 at a time (one fetch's worth) with raw getAll, nothing decoded;
   * heap sampled every 50 ms and after each page.
   */
  async idbReadPeak({ sends = 1000, perSend = 1000, page = 9 } = {}) {
    const lanes = await openLanes(freshName('idb-read-peak'));
    for (let i = 0; i < sends; i++) {
      await lanes.producer.send({ topic: TOPIC, messages: makeValues(i * perSend, perSend).map((value) => ({ value })) });
    }
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open(`lanes:${lanes.database}`);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const keys = await reqDone(db.transaction('batches', 'readonly').objectStore('batches').getAllKeys());
    await fullGc();
    const before = usedHeap() / MB;
    let peak = 0, bytes = 0;
    const timer = setInterval(() => { peak = Math.max(peak, usedHeap()); }, 50);
    const t0 = now();
    for (let i = 0; i < keys.length; i += page) {
      const range = IDBKeyRange.bound(keys[i], keys[Math.min(keys.length, i + page) - 1]);
      const rows = await reqDone(db.transaction('batches', 'readonly').objectStore('batches').getAll(range));
      for (const r of rows) bytes += r.payload?.byteLength ?? 0;
      peak = Math.max(peak, usedHeap());
    }
    const ms = now() - t0;
    clearInterval(timer);
    db.close();
    await lanes.close();
    return { before, peakMB: peak / MB, rows: keys.length, MBps: bytes / MB / (ms / 1000) };
  },

  /** Phases of (c): raw getAll of lanes' batch rows, CRC, decode, and the consumer itself. */
  async consumePhases({ count = 100_000, perSend = 1000, passes = 4 } = {}) {
    const { decodeBatch, verifyCrc } = await internals();
    const lanes = await openLanes(freshName('consume-phases'));
    for (let i = 0; i < count; i += perSend) {
      await lanes.producer.send({ topic: TOPIC, messages: makeValues(i, perSend).map((value) => ({ value })) });
    }
    const best = {};
    const db = await openRawLog(lanes.database);
    for (let pass = 0; pass <= passes; pass++) {
      const out = {};
      let { decodeMs: ms, decoded } = await readStages(db, out, decodeBatch, verifyCrc);
      out.decodeMs = ms;
      out.decodedRecords = decoded.length;
      decoded = null;
      out.eachBatchMs = (await consumeAll(lanes.client, count, 'eachBatch')) * 1000;
      out.eachMessageMs = (await consumeAll(lanes.client, count, 'eachMessage')) * 1000;
      out.eachBatch16MiBMs = (await consumeAll(lanes.client, count, 'eachBatch', { maxBytesPerPartition: 16 * MB, maxBytes: 16 * MB })) * 1000;
      keepBest(best, out, pass);
    }
    db.close();
    await lanes.close();
    best.floorRecordsPerSec = count / ((best.getAllBatchRowsMs + best.crcMs + best.decodeMs) / 1000);
    for (const k of ['eachBatchMs', 'eachMessageMs', 'eachBatch16MiBMs']) best[k.replace('Ms', 'RecordsPerSec')] = count / (best[k] / 1000);
    return best;
  },

  /**
   * (c) stage by stage, in whichever engine runs the page: the raw read of lanes' batch rows, the
   * CRC, decodeBatch split into its parts (framing and message objects, the one UTF-8 decode, the
   * one JSON.parse), the runner's per-record handler loop over decoded messages, and the whole
   * consumer with eachBatch and eachMessage (each best of `passes` after a warm-up).
   */
  async consumeStages({ count = 100_000, perSend = 1000, passes = 4 } = {}) {
    const { decodeBatch, verifyCrc } = await internals();
    const lanes = await openLanes(freshName('consume-stages'));
    for (let i = 0; i < count; i += perSend) {
      await lanes.producer.send({ topic: TOPIC, messages: makeValues(i, perSend).map((value) => ({ value })) });
    }
    const db = await openRawLog(lanes.database);
    const best = {};
    const dec = new TextDecoder();
    for (let pass = 0; pass <= passes; pass++) {
      const out = {};
      let t0;
      let { rows, decodeMs: ms, decoded } = await readStages(db, out, decodeBatch, verifyCrc);
      out.decodeBatchMs = ms;
      // The parts of decodeBatch's JSON path, on texts like the one it builds: one UTF-8 decode
      // of each payload, one JSON.parse of a 1,000-value array text.
      const texts = [];
      [ms] = timeIt(() => { for (const b of rows) texts.push(dec.decode(b.payload)); });
      out.utf8DecodePayloadsMs = ms;
      const arrays = [];
      for (let i = 0; i < decoded.length; i += perSend) arrays.push(`[${decoded.slice(i, i + perSend).map((m) => JSON.stringify(m.value)).join(',')}]`);
      [ms] = timeIt(() => { let n = 0; for (const a of arrays) n += JSON.parse(a).length; return n; });
      out.jsonParseArraysMs = ms;
      [ms] = timeIt(() => { const o = []; for (const m of decoded) o.push({ key: null, value: null, headers: {}, timestamp: String(1_700_000_000_000 + o.length), offset: String(o.length), attributes: 0, size: 104 }); return o.length; });
      out.messageObjectsMs = ms;
      // The runner's eachMessage loop over decoded messages: a payload object, an awaited async handler.
      let seen = 0;
      const each = async () => { seen++; };
      t0 = now();
      for (const message of decoded) {
        const payload = { topic: TOPIC, partition: 0, message, heartbeat: null, pause: null };
        try { await each(payload); } catch { /* none */ }
        seen += Number(message.offset) & 0;
      }
      out.awaitLoopMs = now() - t0;
      decoded = null;
      out.eachBatchMs = (await consumeAll(lanes.client, count, 'eachBatch')) * 1000;
      out.eachMessageMs = (await consumeAll(lanes.client, count, 'eachMessage')) * 1000;
      keepBest(best, out, pass);
    }
    db.close();
    await lanes.close();
    best.engine = navigator.userAgent;
    for (const k of ['eachBatchMs', 'eachMessageMs']) best[k.replace('Ms', 'RecordsPerSec')] = Math.round(count / (best[k] / 1000));
    return best;
  },

  /** `rounds` reads of `count` records with one handler kind (for an engine's profiler): records/s of each. */
  async consumeRounds({ count = 100_000, perSend = 1000, rounds = 4, mode = 'eachMessage' } = {}) {
    const lanes = await openLanes(freshName('consume-rounds'));
    for (let i = 0; i < count; i += perSend) {
      await lanes.producer.send({ topic: TOPIC, messages: makeValues(i, perSend).map((value) => ({ value })) });
    }
    const perSec = [];
    performance.mark('consume-rounds-start');
    for (let i = 0; i < rounds; i++) perSec.push(Math.round(count / await consumeAll(lanes.client, count, mode)));
    performance.mark('consume-rounds-end');
    await lanes.close();
    return { mode, perSec };
  },

  /** Heap after a forced GC at points during a 1M-record eachBatch read: retention vs garbage. */
  async readRetention({ sends = 1000, perSend = 1000, points = 4, wakeEachBatch = false, gcs = 1, consumerConfig = {} } = {}) {
    const lanes = await openLanes(freshName('retention'));
    for (let i = 0; i < sends; i++) {
      await lanes.producer.send({ topic: TOPIC, messages: makeValues(i * perSend, perSend).map((value) => ({ value })) });
    }
    await fullGc();
    const before = usedHeap() / MB;
    const n = sends * perSend;
    const consumer = lanes.client.consumer(consumerConfig);
    await consumer.connect();
    consumer.assign([{ topic: TOPIC, partition: 0, offset: '0' }]);
    const marks = [];
    let seen = 0;
    let next = n / points;
    let fetches = 0;
    consumer.on(consumer.events.FETCH, () => { fetches++; });
    let finish;
    const finished = new Promise((r) => { finish = r; });
    let peak = 0;
    const timer = setInterval(() => { peak = Math.max(peak, usedHeap()); }, 50);
    const readStarted = performance.now();
    await consumer.run({
      eachBatch: async ({ batch }) => {
        peak = Math.max(peak, usedHeap());
        seen += batch.messages.length;
        // resume([]) changes nothing but wakes (and so empties) the runner's positions.changed()
        // waiters: if the heap then stays flat, those waiters are what holds the fetched batches.
        if (wakeEachBatch) consumer.resume([]);
        if (seen >= next) {
          next += n / points;
          const once = usedHeap();
          window.gc();
          const first = usedHeap();
          for (let i = 1; i < gcs; i++) window.gc();
          marks.push({ seen, beforeMB: once / MB, heapMB: first / MB, ...(gcs > 1 ? { againMB: usedHeap() / MB } : {}) });
        }
        if (seen >= n) finish();
      },
    });
    await finished;
    clearInterval(timer);
    await consumer.stop();
    await fullGc();
    const afterStop = usedHeap() / MB;
    await consumer.disconnect();
    await fullGc();
    const afterDisconnect = usedHeap() / MB;
    await lanes.close();
    const readMs = performance.now() - readStarted;
    return { before, marks, peakMB: peak / MB, afterStop, afterDisconnect, fetches, recordsPerFetch: n / fetches, readRate: n / (readMs / 1000) };
  },

  /** UTF-8 of 100-byte ASCII strings: the platform codecs against JS loops, per call. */
  codecMicro({ n = 100_000, passes = 4 } = {}) {
    const strings = makeValues(0, 1000).map((v) => JSON.stringify(v));
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const buf = new Uint8Array(1 << 20);
    const best = {};
    for (let pass = 0; pass <= passes; pass++) {
      const out = {};
      let [ms] = timeIt(() => { let w = 0; for (let i = 0; i < n; i++) w += enc.encodeInto(strings[i % 1000], buf.subarray(0, 300)).written; return w; });
      out.encodeIntoNs = (ms * 1e6) / n;
      // what lanes' writeUtf8 does: encodeInto a view from the write position to the end of a large scratch buffer
      [ms] = timeIt(() => { let w = 0, p = 0; for (let i = 0; i < n; i++) { w += enc.encodeInto(strings[i % 1000], buf.subarray(p)).written; p = (p + 110) % 200_000; } return w; });
      out.encodeIntoOpenViewNs = (ms * 1e6) / n;
      [ms] = timeIt(() => {
        let w = 0;
        for (let i = 0; i < n; i++) { const s = strings[i % 1000]; const l = s.length; for (let j = 0; j < l; j++) buf[j] = s.charCodeAt(j); w += l; }
        return w;
      });
      out.jsLoopEncodeNs = (ms * 1e6) / n;
      const bytes = enc.encode(strings[0]);
      const len = bytes.length;
      buf.set(bytes, 0);
      [ms] = timeIt(() => { let w = 0; for (let i = 0; i < n; i++) w += dec.decode(buf.subarray(0, len)).length; return w; });
      out.textDecoderNs = (ms * 1e6) / n;
      [ms] = timeIt(() => {
        let w = 0;
        for (let i = 0; i < n; i++) {
          const sub = buf.subarray(0, len);
          let ascii = true;
          for (let j = 0; j < len; j++) if (sub[j] >= 0x80) { ascii = false; break; }
          w += (ascii ? String.fromCharCode.apply(null, sub) : dec.decode(sub)).length;
        }
        return w;
      });
      out.fromCharCodeApplyNs = (ms * 1e6) / n;
      [ms] = timeIt(() => { let w = 0; for (let i = 0; i < n; i++) w += JSON.parse(strings[i % 1000]).id; return w; });
      out.jsonParseNs = (ms * 1e6) / n;
      [ms] = timeIt(() => { let w = 0; for (let i = 0; i < n; i++) w += JSON.stringify(JSON.parse(strings[i % 1000])).length; return w; });
      out.jsonParseStringifyNs = (ms * 1e6) / n;
      keepBest(best, out, pass);
    }
    return best;
  },
};

/** What bench/run.mjs drives. */
export const bench = {
  cases,
  diag,
  info: () => ({ userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency, hasGc: typeof window.gc === 'function', preciseMemory: !!performance.memory }),
  fullGc,
  usedHeap,
};
