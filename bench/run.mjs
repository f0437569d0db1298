#!/usr/bin/env node
// Runs the benchmarks in headless Chromium (Debian's /usr/bin/chromium or CHROMIUM_PATH; never
// downloads a browser), and the log suite again in Firefox ESR (FIREFOX_PATH; BENCH_FIREFOX=0
// skips it), against the built bundle dist/index.js, prints a table and writes bench/RESULTS.md
// (both engines side by side for the log suite). `npm run bench` builds first; run alone, it rebuilds dist/index.js with
// rollup when it is missing or older than a file in src/ (--no-build skips that).
//
//   node bench/run.mjs [--only NAME[,NAME...]] [--rounds N] [--profile] [--no-write] [--no-build] [--engines-section] [--json FILE]
//
// --json FILE also writes every row of the run (medians, per-round ratios, goals) as JSON, which
// bench/check.mjs compares with the ratios recorded in RESULTS.md. A partial run (--only)
// replaces only its own rows and sections of RESULTS.md; the rest stays as recorded.
//
// --engines-section writes only the Chromium-vs-Firefox section of RESULTS.md (the rest stays).
//
// NAME is a suite name (log), a case name (produce, concurrent, consume, memory) or a case id
// (a, b, c, d). --profile also runs one lanes-only round of each selected case under the V8
// profiler, saves bench/profiles/<case>.cpuprofile and prints the top functions by self time.
//
// Adding benchmarks: write a page (bench/<name>.html exposing window.bench.cases) or a custom
// case with run(env, ...) for multi-tab scenarios, describe it as a suite in bench/suites/, and
// add the suite to SUITES below (see bench/lib/harness.mjs for the shapes).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startEnv, runCase, summarize, evaluateRows, textTable, markdownReport, chromiumVersion, machine,
  profilePageCase, writeFileEnsured, firefoxVersion, engineComparison,
} from './lib/harness.mjs';
import { bundleSizes, coreBreakdown, sizeMarkdown, sizeTable } from './size.mjs';
import { logSuite } from './suites/log.mjs';
import { groupsSuite } from './suites/groups.mjs';
import { componentsSuite } from './suites/components.mjs';
import { syncSuite } from './suites/sync.mjs';

/** Every suite, in run order. */
const SUITES = [logSuite, groupsSuite, componentsSuite, syncSuite];

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = join(ROOT, 'bench');

function parseArgs(argv) {
  const o = { only: null, rounds: 7, profile: false, write: true, build: true, enginesSection: false, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only' || a.startsWith('--only=')) o.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--rounds' || a.startsWith('--rounds=')) {
      o.rounds = Number(value());
      if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('--rounds needs a positive integer');
    } else if (a === '--profile') o.profile = true;
    else if (a === '--no-write') o.write = false;
    else if (a === '--no-build') o.build = false;
    else if (a === '--engines-section') o.enginesSection = true;
    else if (a === '--json' || a.startsWith('--json=')) o.json = value();
    else if (a === '--help' || a === '-h') {
      console.log('node bench/run.mjs [--only NAME[,NAME...]] [--rounds N] [--profile] [--no-write] [--no-build]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

function selected(only) {
  const picks = [];
  for (const suite of SUITES) {
    for (const c of suite.cases) {
      if (!only || only.some((n) => n === suite.name || n === c.name || n === c.id || n === `${suite.name}/${c.name}`)) picks.push({ suite, c });
    }
  }
  return picks;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const sizesOnly = args.only?.length === 1 && args.only[0] === 'size';
  const wantSizes = !args.only || args.only.includes('size');
  if (args.only) args.only = args.only.filter((n) => n !== 'size');
  const picks = sizesOnly ? [] : selected(args.only?.length ? args.only : null);
  if (!picks.length && !sizesOnly) {
    const names = SUITES.flatMap((s) => [s.name, ...s.cases.flatMap((c) => [c.name, c.id])]);
    throw new Error(`--only ${args.only.join(',')} matches nothing; choose from: size, ${names.join(', ')}`);
  }
  const stale = bundleStale();
  if (stale && args.build) {
    console.log(`[bench] dist/index.js is ${stale}: building it with rollup`);
    const r = spawnSync('npx', ['rollup', '-c'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('rollup failed');
  } else if (stale) {
    console.log(`[bench] warning: dist/index.js is ${stale} (--no-build given)`);
  }

  const bundle = bundleId(); // taken before the run: someone may rebuild dist/ meanwhile
  const sizes = wantSizes ? await bundleSizes() : null;
  const breakdown = wantSizes ? await coreBreakdown() : [];
  if (sizes) console.log(`[bench] bundle sizes (min+gzip, from dist/)\n${sizeTable(sizes)}\n`);
  if (sizesOnly) {
    if (args.write) {
      // Only the size section of RESULTS.md changes; the benchmarks recorded there stay.
      const file = join(BENCH, 'RESULTS.md');
      const old = existsSync(file) ? readFileSync(file, 'utf8') : '# lanes benchmark results\n\n';
      const section = sizeMarkdown(sizes, breakdown);
      const at = old.indexOf('## Bundle sizes');
      const next = at < 0 ? -1 : old.indexOf('\n## ', at + 3);
      const text = at < 0
        ? old.replace('\n## Benchmarks', `\n${section}\n## Benchmarks`).replace(/^(?![\s\S]*## Bundle sizes)([\s\S]*)$/, `$1\n${section}`)
        : old.slice(0, at) + section + (next < 0 ? '' : old.slice(next + 1));
      writeFileEnsured(file, text);
      console.log(`[bench] wrote the bundle sizes into ${file}`);
    }
    return;
  }
  const started = Date.now();
  const loadBefore = loadavg()[0];
  const env = await startEnv();
  const results = [];
  let chromium = 'unknown';
  try {
    // The log page exposes bench.info() (browser facts); the multi-tab pages do not.
    const probe = await env.openPage(logSuite.page);
    const info = await probe.evaluate(() => window.bench.info());
    await probe.close();
    if (!info.hasGc) throw new Error('window.gc is missing: Chromium ignored --js-flags=--expose-gc');
    chromium = chromiumVersion(env.executablePath, info.userAgent);
    const m = machine();
    console.log(`[bench] ${chromium}; ${m.cores} cores (${m.cpu}); load ${loadBefore.toFixed(2)}; ${args.rounds} rounds; ${picks.map((p) => p.c.name).join(', ')}`);
    if (loadBefore > m.cores / 2) console.log(`[bench] warning: load average ${loadBefore.toFixed(2)} on ${m.cores} cores: other processes compete for the CPUs`);

    for (const { suite, c } of picks) {
      const t0 = Date.now();
      console.log(`[bench] ${c.title} ...`);
      const samples = await runCase(env, suite, c, args.rounds, {
        onRound: (i, metrics, ms) => {
          const shown = c.rows.map((r) => `${r.metric}=${fmtShort(metrics[r.metric])}${r.baseline ? ` ${r.baseline}=${fmtShort(metrics[r.baseline])}` : ''}`);
          console.log(`[bench]   round ${i + 1}: ${[...new Set(shown)].join(' ')} (${ms} ms)`);
        },
      });
      const stats = summarize(samples);
      const lines = evaluateRows(c, stats, samples);
      const notes = c.notes ? c.notes(stats) : [];
      results.push({ suite, case: c, samples, stats, lines, notes, rounds: samples.length });
      console.log(`[bench]   done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      if (args.profile && c.fn && !c.freshPagePerRound) {
        const p = await profilePageCase(env, suite, c);
        const file = join(BENCH, 'profiles', `${c.name}.cpuprofile`);
        writeFileEnsured(file, JSON.stringify(p.profile));
        console.log(`[bench]   profile of one lanes round (${p.wallMs} ms wall) -> ${file}`);
        for (const r of p.top.rows.slice(0, 25)) console.log(`[bench]     ${r.ms.toFixed(1).padStart(8)} ms  ${r.name}`);
      }
    }
  } finally {
    await env.close();
  }

  // The log suite again in Firefox ESR (BENCH_FIREFOX=0 skips it); the memory case needs
  // window.gc, which only Chromium exposes.
  let firefox = null;
  const ffPicks = picks.filter(({ suite, c }) => suite.name === 'log' && c.name !== 'memory');
  if (ffPicks.length && process.env.BENCH_FIREFOX !== '0') {
    const ffEnv = await startEnv({ engine: 'firefox' });
    firefox = { version: firefoxVersion(ffEnv.executablePath), rounds: args.rounds, results: [] };
    console.log(`[bench] ${firefox.version}: the log suite`);
    try {
      for (const { suite, c } of ffPicks) {
        console.log(`[bench] firefox: ${c.title} ...`);
        const samples = await runCase(ffEnv, suite, c, args.rounds, {
          onRound: (i, metrics, ms) => console.log(`[bench]   round ${i + 1}: ${c.rows.map((r) => `${r.metric}=${fmtShort(metrics[r.metric])}`).join(' ')} (${ms} ms)`),
        });
        const stats = summarize(samples);
        firefox.results.push({ case: c, stats, lines: evaluateRows(c, stats, samples) });
      }
    } finally {
      await ffEnv.close();
    }
    console.log(`\n[bench] firefox\n${textTable(firefox.results.flatMap((r) => r.lines))}`);
  }

  const seconds = (Date.now() - started) / 1000;
  const allLines = results.flatMap((r) => r.lines);
  if (args.json) {
    writeFileEnsured(args.json, JSON.stringify({
      date: new Date().toISOString(), argv: process.argv.slice(2), loadBefore, loadAfter: loadavg()[0], rounds: args.rounds, bundle,
      rows: results.flatMap((r) => r.case.rows.map((row, i) => ({ ...r.lines[i], case: r.case.id, metric: row.metric, baselineMetric: row.baseline ?? null, goalSpec: row.goal ?? null,
        ratios: row.baseline ? r.samples.map((x) => x[row.metric] / x[row.baseline]).filter((x) => Number.isFinite(x)) : [] }))),
    }, null, 2));
    console.log(`[bench] wrote ${args.json}`);
  }
  console.log('');
  console.log(textTable(allLines));
  for (const r of results) for (const n of r.notes) console.log(n);
  console.log(`\n[bench] total ${seconds.toFixed(0)} s`);

  if (args.write && args.enginesSection && firefox) {
    // Only the engines section of RESULTS.md changes; the benchmarks recorded there stay.
    const file = join(BENCH, 'RESULTS.md');
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '# lanes benchmark results\n\n';
    const section = `${engineComparison(results, firefox)}\nSection written by \`node bench/run.mjs ${process.argv.slice(2).join(' ')}\` on ${new Date().toISOString()} (load ${loadBefore.toFixed(2)} before); the Chromium columns are from that run, not from the table above.\n`;
    const at = old.indexOf('## Log suite in Chromium and Firefox');
    const next = at < 0 ? -1 : old.indexOf('\n## ', at + 3);
    const anchor = old.indexOf('\n## ');
    const text = at >= 0 ? old.slice(0, at) + section + (next < 0 ? '' : `\n${old.slice(next + 1)}`)
      : anchor >= 0 ? `${old.slice(0, anchor + 1)}${section}\n${old.slice(anchor + 1)}` : `${old}\n${section}`;
    writeFileEnsured(file, text);
    console.log(`[bench] wrote the engines section into ${file}`);
  } else if (args.write) {
    const report = markdownReport({
      date: new Date().toISOString(),
      chromium,
      machine: machine(),
      bundle,
      loadBefore,
      loadAfter: loadavg()[0],
      rounds: args.rounds,
      argv: process.argv.slice(2),
      partial: args.only ? `--only ${args.only.join(',')}` : null,
      results,
      seconds,
      sizes: sizes ? sizeMarkdown(sizes, breakdown) : null,
      firefox,
    });
    const file = join(BENCH, 'RESULTS.md');
    const runLine = `_Measured by \`node bench/run.mjs ${process.argv.slice(2).join(' ')}\` on ${new Date().toISOString()}: ${chromium}; ${bundle}; load ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after; ${args.rounds} rounds._`;
    let merged = args.only && existsSync(file) ? mergeReport(readFileSync(file, 'utf8'), report, results, runLine) : report;
    if (args.only && firefox && merged !== report) merged = mergeEngineRows(merged, engineComparison(results, firefox), firefox, runLine);
    writeFileEnsured(file, merged);
    console.log(`[bench] wrote ${file}${merged !== report ? ' (its other rows and sections kept)' : ''}`);
  }
}

/**
 * A partial run merged into the recorded RESULTS.md: the summary rows and the benchmark
 * sections of the cases it ran are replaced (or added), every other row and section stays as
 * recorded. Each replaced section names the run it is from (date, code, load), since the
 * header at the top describes whichever run wrote the whole file.
 */
function mergeReport(old, fresh, results, runLine) {
  const lines = old.split('\n');
  // Only the fresh summary table's rows: the engines table further down has rows with the
  // same labels and more columns, which do not belong in the summary.
  const freshLines = fresh.split('\n');
  const ft = freshLines.findIndex((l) => l.startsWith('| benchmark |'));
  let fe = ft < 0 ? 0 : ft + 2;
  while (ft >= 0 && fe < freshLines.length && freshLines[fe].startsWith('|')) fe++;
  const freshRows = (ft < 0 ? [] : freshLines.slice(ft + 2, fe)).filter((l) => /^\| \(/.test(l));
  const labelOf = (l) => l.slice(2, l.indexOf(' | ', 2));
  const ran = new Set(results.flatMap((r) => r.lines.map((l) => l.label)));
  // 1. summary table: the first table whose header starts with "| benchmark |"
  let t = lines.findIndex((l) => l.startsWith('| benchmark |'));
  if (t < 0) return fresh;
  let end = t + 2;
  while (end < lines.length && lines[end].startsWith('|')) end++;
  const kept = [];
  const todo = new Set(ran);
  for (const l of lines.slice(t + 2, end)) {
    const label = labelOf(l);
    if (!ran.has(label)) { kept.push(l); continue; }
    if (todo.has(label)) { kept.push(...freshRows.filter((f) => labelOf(f) === label)); todo.delete(label); }
  }
  // Rows new to the table go after the last row of their case (same "(x)" prefix), else at the end.
  const caseOf = (label) => /^\([a-z0-9]+\)/.exec(label)?.[0] ?? label;
  for (const f of freshRows.filter((x) => todo.has(labelOf(x)))) {
    let at = -1;
    kept.forEach((k, i) => { if (caseOf(labelOf(k)) === caseOf(labelOf(f))) at = i; });
    if (at < 0) kept.push(f);
    else kept.splice(at + 1, 0, f);
  }
  let text = [...lines.slice(0, t + 2), ...kept, ...lines.slice(end)].join('\n');
  // 2. benchmark sections, inside "## Benchmarks" up to the next "## " or "<!--" block
  const freshSections = fresh.slice(fresh.indexOf('\n## Benchmarks')).split(/\n(?=### )/).slice(1).map((x) => x.replace(/\s+$/, ''));
  for (const r of results) {
    const title = `### ${r.case.title}`;
    const mine = freshSections.find((x) => x.startsWith(`${title}\n`));
    if (!mine) continue;
    const section = mine.replace(/\n\n/, `\n\n${runLine}\n\n`);
    const bench = text.indexOf('\n## Benchmarks');
    if (bench < 0) { text += `\n## Benchmarks\n\n${section}\n`; continue; }
    const rest = text.slice(bench + 1);
    const stop = rest.slice(3).search(/\n## |\n<!--/);
    const regionEnd = stop < 0 ? text.length : bench + 1 + 3 + stop;
    const at = text.indexOf(`\n${title}\n`, bench);
    if (at >= 0 && at < regionEnd) {
      const next = text.slice(at + 1).search(/\n### |\n## |\n<!--/);
      const secEnd = next < 0 ? text.length : at + 1 + next;
      text = `${text.slice(0, at + 1)}${section}\n${text.slice(secEnd)}`;
    } else {
      text = `${text.slice(0, regionEnd).replace(/\s+$/, '')}\n\n${section}\n${text.slice(regionEnd)}`;
    }
  }
  return text;
}

/** Which bundle was measured: content hash and build time of dist/index.js. */
/**
 * A partial run's rows of the Chromium-vs-Firefox table merged into the recorded section: the
 * rows of the cases it ran are replaced (or added at the end of the table), the others stay as
 * recorded, and a note under the table names the run the replaced rows are from.
 */
function mergeEngineRows(text, section, firefox, runLine) {
  const at = text.indexOf('## Log suite in Chromium and Firefox');
  if (at < 0) return text;
  const end = text.indexOf('\n## ', at + 3) < 0 ? text.length : text.indexOf('\n## ', at + 3) + 1;
  const first = (l) => l.split('|')[1]?.trim();
  const fresh = section.split('\n').filter((l) => l.startsWith('| (') );
  const names = new Set(fresh.map(first));
  const kept = [];
  let placed = false;
  for (const l of text.slice(at, end).split('\n')) {
    if (!(l.startsWith('| (') && names.has(first(l)))) kept.push(l);
    else if (!placed) { kept.push(...fresh); placed = true; }
  }
  if (!placed) kept.splice(kept.reduce((k, l, i) => (l.startsWith('|') ? i : k), -1) + 1, 0, ...fresh);
  const cases = [...new Set(firefox.results.map((r) => r.case.id))].map((id) => `(${id})`).join(', ');
  const note = `_Rows ${cases}: ${firefox.version}${process.env.BENCH_FIREFOX_ASYNCSTACK === '1' ? '' : ' with async stack capture off (bench/lib/harness.mjs)'}, ${firefox.rounds} rounds; Chromium columns from the same run. ${runLine.replace(/^_|_$/g, '')}_`;
  const noteAt = kept.findIndex((l) => l.startsWith(`_Rows ${cases}:`));
  if (noteAt >= 0) kept[noteAt] = note;
  else kept.splice(kept.reduce((k, l, i) => (l.startsWith('|') ? i : k), -1) + 1, 0, '', note);
  return text.slice(0, at) + kept.join('\n') + text.slice(end);
}

function bundleId() {
  const file = join(ROOT, 'dist', 'index.js');
  const hash = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
  return `dist/index.js sha256:${hash}, built ${statSync(file).mtime.toISOString()}`;
}

/** Why dist/index.js needs a build ('missing', 'older than src/x.ts'), or null. */
function bundleStale() {
  const bundle = join(ROOT, 'dist', 'index.js');
  if (!existsSync(bundle)) return 'missing';
  const built = statSync(bundle).mtimeMs;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) { const f = walk(p); if (f) return f; }
      else if (e.name.endsWith('.ts') && statSync(p).mtimeMs > built) return p;
    }
    return null;
  };
  const newer = walk(join(ROOT, 'src'));
  return newer ? `older than ${newer.slice(ROOT.length)}` : null;
}

function fmtShort(n) {
  if (typeof n !== 'number') return 'n/a';
  return Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}

main().catch((e) => {
  console.error(`[bench] failed: ${e?.stack ?? e}`);
  process.exitCode = 1;
});
