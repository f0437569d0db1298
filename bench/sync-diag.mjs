#!/usr/bin/env node
// Profiles one upload of the sync suite's backlog (case (s)): the page under the V8 sampling
// profiler (CDP) and the replica server (in this process) under node:inspector, and prints the
// top functions of each by self time and the wall time. Uses the built bundle and dist/node/.
//
//   node bench/sync-diag.mjs [records]
import { Session } from 'node:inspector/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEnv, topFunctions, writeFileEnsured } from './lib/harness.mjs';

const RECORDS = Number(process.argv[2] ?? 100_000);
const dist = new URL('../dist/node/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);
const { createReplicaHttpServer } = await load('replica/http-server.js');
const { createAuthenticator, mintToken } = await load('replica/auth.js');
const { createLogger } = await load('replica/log.js');
const { SqliteStore } = await load('replica/stores/sqlite-store.js');
const dir = mkdtempSync(join(tmpdir(), 'lanes-sync-diag-'));
const store = new SqliteStore({ dataDir: dir });
const http = createReplicaHttpServer({ store, auth: createAuthenticator({ secret: 's' }), logger: createLogger('error'), allowOrigins: ['*'] });
const url = await http.listen('127.0.0.1', 0);
const token = await mintToken('s', 'diag');
const env = await startEnv();
const session = new Session();
session.connect();
try {
  const page = await env.openPage('/bench/sync.html');
  const call = (fn, ...args) => page.evaluate(([f, a]) => window.syncBench[f](...a), [fn, args]);
  const database = `sync-diag-${Date.now()}`;
  const { bytes } = await call('backlog', database, RECORDS);
  // Stage timings: every push request's span in the page (fetch called -> answer read) and every
  // store append's span in the server (checked batches -> fsynced commit).
  await page.evaluate(() => {
    const spans = (window.pushSpans = []);
    const real = window.fetch;
    window.fetch = async (url, init) => {
      if (!String(url).endsWith('/v1/push')) return real(url, init);
      const t0 = performance.now();
      const res = await real(url, init);
      const body = await res.clone().arrayBuffer();
      spans.push({ t0, t1: performance.now(), bytes: init.body.byteLength ?? 0, answer: body.byteLength });
      return res;
    };
  });
  const appendSpans = [];
  const realAppend = store.append.bind(store);
  store.append = async (...a) => { const t0 = performance.now(); try { return await realAppend(...a); } finally { appendSpans.push(performance.now() - t0); } };
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await session.post('Profiler.start');
  const tStart = await page.evaluate(() => performance.now());
  const { ms } = await call('upload', database, url, token, RECORDS);
  const { profile: server } = await session.post('Profiler.stop');
  const { profile: pageProfile } = await cdp.send('Profiler.stop');
  writeFileEnsured(new URL('./profiles/sync-page.cpuprofile', import.meta.url).pathname, JSON.stringify(pageProfile));
  writeFileEnsured(new URL('./profiles/sync-server.cpuprofile', import.meta.url).pathname, JSON.stringify(server));
  console.log(`upload of ${RECORDS} records, ${bytes} stored bytes: ${ms.toFixed(0)} ms (profilers on)`);
  const spans = await page.evaluate(() => window.pushSpans);
  const first = Math.min(...spans.map((x) => x.t0)), last = Math.max(...spans.map((x) => x.t1));
  let busy = 0, end = -Infinity, maxOpen = 0;
  for (const x of [...spans].sort((a, b) => a.t0 - b.t0)) { busy += Math.max(0, x.t1 - Math.max(x.t0, end)); end = Math.max(end, x.t1); }
  for (const x of spans) maxOpen = Math.max(maxOpen, spans.filter((y) => y.t0 <= x.t0 && y.t1 > x.t0).length);
  const sum = (a) => a.reduce((n, x) => n + x, 0);
  console.log(`push requests: ${spans.length}, ${(sum(spans.map((x) => x.bytes)) / 1e6).toFixed(2)} MB sent (gzipped); each open ${(sum(spans.map((x) => x.t1 - x.t0)) / spans.length).toFixed(0)} ms on average; most open at once ${maxOpen}`);
  console.log(`first request ${(first - tStart).toFixed(0)} ms after the upload began (broker open, sync start, first read and gzip); a request open during ${busy.toFixed(0)} of the ${(last - first).toFixed(0)} ms from first send to last answer`);
  console.log(`server store appends: ${appendSpans.length}, ${sum(appendSpans).toFixed(0)} ms in all (checked batches -> fsynced commit)`);
  for (const [name, p] of [['page', pageProfile], ['server', server]]) {
    const top = topFunctions(p);
    console.log(`\n${name}: ${top.totalMs.toFixed(0)} ms sampled`);
    for (const r of top.rows.slice(0, 22)) console.log(`${r.ms.toFixed(1).padStart(8)} ms  ${r.name}`);
  }
  await page.close();
} finally {
  session.disconnect();
  await env.close();
  await http.close();
  rmSync(dir, { recursive: true, force: true });
}
