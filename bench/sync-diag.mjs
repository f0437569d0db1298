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
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await session.post('Profiler.start');
  const { ms } = await call('upload', database, url, token, RECORDS);
  const { profile: server } = await session.post('Profiler.stop');
  const { profile: pageProfile } = await cdp.send('Profiler.stop');
  writeFileEnsured(new URL('./profiles/sync-page.cpuprofile', import.meta.url).pathname, JSON.stringify(pageProfile));
  writeFileEnsured(new URL('./profiles/sync-server.cpuprofile', import.meta.url).pathname, JSON.stringify(server));
  console.log(`upload of ${RECORDS} records, ${bytes} stored bytes: ${ms.toFixed(0)} ms`);
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
