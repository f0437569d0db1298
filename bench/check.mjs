#!/usr/bin/env node
// Regression check: runs benchmarks (or reads a run's JSON) and compares each row's same-run
// ratio with the ratio recorded in bench/RESULTS.md. Not part of `npm test`: tests never assert
// timings; this is for a person (or CI job) about to land a change that may cost speed.
//
//   node bench/check.mjs [--only a,o] [--rounds N] [--tolerance 0.25] [--against FILE] [--run FILE.json]
//   npm run bench:check -- --only a,o
//
// --only       cases to run (default: the log suite); passed to bench/run.mjs with --no-write
// --run        compare this `node bench/run.mjs --json FILE` output instead of running
// --against    the recorded results (default: bench/RESULTS.md as committed at HEAD, else the file)
// --tolerance  relative change of a ratio still counted as noise (default 0.25)
//
// A row regresses when its median ratio is worse than the recorded one by more than the
// tolerance AND even its best round is worse than the recorded ratio: on a shared machine a
// single median moves by tens of percent, so one slow median alone is not called a regression.
// "Worse" is lower for throughput ratios and higher for time and memory ratios (goal <= or unit
// ms / MB). Rows without a baseline have no ratio and are listed, not judged. Exit code 1 when
// any row regresses.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function parseArgs(argv) {
  const o = { only: 'log', rounds: 5, tolerance: 0.25, against: null, run: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => { const x = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]; if (x === undefined) throw new Error(`${a} needs a value`); return x; };
    if (a.startsWith('--only')) o.only = v();
    else if (a.startsWith('--rounds')) o.rounds = Number(v());
    else if (a.startsWith('--tolerance')) o.tolerance = Number(v());
    else if (a.startsWith('--against')) o.against = v();
    else if (a.startsWith('--run')) o.run = v();
    else if (a === '--help' || a === '-h') { console.log('node bench/check.mjs [--only a,o] [--rounds N] [--tolerance 0.25] [--against FILE] [--run FILE.json]'); process.exit(0); }
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.tolerance >= 0)) throw new Error('--tolerance needs a number >= 0');
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('--rounds needs a positive integer');
  return o;
}

/** The recorded summary table of a RESULTS.md: label -> { ratio, goal, unit }. */
export function recordedRatios(markdown) {
  const out = new Map();
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| benchmark |'));
  if (start < 0) return out;
  for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++) {
    const cells = lines[i].split(' | ').map((c) => c.replace(/^\|\s*|\s*\|$/g, '').trim());
    const [label, lanes, , , , ratio, goal] = cells;
    const m = /^([\d.]+)x$/.exec(ratio ?? '');
    out.set(label, { ratio: m ? Number(m[1]) : null, goal, unit: (lanes ?? '').split(' ').slice(1).join(' ') });
  }
  return out;
}

/** True when a lower ratio is better for this row (times and memory). */
export function lowerIsBetter(goal, unit) {
  return /^<=?/.test(goal ?? '') || unit === 'ms' || unit === 'MB';
}

/** Judges one row: 'regression' | 'worse (noise)' | 'same' | 'better' | 'not compared'. */
export function judge(recorded, row, tolerance) {
  if (!recorded || recorded.ratio === null || !row.ratios?.length) return { verdict: 'not compared' };
  const sorted = [...row.ratios].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[sorted.length >> 1] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const lower = lowerIsBetter(recorded.goal, recorded.unit);
  const change = lower ? recorded.ratio / median - 1 : median / recorded.ratio - 1; // > 0: better
  const best = lower ? sorted[0] : sorted[sorted.length - 1];
  const bestWorse = lower ? best > recorded.ratio : best < recorded.ratio;
  let verdict = 'same';
  if (change < -tolerance) verdict = bestWorse ? 'regression' : 'worse (noise)';
  else if (change > tolerance) verdict = 'better';
  return { verdict, median, change, best };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  let recordedText;
  if (args.against) recordedText = readFileSync(args.against, 'utf8');
  else {
    try {
      recordedText = execFileSync('git', ['show', 'HEAD:bench/RESULTS.md'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      recordedText = readFileSync(join(ROOT, 'bench', 'RESULTS.md'), 'utf8');
    }
  }
  const recorded = recordedRatios(recordedText);
  let run;
  let tmp;
  if (args.run) run = JSON.parse(readFileSync(args.run, 'utf8'));
  else {
    tmp = mkdtempSync(join(tmpdir(), 'lanes-bench-check-'));
    const file = join(tmp, 'run.json');
    const r = spawnSync(process.execPath, [join(ROOT, 'bench', 'run.mjs'), '--only', args.only, '--rounds', String(args.rounds), '--no-write', '--json', file], {
      cwd: ROOT, stdio: 'inherit', env: { BENCH_FIREFOX: '0', ...process.env },
    });
    if (r.status !== 0 || !existsSync(file)) throw new Error('bench/run.mjs failed');
    run = JSON.parse(readFileSync(file, 'utf8'));
    rmSync(tmp, { recursive: true, force: true });
  }
  const rows = run.rows.map((row) => ({ row, rec: recorded.get(row.label), ...judge(recorded.get(row.label), row, args.tolerance) }));
  const fmt = (x) => (x === undefined || x === null ? '—' : x >= 10 ? `${x.toFixed(0)}x` : `${x.toFixed(2)}x`);
  const table = [['benchmark', 'recorded', 'this run (median)', 'best round', 'change', 'verdict']];
  for (const r of rows) {
    table.push([r.row.label, fmt(r.rec?.ratio), fmt(r.median), fmt(r.best), r.change === undefined ? '—' : `${r.change >= 0 ? '+' : ''}${(r.change * 100).toFixed(0)}%`, r.verdict]);
  }
  const w = table[0].map((_, i) => Math.max(...table.map((t) => String(t[i]).length)));
  console.log(`\n[bench:check] ratios against ${args.against ?? 'bench/RESULTS.md at HEAD'} (tolerance ±${(args.tolerance * 100).toFixed(0)}%; load ${run.loadBefore?.toFixed?.(2) ?? '?'} before the run)`);
  for (const t of table) console.log(t.map((c, i) => String(c).padEnd(w[i])).join('  '));
  const bad = rows.filter((r) => r.verdict === 'regression');
  if (bad.length) {
    console.log(`\n[bench:check] REGRESSION in ${bad.length} row(s): ${bad.map((r) => r.row.label).join('; ')}`);
    process.exitCode = 1;
  } else console.log('\n[bench:check] no regression beyond noise');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main();
  } catch (e) {
    console.error(`[bench:check] failed: ${e?.stack ?? e}`);
    process.exitCode = 2;
  }
}
