#!/usr/bin/env node
// Replica server benchmark (Node, no browser): the cases of bench/suites/replica.mjs (ingest of
// pushed device batches over HTTP into SQLite and into a 3-node JetStream cluster, each beside
// the store's raw write of the same rows in the same round). Writes a section into
// bench/RESULTS.md between `<!-- replica -->` markers (bench/run.mjs rewrites the rest of that
// file; `npm run bench` runs this after it).
//
//   node bench/replica.mjs [--only h|i|replica-sqlite|replica-jetstream] [--rounds N] [--no-write]
//
// Needs `npm run build` (dist/node/) and nats-server (NATS_SERVER or on PATH) for case (i).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateRows, summarize, textTable } from './lib/harness.mjs';
import { replicaSuite } from './suites/replica.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function args(argv) {
  const o = { only: null, rounds: 5, write: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') o.only = argv[++i].split(',');
    else if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a === '--no-write') o.write = false;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

async function main() {
  const o = args(process.argv.slice(2));
  if (!existsSync(join(ROOT, 'dist', 'node', 'replica', 'cli.js'))) throw new Error('dist/node/ is missing: run npm run build first');
  const cases = replicaSuite.cases.filter((c) => !o.only || o.only.includes(c.id) || o.only.includes(c.name));
  const loadBefore = loadavg()[0];
  const started = Date.now();
  const parts = [];
  const lines = [];
  for (const c of cases) {
    console.log(`[replica-bench] ${c.title} ...`);
    const samples = await c.run(null, { rounds: Math.max(1, Math.min(o.rounds, c.maxRounds ?? Infinity)) });
    samples.forEach((s, i) => console.log(`[replica-bench]   round ${i + 1}: ${Object.entries(s).map(([k, v]) => `${k}=${Math.round(v * 10) / 10}`).join(' ')}`));
    const rows = evaluateRows(c, summarize(samples), samples);
    lines.push(...rows);
    parts.push({ c, rows, samples });
  }
  console.log(`\n${textTable(lines)}\n`);
  const section = [
    '<!-- replica -->',
    '## Replica server: ingest of pushed device batches',
    '',
    `\`node bench/replica.mjs\` (run by \`npm run bench\`), ${new Date().toISOString()}; ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}); Node ${process.version}; load ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after; ${((Date.now() - started) / 1000).toFixed(0)} s. Median of the rounds; ratio = median over rounds of replica / baseline measured in the same round.`,
    '',
    '| benchmark | replica (median) | min–max | baseline (median) | min–max | ratio | goal | result |',
    '|---|---:|---:|---:|---:|---:|---|---|',
    ...lines.map((l) => `| ${l.label} | ${l.lanes} ${l.unit} | ${l.lanesRange} | ${l.baseline === '—' ? '—' : `${l.baseline} ${l.unit}`} | ${l.baselineRange} | ${l.ratio} | ${l.goal} | ${l.result} |`),
    '',
    ...parts.flatMap(({ c, samples }) => [`### ${c.title}`, '', c.description, '', `Rounds: ${samples.length}.`, '']),
    '<!-- /replica -->',
  ].join('\n');
  if (o.write) {
    const file = join(ROOT, 'bench', 'RESULTS.md');
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
    const re = /<!-- replica -->[\s\S]*<!-- \/replica -->/;
    writeFileSync(file, re.test(old) ? old.replace(re, section) : `${old.trimEnd()}\n\n${section}\n`);
    console.log(`[replica-bench] wrote ${file}`);
  }
}

main().catch((e) => { console.error(`[replica-bench] failed: ${e?.stack ?? e}`); process.exit(1); });
