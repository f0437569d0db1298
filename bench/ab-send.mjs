#!/usr/bin/env node
// Awaited 1,000-record sends of two (or more) versions of the client, alternating in one page,
// beside the pre-encoded floor of case (a). On a shared machine the load moves every figure by
// tens of percent between runs; versions measured in turns of 4 sends, in the same page and
// the same minutes, compare far better than two bench runs one after the other.
//
//   node bench/ab-send.mjs REF[,REF...] [--passes N] [--browser chromium|firefox]
//
// REF is a git ref (its src/ is taken with `git archive`) or `.` for the working tree. Each is
// bundled with esbuild (code splitting, as the page loads the in-page broker on demand) into
// .tmp/ab-send/<name>/. A pass creates a fresh database per version and a fresh floor
// database, then sends the same 100 x 1,000 records (the values of case (a)) through every
// version, 4 sends at a time in turns (order reversed every turn). Printed per version: the
// median and best of the passes' mean time per send, the floor's median over the lanes median,
// and the median of the per-pass ratios to the first version (paired, so load cancels out).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startEnv } from './lib/harness.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const refs = (args.find((a) => !a.startsWith('--')) ?? 'HEAD,.').split(',');
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const passes = Number(opt('passes', 8));
const engine = opt('browser', 'chromium');

const OUT = join(ROOT, '.tmp', 'ab-send');
const names = refs.map((r, i) => `${i}-${r === '.' ? 'worktree' : r.replace(/[^\w.-]/g, '_')}`);
for (const [i, ref] of refs.entries()) {
  let srcRoot = ROOT;
  if (ref !== '.') {
    srcRoot = join(OUT, `${names[i]}-src`);
    rmSync(srcRoot, { recursive: true, force: true });
    mkdirSync(srcRoot, { recursive: true });
    const tar = execFileSync('git', ['archive', ref, 'src'], { cwd: ROOT, maxBuffer: 1 << 28 });
    execFileSync('tar', ['-x', '-C', srcRoot], { input: tar });
  }
  rmSync(join(OUT, names[i]), { recursive: true, force: true });
  // nodePaths: a ref's sources outside the repository still find its node_modules (idb).
  await build({ entryPoints: [join(srcRoot, 'src/index.ts')], bundle: true, splitting: true, format: 'esm', target: 'es2022', outdir: join(OUT, names[i]), nodePaths: [join(ROOT, 'node_modules')], logLevel: 'warning' });
}

const env = await startEnv({ engine });
try {
  const page = await env.openPage('/bench/log.html');
  const load0 = loadavg()[0];
  const out = await page.evaluate(async ([names, passes]) => {
    const mods = {};
    for (const n of names) mods[n] = await import(`/.tmp/ab-send/${n}/index.js`);
    const { makeValue } = await import('/bench/log-bench.js');
    const values = Array.from({ length: 100_000 }, (_, i) => makeValue(i));
    const messages = Array.from({ length: 100 }, (_, c) => values.slice(c * 1000, c * 1000 + 1000).map((value) => ({ value })));
    const enc = new TextEncoder();
    const encoded = Array.from({ length: 100 }, (_, c) => enc.encode(values.slice(c * 1000, c * 1000 + 1000).map((v) => JSON.stringify(v)).join('\n')));
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const del = (name) => new Promise((r) => { const q = indexedDB.deleteDatabase(name); q.onsuccess = r; q.onerror = r; });
    const floor = async () => {
      const name = `ab-floor-${Math.random().toString(36).slice(2)}`;
      const db = await new Promise((res, rej) => { const r = indexedDB.open(name, 1); r.onupgradeneeded = () => r.result.createObjectStore('records', { autoIncrement: true }); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      await sleep(200);
      const t0 = performance.now();
      for (const e of encoded) { const tx = db.transaction('records', 'readwrite'); tx.objectStore('records').put(e); await new Promise((r) => { tx.oncomplete = r; }); }
      const ms = (performance.now() - t0) / encoded.length;
      db.close();
      await del(name);
      return ms;
    };
    const res = { floor: [] };
    for (const n of names) res[n] = [];
    for (let pass = 0; pass < passes; pass++) {
      res.floor.push(await floor());
      const open = {};
      for (const n of names) {
        const database = `ab-${Math.random().toString(36).slice(2)}`;
        const client = mods[n].createClient({ clientId: 'ab', database, broker: 'in-page', logCleanerIntervalMs: 0 });
        const admin = client.admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic: 'bench', numPartitions: 1 }] });
        const producer = client.producer();
        await producer.connect();
        await producer.send({ topic: 'bench', messages: [{ value: makeValue(-1) }] }); // metadata cached
        open[n] = { database, admin, producer, ms: 0 };
      }
      await sleep(200);
      for (let i = 0; i < messages.length; i += 4) {
        for (const n of (i / 4) % 2 ? [...names].reverse() : names) {
          const o = open[n];
          const t0 = performance.now();
          for (let j = i; j < i + 4; j++) await o.producer.send({ topic: 'bench', messages: messages[j] });
          o.ms += performance.now() - t0;
        }
      }
      for (const n of names) {
        const o = open[n];
        const [p] = await o.admin.fetchTopicOffsets('bench');
        if (Number(p.high) !== values.length + 1) throw new Error(`${n}: high watermark ${p.high}, expected ${values.length + 1}`);
        res[n].push(o.ms / messages.length);
        await o.producer.disconnect();
        await o.admin.disconnect();
        await del(`lanes:${o.database}`);
      }
    }
    return res;
  }, [names, passes]);
  const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const f = median(out.floor);
  console.log(`${engine}, ${passes} passes, load ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}; ms per awaited send of 1,000 records`);
  console.log(`${'floor'.padEnd(24)} median ${f.toFixed(3)}  best ${Math.min(...out.floor).toFixed(3)}`);
  for (const n of names) {
    const paired = median(out[n].map((x, i) => x / out[names[0]][i]));
    console.log(`${n.padEnd(24)} median ${median(out[n]).toFixed(3)}  best ${Math.min(...out[n]).toFixed(3)}  floor/median ${(f / median(out[n])).toFixed(2)}x  paired vs ${names[0]} ${paired.toFixed(3)}`);
  }
} finally {
  await env.close();
}
