#!/usr/bin/env node
// The schema upgrade from version 1 on a large log, in real Chromium: for each shape, a
// version-1 database is written with raw IndexedDB, then opened by the current code (which
// upgrades it), and the same again with the first version of the step (one cursor step and one
// put per row) as the baseline, alternating. Reports the upgrade's time and the page's JS heap:
// sampled every 10 ms (precise memory info; counts garbage not collected yet), and after two
// forced collections every 250 ms (what the upgrade holds). The PSS of the browser's processes
// (the IndexedDB backend runs outside the page) is sampled every 100 ms from here.
//
//   node bench/upgrade.mjs ['{"shapes":[{"rows":1000,"recordsPerRow":1000,"payloadBytes":100000,"partitions":3}]}']
import { build } from 'esbuild';
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startEnv } from './lib/harness.mjs';

const o = process.argv[2] ? JSON.parse(process.argv[2]) : {};
const shapes = o.shapes ?? [
  { name: '1M records in 1,000 rows of ~100 kB', rows: 1000, recordsPerRow: 1000, payloadBytes: 100_000, partitions: 3 },
  { name: '10k small rows (1 record, ~200 B)', rows: 10_000, recordsPerRow: 1, payloadBytes: 200, partitions: 3 },
];
await build({
  entryPoints: [new URL('./upgrade-entry.ts', import.meta.url).pathname],
  bundle: true, format: 'esm', target: 'es2022', logLevel: 'warning',
  outfile: new URL('./.upgrade.js', import.meta.url).pathname,
});

/** Proportional set size of a process in kB (shared pages split between their users), else its RSS. */
function pssKb(pid) {
  try { return Number(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/Pss:\s+(\d+)/)?.[1] ?? 0); } catch { /* gone or unreadable */ }
  try { return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0); } catch { return 0; }
}

/** The browser whose command line names `dir` and all its descendants (pids). */
function browserPids(dir) {
  const procs = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      procs.push({ pid: Number(pid), ppid: Number(status.match(/PPid:\s+(\d+)/)?.[1]), cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8') });
    } catch { /* gone */ }
  }
  const seen = new Set(procs.filter((p) => p.cmd.includes(dir)).map((p) => p.pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!seen.has(p.pid) && seen.has(p.ppid)) { seen.add(p.pid); grew = true; }
  }
  return [...seen];
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const env = await startEnv();
try {
  const page = await env.openPage('/bench/upgrade.html');
  const pids = browserPids(env.profileDir);
  const pssMB = () => pids.reduce((sum, pid) => sum + pssKb(pid), 0) / 1024;
  const rounds = o.rounds ?? 3;
  const out = [];
  for (const shape of shapes) {
    const runs = { lanes: [], cursor: [] };
    for (let i = 0; i < rounds; i++) {
      // The current code and the baseline alternate, on the same shape, in the same browser.
      for (const how of i % 2 ? ['cursor', 'lanes'] : ['lanes', 'cursor']) {
        const name = `upgrade-${Date.now()}-${how}`;
        const fill = await page.evaluate(([n, s]) => window.up.fillV1(n, s), [name, shape]);
        const pssBefore = pssMB();
        let pssPeak = pssBefore;
        const timer = setInterval(() => { const r = pssMB(); if (r > pssPeak) pssPeak = r; }, 100);
        const up = await page.evaluate(([n, h]) => (h === 'lanes' ? window.up.upgrade(n) : window.up.upgradeByCursor(n)), [name, how]);
        clearInterval(timer);
        await page.evaluate((n) => window.up.drop(n), name);
        if (up.rows !== shape.rows || up.version !== 2) throw new Error(`${how}: ${JSON.stringify(up)}`);
        runs[how].push({ ...up, fillMs: fill.ms, browserPssBeforeMB: pssBefore, browserPssPeakMB: pssPeak });
      }
    }
    const sum = (list) => Object.fromEntries(['ms', 'heapPeakMB', 'liveMaxMB', 'heapAfterMB', 'browserPssBeforeMB', 'browserPssPeakMB'].map((k) => [k, median(list.map((r) => r[k]))]));
    out.push({ shape: shape.name ?? JSON.stringify(shape), payloadMB: (shape.rows * shape.payloadBytes) / (1 << 20), rounds, lanes: sum(runs.lanes), cursorBaseline: sum(runs.cursor), perRound: runs });
  }
  console.log(JSON.stringify({ load: loadavg().map((x) => Math.round(x * 10) / 10), pids: pids.length, results: out }, (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 10) / 10 : v), 2));
} finally {
  await env.close();
}
