// The multi-tab suite: one broker per origin (SharedWorker) and consumer groups across tabs.
// Custom cases: each round opens its own tabs (pages of one browser context) on bench/tabs.html.
import { formatValue as fmt } from '../lib/harness.mjs';

const PAGE = '/bench/tabs.html';
let seq = 0;
const dbName = (what) => `bench-${what}-${Date.now()}-${seq++}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hrNow = () => performance.timeOrigin + performance.now();

async function waitUntil(what, check, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const tabCall = (page, fn, ...args) => page.evaluate(([f, a]) => window.tab[f](...a), [fn, args]);

async function openTabs(env, n, query = '') {
  const pages = [];
  for (let i = 0; i < n; i++) pages.push(await env.openPage(PAGE + query));
  return pages;
}

/** (e) produce in one tab -> eachMessage in another; baseline: BroadcastChannel between the same tabs. */
async function latency(env, { rounds }, query = '') {
  const out = [];
  for (let r = 0; r < rounds; r++) {
    const [a, b] = await openTabs(env, 2, query);
    const database = dbName('latency');
    await tabCall(a, 'createTopic', database, 'lat', 1);
    await tabCall(b, 'startLatencyConsumer', database, 'lat');
    await tabCall(a, 'sendTimed', database, 'lat', 20, 2); // warm-up: JIT, metadata, broker paths
    await waitUntil('warm-up delivered', async () => (await tabCall(b, 'latencies')).length >= 20);
    await b.evaluate(() => window.tab.latencies().splice(0));
    const count = 300;
    await tabCall(a, 'sendTimed', database, 'lat', count, 3);
    const lat = await waitUntil('records delivered', async () => { const l = await tabCall(b, 'latencies'); return l.length >= count ? l : false; });
    const channel = `bench-ping-${seq++}`;
    await tabCall(b, 'listenPing', channel);
    await tabCall(a, 'sendPings', channel, count, 3);
    const pings = await waitUntil('pings delivered', async () => { const l = await tabCall(b, 'pings'); return l.length >= count ? l : false; });
    out.push({ p50: percentile(lat, 50), p99: percentile(lat, 99), pingP50: percentile(pings, 50), pingP99: percentile(pings, 99) });
    await tabCall(b, 'stop');
    await a.close();
    await b.close();
  }
  return out;
}

/** (f) a tab crashes: time until another tab processes a record of a partition the crashed tab had. */
async function takeover(env, { rounds }, query = '') {
  const out = [];
  for (let r = 0; r < rounds; r++) {
    const [producer, a, b] = await openTabs(env, 3, query);
    const database = dbName('takeover');
    await tabCall(producer, 'createTopic', database, 'jobs', 2);
    await tabCall(a, 'startTakeoverConsumer', database, 'jobs');
    await tabCall(b, 'startTakeoverConsumer', database, 'jobs');
    await waitUntil('one partition each', async () => (await tabCall(a, 'assignment')).length === 1 && (await tabCall(b, 'assignment')).length === 1);
    const [lost] = await tabCall(a, 'assignment');
    const probe = `bench-probe-${seq++}`;
    await tabCall(a, 'holdLock', probe);
    await tabCall(b, 'waitLock', probe);
    void producer.evaluate(([d]) => window.tab.produceContinuously(d, 'jobs', 2, 2), [database]);
    await waitUntil('both consuming', async () => Object.keys(await tabCall(b, 'seen')).length === 1 && Object.keys(await tabCall(a, 'seen')).length === 1);
    const cdp = await env.context.newCDPSession(a);
    const crashedAt = hrNow();
    void cdp.send('Page.crash').catch(() => undefined);
    const seen = await waitUntil('b processed the lost partition', async () => { const s = await tabCall(b, 'seen'); return s[lost] ? s : false; });
    const granted = await tabCall(b, 'lockGranted');
    out.push({ takeover: seen[lost] - crashedAt, lockRelease: granted - crashedAt });
    await tabCall(producer, 'stopProducing');
    await tabCall(b, 'stop');
    for (const p of [producer, a, b]) await p.close().catch(() => undefined);
  }
  return out;
}

/** (g) 600k records on 6 partitions consumed by a group of 3 tabs; baseline: one tab alone. */
async function throughput(env, { rounds }, query = '') {
  const out = [];
  const total = 600_000;
  for (let r = 0; r < rounds; r++) {
    const [filler, t1, t2, t3] = await openTabs(env, 4, query);
    const database = dbName('throughput');
    await tabCall(filler, 'createTopic', database, 'big', 6);
    await tabCall(filler, 'fill', database, 'big', total, 6, 1000);
    const run = async (tabs, groupId) => {
      for (const t of tabs) await tabCall(t, 'startCounter', database, 'big', groupId);
      await waitUntil('balanced', async () => {
        const a = await Promise.all(tabs.map((t) => tabCall(t, 'assignment')));
        return a.every((x) => x.length === 6 / tabs.length);
      });
      await sleep(200); // let every member pause its partitions
      const goAt = Math.min(...(await Promise.all(tabs.map((t) => tabCall(t, 'go', 'big')))));
      const done = await waitUntil('all consumed', async () => {
        const c = await Promise.all(tabs.map((t) => tabCall(t, 'counted')));
        return c.reduce((n, x) => n + x.count, 0) >= total ? c : false;
      }, 120_000);
      for (const t of tabs) await tabCall(t, 'stop');
      return total / ((Math.max(...done.map((x) => x.last)) - goAt) / 1000);
    };
    const single = await run([t1], 'alone');
    const group3 = await run([t1, t2, t3], 'three');
    out.push({ group3, single });
    for (const p of [filler, t1, t2, t3]) await p.close();
  }
  return out;
}

/** @type {import('../lib/harness.mjs').Suite} */
export const groupsSuite = {
  name: 'groups',
  title: 'One broker per origin, consumer groups across tabs (SharedWorker broker)',
  page: PAGE,
  cases: [
    {
      id: 'e',
      name: 'latency',
      title: '(e) produce in one tab -> eachMessage in another',
      description:
        'Tab A sends 300 one-record messages (3 ms apart) carrying their send time; tab B, a group consumer of the 1-partition topic ' +
        '(waiting at the log end in a long-poll fetch), records arrival - send time in eachMessage, with the high-resolution time origin ' +
        'both tabs share. Broker in the SharedWorker. Baseline: 300 BroadcastChannel messages from A to B, measured the same way in the same round.',
      run: (env, o) => latency(env, o),
      maxRounds: 5,
      rows: [
        { label: '(e) latency p50', metric: 'p50', baseline: 'pingP50', unit: 'ms', goal: { kind: 'max', value: 3 } },
        { label: '(e) latency p99', metric: 'p99', baseline: 'pingP99', unit: 'ms' },
      ],
    },
    {
      id: 'f',
      name: 'takeover',
      title: '(f) a crashed tab\'s partitions consumed by another tab',
      description:
        'Two group tabs on a 2-partition topic (sessionTimeout 60 s) while a third tab produces to both partitions every 2 ms; tab A is ' +
        'crashed with DevTools `Page.crash`. Measured: crash -> the first record of A\'s partition processed by tab B. Baseline: crash -> ' +
        'tab B granted a Web Lock tab A held (the signal lanes uses), same round.',
      run: (env, o) => takeover(env, o),
      maxRounds: 7,
      rows: [
        { label: '(f) crash -> partitions consumed', metric: 'takeover', baseline: 'lockRelease', unit: 'ms', goal: { kind: 'max', value: 100 } },
      ],
      notes: () => ['(f) Kafka\'s default session timeout, the time a broker-side detection would take, is 45,000 ms.'],
    },
    {
      id: 'e2',
      name: 'latency-leader-tab',
      title: '(e2) the same latency with the leader-tab broker (no SharedWorker)',
      description:
        'As (e), with `window.SharedWorker` removed: the first tab holds the broker lock and hosts the broker; the other reaches it over ' +
        'BroadcastChannel. For browsers without SharedWorker (Android Chrome before 148, WebViews). Informational.',
      run: (env, o) => latency(env, o, '?noSharedWorker'),
      maxRounds: 5,
      rows: [
        { label: '(e2) latency p50, leader tab', metric: 'p50', baseline: 'pingP50', unit: 'ms' },
        { label: '(e2) latency p99, leader tab', metric: 'p99', baseline: 'pingP99', unit: 'ms' },
      ],
    },
    {
      id: 'f2',
      name: 'takeover-leader-tab',
      title: '(f2) crash takeover with the leader-tab broker (no SharedWorker)',
      description: 'As (f), with `window.SharedWorker` removed; the producer tab, opened first, hosts the broker. Informational.',
      run: (env, o) => takeover(env, o, '?noSharedWorker'),
      maxRounds: 7,
      rows: [
        { label: '(f2) crash -> partitions consumed, leader tab', metric: 'takeover', baseline: 'lockRelease', unit: 'ms' },
      ],
    },
    {
      id: 'g',
      name: 'group-throughput',
      title: '(g) group throughput, 3 tabs',
      description:
        '600k records (~100-byte JSON values) pre-produced on 6 partitions; three tabs join one group (2 partitions each), paused until all ' +
        'joined, then count with eachBatch; records/s = 600k / (last record - go). Baseline: one tab alone consuming the same 600k, same round.',
      run: (env, o) => throughput(env, o),
      maxRounds: 3,
      rows: [
        { label: '(g) group of 3 tabs', metric: 'group3', baseline: 'single', unit: 'records/s', goal: { kind: 'min', value: 300_000 } },
      ],
      notes: (s) => [`(g) one tab alone: ${fmt(s.single.median, 'records/s')} records/s.`],
    },
  ],
};
