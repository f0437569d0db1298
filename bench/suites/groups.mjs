// The multi-tab suite: one broker per origin (SharedWorker) and consumer groups across tabs.
// Custom cases: each round opens its own tabs (pages of one browser context) on bench/tabs.html.
import { readdirSync, readFileSync } from 'node:fs';
import { formatValue as fmt, topFunctions } from '../lib/harness.mjs';

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
    if (!(await a.evaluate(() => crossOriginIsolated))) console.warn('[bench] (e): the tabs are not cross-origin isolated; times are in 100 µs steps');
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
    const trips = await tabCall(a, 'roundTrips', channel, count, 3);
    out.push({ p50: percentile(lat, 50), p99: percentile(lat, 99), pingP50: percentile(pings, 50), pingP99: percentile(pings, 99), tripP50: percentile(trips, 50), tripP99: percentile(trips, 99) });
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

/**
 * CPU time (ms) used so far by the browser this process started, per kind of Chromium process:
 * `browser` (it runs IndexedDB), `renderer` (tabs and the SharedWorker) and `other` (GPU,
 * network, utility). Linux only (/proc); empty elsewhere.
 */
function browserCpu() {
  const out = { browser: 0, renderer: 0, other: 0 };
  let entries;
  try { entries = readdirSync('/proc'); } catch { return out; }
  const parent = new Map();
  const info = new Map();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(e), Number(f[1]));
      info.set(Number(e), { ticks: Number(f[11]) + Number(f[12]), cmd: readFileSync(`/proc/${e}/cmdline`, 'utf8') });
    } catch { /* gone meanwhile */ }
  }
  const mine = (pid) => { for (let p = pid, n = 0; p > 1 && n < 20; p = parent.get(p) ?? 0, n++) if (p === process.pid) return true; return false; };
  for (const [pid, { ticks, cmd }] of info) {
    if (pid === process.pid || !mine(pid) || !cmd.includes('chrom')) continue;
    const kind = !cmd.includes('--type=') ? 'browser' : cmd.includes('--type=renderer') ? 'renderer' : 'other';
    out[kind] += ticks * 10; // USER_HZ is 100 on Linux
    out[`pid${pid}`] = ticks * 10;
  }
  return out;
}

/**
 * (g) 600k records on 6 partitions consumed by one tab alone, a group of 3 tabs and a group of
 * 6 tabs, in the same round and on the same log; the order of the three runs rotates from round
 * to round, so none of them always gets the warmest (or the most compacted) storage.
 */
async function throughput(env, { rounds }, query = '') {
  const out = [];
  const total = 600_000;
  for (let r = 0; r < rounds; r++) {
    const [filler, ...tabs] = await openTabs(env, 7, query);
    const database = dbName('throughput');
    await tabCall(filler, 'createTopic', database, 'big', 6);
    await tabCall(filler, 'fill', database, 'big', total, 6, 1000);
    // Every tab first reads a small topic on its own, so no run measures a tab's first
    // decode (JIT warm-up): tabs of an app are long-lived, like the pages of the log suite.
    await tabCall(filler, 'createTopic', database, 'warm', 6);
    await tabCall(filler, 'fill', database, 'warm', 30_000, 6, 1000);
    await Promise.all(tabs.map(async (t, i) => {
      await tabCall(t, 'startCounter', database, 'warm', `warm-${r}-${i}`);
      await tabCall(t, 'go', 'warm');
      await waitUntil('warm-up read', async () => (await tabCall(t, 'counted')).count >= 30_000, 120_000);
      await tabCall(t, 'stop');
    }));
    const run = async (members, groupId) => {
      for (const t of members) await tabCall(t, 'startCounter', database, 'big', groupId);
      await waitUntil('balanced', async () => {
        const a = await Promise.all(members.map((t) => tabCall(t, 'assignment')));
        return a.every((x) => x.length === 6 / members.length);
      });
      await sleep(200); // let every member pause its partitions
      // BENCH_G_PROFILE=1: a V8 CPU profile of the first member over the run, top functions printed.
      const cdp = process.env.BENCH_G_PROFILE ? await env.context.newCDPSession(members[0]) : null;
      if (cdp) { await cdp.send('Profiler.enable'); await cdp.send('Profiler.setSamplingInterval', { interval: 200 }); await cdp.send('Profiler.start'); }
      const cpuBefore = browserCpu();
      const goAt = Math.min(...(await Promise.all(members.map((t) => tabCall(t, 'go', 'big')))));
      const done = await waitUntil('all consumed', async () => {
        const c = await Promise.all(members.map((t) => tabCall(t, 'counted')));
        return c.reduce((n, x) => n + x.count, 0) >= total ? c : false;
      }, 180_000);
      const cpuAfter = browserCpu();
      if (cdp) {
        const { profile } = await cdp.send('Profiler.stop');
        const top = topFunctions(profile); console.log(`[profile] first of ${members.length} tabs, ${top.totalMs.toFixed(0)} ms:\n${top.rows.slice(0, 14).map((f) => `  ${JSON.stringify(f)}`).join('\n')}`);
        await cdp.detach();
      }
      for (const t of members) await tabCall(t, 'stop');
      const cpu = {};
      for (const k of Object.keys(cpuAfter)) cpu[k] = (cpuAfter[k] - (cpuBefore[k] ?? 0)) / (total / 1000);
      if (process.env.BENCH_CPU_DETAIL) console.log(`[cpu] ${members.length} tabs fetches ${done.map((x) => `${x.fetches}/${x.batches}b/${x.count}r`).join(' ')}`, Object.entries(cpu).filter(([, v]) => v > 0.02).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(' '));
      return { rate: total / ((Math.max(...done.map((x) => x.last)) - goAt) / 1000), cpu };
    };
    const runs = [['single', () => run(tabs.slice(0, 1), `alone-${r}`)], ['group3', () => run(tabs.slice(0, 3), `three-${r}`)], ['group6', () => run(tabs, `six-${r}`)]];
    const metrics = {};
    for (let i = 0; i < runs.length; i++) {
      const [name, go] = runs[(i + r) % runs.length];
      const { rate, cpu } = await go();
      metrics[name] = rate;
      // CPU ms per 1,000 records, all browser processes, and split by process kind.
      metrics[`${name}Cpu`] = cpu.browser + cpu.renderer + cpu.other;
      metrics[`${name}CpuBrowser`] = cpu.browser;
      metrics[`${name}CpuRenderer`] = cpu.renderer;
    }
    out.push(metrics);
    for (const p of [filler, ...tabs]) await p.close();
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
        'both tabs share. Broker in the SharedWorker. Baseline: 300 BroadcastChannel messages from A to B, measured the same way in the same round. ' +
        'The tabs are cross-origin isolated (the bench server sends COOP/COEP for bench/tabs.html), so both clocks read to 5 µs instead of ' +
        '100 µs: a one-way BroadcastChannel message takes 0.2-0.4 ms, which 100 µs steps measured as 0.2, 0.3 or 0.5. The goal is judged ' +
        'against the one-way message; the same latency against a BroadcastChannel round trip (A -> B -> A, measured in A, same round) is ' +
        'reported beside it for reference.',
      run: (env, o) => latency(env, o),
      maxRounds: 5,
      rows: [
        { label: '(e) latency p50', metric: 'p50', baseline: 'pingP50', unit: 'ms', goal: { kind: 'ratioMax', max: 5 } },
        { label: '(e) latency p99', metric: 'p99', baseline: 'pingP99', unit: 'ms', goal: { kind: 'ratioMax', max: 10 } },
        { label: '(e) latency p50 against a BroadcastChannel round trip', metric: 'p50', baseline: 'tripP50', unit: 'ms' },
        { label: '(e) latency p99 against a BroadcastChannel round trip', metric: 'p99', baseline: 'tripP99', unit: 'ms' },
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
      title: '(g) group throughput, 3 and 6 tabs',
      description:
        '600k records (~100-byte JSON values) pre-produced on 6 partitions; three tabs join one group (2 partitions each), or six tabs ' +
        '(1 partition each), paused until all joined, then count with eachBatch; records/s = 600k / (last record - go). Baseline: one tab ' +
        'alone consuming the same 600k, same round. The three runs of a round go in a rotating order, after every tab has read a ' +
        'small topic once (no run measures a tab\'s first decode). CPU rows: ms of CPU all browser processes used per 1,000 records (/proc).',
      run: (env, o) => throughput(env, o),
      maxRounds: 3,
      rows: [
        { label: '(g) group of 3 tabs', metric: 'group3', baseline: 'single', unit: 'records/s', goal: { kind: 'ratio', min: 1 } },
        { label: '(g) group of 6 tabs', metric: 'group6', baseline: 'single', unit: 'records/s' },
        { label: '(g) CPU per 1k records, 3 tabs', metric: 'group3Cpu', baseline: 'singleCpu', unit: 'ms' },
        { label: '(g) CPU per 1k records, 6 tabs', metric: 'group6Cpu', baseline: 'singleCpu', unit: 'ms' },
        { label: '(g) of it in tabs + worker, 3 tabs', metric: 'group3CpuRenderer', baseline: 'singleCpuRenderer', unit: 'ms' },
        { label: '(g) of it in the browser process (IndexedDB), 3 tabs', metric: 'group3CpuBrowser', baseline: 'singleCpuBrowser', unit: 'ms' },
      ],
      notes: (s) => [`(g) one tab alone: ${fmt(s.single.median, 'records/s')} records/s.`],
    },
  ],
};
