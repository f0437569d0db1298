// The benchmark harness: Chromium (Debian's, never downloaded) driven by playwright-core, pages
// served from the repository by scripts/static-server.mjs, rounds, statistics, goals, reports.
//
// A suite is { name, title, page, cases }. A case is either
//   - a page case: { id, name, fn, title, description, options, warmup?, maxRounds?,
//     freshPagePerRound?, rows, notes? } where `fn` names `window.bench.cases[fn]` on the
//     suite's page, an object { setup?(options), round(options, index), teardown?() } whose
//     round() returns an object of numbers (the metrics of one round); or
//   - a custom case: the same with `run(env, { rounds, suite })` instead of `fn`, returning the
//     list of per-round metric objects itself (for benchmarks that drive several pages/tabs).
// A row names a metric to report: { label, metric, baseline?, unit, goal? } with goal
//   { kind: 'ratio', min } (median metric / median baseline >= min),
//   { kind: 'ratioMax', max } (the same ratio <= max: for times, lower is better),
//   { kind: 'min', value } (median metric >= value) or { kind: 'max', value } (median < value).
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { startStaticServer } from '../../scripts/static-server.mjs';

/**
 * @typedef {{ label: string, metric: string, baseline?: string, unit: string,
 *   goal?: { kind: 'ratio', min: number } | { kind: 'ratioMax', max: number } | { kind: 'min', value: number } | { kind: 'max', value: number } }} Row
 * @typedef {{ id: string, name: string, title: string, description: string, fn?: string,
 *   run?: (env: Env, o: { rounds: number, suite: Suite }) => Promise<Record<string, number>[]>,
 *   options?: object, warmup?: number, maxRounds?: number, freshPagePerRound?: boolean,
 *   rows: Row[], notes?: (stats: Record<string, Stat>) => string[] }} Case
 * @typedef {{ name: string, title: string, page: string, cases: Case[] }} Suite
 * @typedef {{ median: number, min: number, max: number, values: number[] }} Stat
 * @typedef {{ context: import('playwright-core').BrowserContext, url: string, executablePath: string,
 *   openPage: (path: string) => Promise<import('playwright-core').Page>, close: () => Promise<void> }} Env
 */

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--enable-precise-memory-info', '--js-flags=--expose-gc',
];

/**
 * Pages served cross-origin isolated (COOP same-origin + COEP require-corp): there
 * performance.now() has 5 µs resolution instead of 100 µs, which the sub-millisecond latencies
 * of the multi-tab suite (and their BroadcastChannel baseline, measured in the same tabs) need.
 * Everything these pages load is same-origin, so isolation changes nothing else for them.
 */
const ISOLATED_PAGES = new Set(['/bench/tabs.html']);
const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
const benchHeaders = (path) => (ISOLATED_PAGES.has(path) ? ISOLATION_HEADERS : {});

/** Longest one page.evaluate of a benchmark may take before the run fails. */
const EVALUATE_TIMEOUT_MS = 180_000;

/**
 * Starts the static server and a browser with a fresh profile: Chromium (playwright-core), or
 * with `{ engine: 'firefox' }` Debian's Firefox ESR (FIREFOX_PATH) driven by puppeteer-core over
 * WebDriver BiDi. Pages of both answer evaluate(fn, arg) and close() alike.
 */
export async function startEnv({ engine = 'chromium' } = {}) {
  if (engine === 'firefox') return startFirefoxEnv();
  const server = await startStaticServer({ port: 0, headers: benchHeaders });
  const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-'));
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  let context;
  try {
    // BENCH_JS_FLAGS adds V8 flags for experiments (e.g. --max-semi-space-size=8); not for reported runs.
    const extra = process.env.BENCH_JS_FLAGS;
    const args = extra ? CHROMIUM_ARGS.map((a) => (a.startsWith('--js-flags=') ? `${a} ${extra}` : a)) : CHROMIUM_ARGS;
    context = await chromium.launchPersistentContext(dir, { executablePath, headless: true, args });
  } catch (e) {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  /** @type {Env} */
  const env = {
    engine: 'chromium',
    context,
    url: server.url,
    executablePath,
    /** The browser's profile directory (its processes name it on their command lines). */
    profileDir: dir,
    async openPage(path) {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.error(`[page ${m.type()}] ${m.text()}`); });
      await page.goto(server.url + path);
      await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30_000 });
      return page;
    },
    async close() {
      await context.close().catch(() => undefined);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return env;
}

/**
 * Firefox captures an async stack at every promise and await only in pages a debugger is
 * attached to (javascript.options.asyncstack_capture_debuggee_only, on by default), and the
 * WebDriver BiDi agent that drives the page is one: 100k awaited calls of an async function took
 * 264 ms under it against 53 ms in a Firefox started without remote control (bench/ANALYSIS.md,
 * (c) in Firefox). Turned off here so the page runs as a user's page does;
 * BENCH_FIREFOX_ASYNCSTACK=1 keeps the capture on.
 */
const FIREFOX_PREFS = process.env.BENCH_FIREFOX_ASYNCSTACK === '1' ? {} : { 'javascript.options.asyncstack': false };

/** "Chromium 150.0.7871.100 built on Debian ..." or the user agent's version. */
async function startFirefoxEnv() {
  const server = await startStaticServer({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-ff-'));
  const executablePath = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';
  let browser;
  try {
    browser = await puppeteer.launch({ browser: 'firefox', executablePath, headless: true, userDataDir: dir, extraPrefsFirefox: FIREFOX_PREFS });
  } catch (e) {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    engine: 'firefox',
    context: null,
    url: server.url,
    executablePath,
    async openPage(path) {
      const page = await browser.newPage();
      page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') console.error(`[page ${m.type()}] ${m.text()}`); });
      await page.goto(server.url + path);
      await page.waitForFunction(() => window.benchReady === true, { timeout: 30_000 });
      return page;
    },
    async close() {
      await browser.close().catch(() => undefined);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The Firefox version string, e.g. "Mozilla Firefox 153.8.0esr". */
export function firefoxVersion(executablePath) {
  try { return execFileSync(executablePath, ['--version'], { encoding: 'utf8' }).trim(); } catch { return 'Firefox (version unknown)'; }
}

/** Chromium and Firefox results of the same cases side by side (markdown). */
export function engineComparison(chromiumResults, firefox) {
  const out = ['## Log suite in Chromium and Firefox', ''];
  out.push(`${firefox.version}, headless, via puppeteer-core (WebDriver BiDi)${process.env.BENCH_FIREFOX_ASYNCSTACK === '1' ? '' : ', async stack capture off as in a page no debugger is attached to (see bench/lib/harness.mjs)'}, ${firefox.rounds} rounds, run after the Chromium run on the same machine. ` +
    'Each ratio is lanes over its baseline in the same engine and round. The memory case needs `window.gc` (Chromium only) and is not run in Firefox.', '');
  out.push('| benchmark | Chromium lanes | Chromium baseline | Chromium ratio | Firefox lanes | Firefox baseline | Firefox ratio | goal | Chromium | Firefox |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---|---|---|');
  for (const f of firefox.results) {
    const c = chromiumResults.find((r) => r.case.id === f.case.id);
    f.lines.forEach((fl, i) => {
      const cl = c?.lines[i];
      const v = (l, k) => (l ? (l[k] === '—' ? '—' : `${l[k]} ${l.unit}`) : 'n/a');
      out.push(`| ${fl.label} | ${v(cl, 'lanes')} | ${v(cl, 'baseline')} | ${cl?.ratio ?? 'n/a'} | ${v(fl, 'lanes')} | ${v(fl, 'baseline')} | ${fl.ratio} | ${fl.goal} | ${cl?.result ?? 'n/a'} | ${fl.result} |`);
    });
  }
  out.push('');
  return out.join('\n');
}

export function chromiumVersion(executablePath, userAgent) {
  try {
    return execFileSync(executablePath, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return userAgent ?? 'unknown';
  }
}

/** The machine, for the report. */
export function machine() {
  const list = cpus();
  return { cores: list.length, cpu: list[0]?.model?.trim() ?? 'unknown', memoryGiB: totalmem() / 2 ** 30, node: process.version, platform: `${process.platform} ${process.arch}`, load: loadavg()[0] };
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms); }),
  ]);
}

async function call(page, fn, method, args, what) {
  return withTimeout(page.evaluate(([f, m, a]) => {
    const c = window.bench.cases[f];
    if (!c) throw new Error(`window.bench.cases.${f} is not defined on this page`);
    return c[m] ? c[m](...a) : undefined;
  }, [fn, method, args]), EVALUATE_TIMEOUT_MS, what);
}

/**
 * Runs one page case: `warmup` discarded rounds, then `rounds` measured ones. One page for all
 * rounds (JIT warm, like a long-lived app), or a fresh page per round when the case asks.
 * Returns the measured rounds' metrics.
 */
export async function runPageCase(env, suite, c, rounds, { onRound, extraOptions } = {}) {
  const options = { ...(c.options ?? {}), ...(extraOptions ?? {}) };
  const out = [];
  const warmup = c.warmup ?? 0;
  let page;
  const open = async () => {
    page = await env.openPage(suite.page);
    await call(page, c.fn, 'setup', [options], `${c.name} setup`);
  };
  const close = async () => {
    await call(page, c.fn, 'teardown', [], `${c.name} teardown`);
    await page.close();
    page = undefined;
  };
  try {
    if (!c.freshPagePerRound) await open();
    for (let i = -warmup; i < rounds; i++) {
      if (c.freshPagePerRound) await open();
      const t0 = Date.now();
      const metrics = await call(page, c.fn, 'round', [options, i + warmup], `${c.name} round ${i}`);
      if (c.freshPagePerRound) await close();
      if (i >= 0) {
        out.push(metrics);
        onRound?.(i, metrics, Date.now() - t0);
      }
    }
    if (!c.freshPagePerRound) await close();
  } finally {
    if (page) await page.close().catch(() => undefined);
  }
  return out;
}

/** Runs any case (page or custom) and returns per-round metrics. */
export async function runCase(env, suite, c, rounds, hooks) {
  const n = Math.max(1, Math.min(rounds, c.maxRounds ?? Infinity));
  if (c.run) return c.run(env, { rounds: n, suite });
  return runPageCase(env, suite, c, n, hooks);
}

/** Median, min, max of every metric over the rounds. */
export function summarize(samples) {
  /** @type {Record<string, Stat>} */
  const stats = {};
  const keys = new Set(samples.flatMap((s) => Object.keys(s)));
  for (const k of keys) {
    const values = samples.map((s) => s[k]).filter((v) => typeof v === 'number' && Number.isFinite(v));
    if (!values.length) continue;
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    stats[k] = { median, min: sorted[0], max: sorted[sorted.length - 1], values };
  }
  return stats;
}

/** Formats a number for its unit. */
export function formatValue(n, unit) {
  if (n === undefined || n === null || !Number.isFinite(n)) return 'n/a';
  if (unit === 'records/s') return Math.round(n).toLocaleString('en-US');
  if (unit === 'MB' || unit === 'MB/s' || unit === 'ms') return n >= 100 ? n.toFixed(0) : n.toFixed(1);
  return String(Math.round(n * 100) / 100);
}

function goalText(goal, unit) {
  if (!goal) return '—';
  if (goal.kind === 'ratio') return `>= ${goal.min}x baseline`;
  if (goal.kind === 'ratioMax') return `<= ${goal.max}x baseline`;
  if (goal.kind === 'min') return `>= ${formatValue(goal.value, unit)} ${unit}`;
  return `< ${formatValue(goal.value, unit)} ${unit}`;
}

/** One report line per row: values, ratio, goal, verdict. */
export function evaluateRows(c, stats, samples) {
  return c.rows.map((row) => {
    const lanes = stats[row.metric];
    const base = row.baseline ? stats[row.baseline] : undefined;
    // The ratio is taken per round (lanes and baseline ran back to back on the same page) and
    // the median of those reported: it cancels load that drifts over the run.
    let ratio;
    if (lanes && base) {
      const perRound = samples.map((s) => s[row.metric] / s[row.baseline]).filter((x) => Number.isFinite(x));
      ratio = perRound.length ? summarize(perRound.map((x) => ({ x }))).x.median : undefined;
    }
    let pass;
    if (row.goal && lanes) {
      if (row.goal.kind === 'ratio') pass = ratio !== undefined && ratio >= row.goal.min;
      else if (row.goal.kind === 'ratioMax') pass = ratio !== undefined && ratio <= row.goal.max;
      else if (row.goal.kind === 'min') pass = lanes.median >= row.goal.value;
      else pass = lanes.median < row.goal.value;
    }
    return {
      label: row.label, unit: row.unit,
      lanes: lanes ? formatValue(lanes.median, row.unit) : 'n/a',
      lanesRange: lanes ? `${formatValue(lanes.min, row.unit)}–${formatValue(lanes.max, row.unit)}` : '',
      baseline: base ? formatValue(base.median, row.unit) : '—',
      baselineRange: base ? `${formatValue(base.min, row.unit)}–${formatValue(base.max, row.unit)}` : '',
      ratio: ratio === undefined ? '—' : `${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(2)}x`,
      goal: goalText(row.goal, row.unit),
      result: pass === undefined ? '—' : pass ? 'PASS' : 'MISS',
      rounds: lanes?.values.length ?? 0,
    };
  });
}

/** A plain-text table for the console. */
export function textTable(lines) {
  const head = ['benchmark', 'unit', 'lanes median', 'min–max', 'baseline median', 'min–max', 'ratio', 'goal', 'result'];
  const rows = lines.map((l) => [l.label, l.unit, l.lanes, l.lanesRange, l.baseline, l.baselineRange, l.ratio, l.goal, l.result]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const right = new Set([2, 3, 4, 5, 6]);
  const fmtRow = (r) => r.map((v, i) => (right.has(i) ? String(v).padStart(widths[i]) : String(v).padEnd(widths[i]))).join('  ');
  return [fmtRow(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmtRow)].join('\n');
}

/** The markdown report. */
export function markdownReport({ date, chromium, machine: m, bundle, loadBefore, loadAfter, rounds, argv, partial, results, seconds, sizes = null, firefox = null }) {
  const out = [];
  out.push('# lanes benchmark results', '');
  out.push(`Written by \`node bench/run.mjs\`${argv.length ? ` (\`${argv.join(' ')}\`)` : ''}; do not edit by hand, it is overwritten on every run.`, '');
  if (partial) out.push(`**Partial run** (${partial}): benchmarks not selected are missing from this file.`, '');
  out.push('| | |', '|---|---|');
  out.push(`| date | ${date} |`);
  out.push(`| browser | ${chromium}, headless (\`--headless=new\`) via playwright-core |`);
  out.push(`| code | ${bundle}; broker in the page for (a)-(d), in a SharedWorker for (e)-(g) |`);
  out.push(`| machine | ${m.cores} cores (${m.cpu}), ${m.memoryGiB.toFixed(1)} GiB RAM, ${m.platform}, Node ${m.node} |`);
  out.push(`| rounds | ${rounds} per benchmark (fewer where a benchmark caps them; see "rounds" below), median reported, min–max beside it; ratio = median over rounds of lanes / baseline measured in the same round |`);
  out.push(`| load average (1 min) | ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after${Math.max(loadBefore, loadAfter) > m.cores / 2 ? ' — other work shared the CPUs: absolute numbers are low, ratios hold better' : ''} |`);
  out.push(`| total time | ${seconds.toFixed(0)} s |`);
  out.push('');
  out.push('| benchmark | lanes (median) | lanes min–max | baseline (median) | baseline min–max | ratio | goal | result |');
  out.push('|---|---:|---:|---:|---:|---:|---|---|');
  for (const r of results) {
    for (const l of r.lines) {
      out.push(`| ${l.label} | ${l.lanes} ${l.unit} | ${l.lanesRange} | ${l.baseline === '—' ? '—' : `${l.baseline} ${l.unit}`} | ${l.baselineRange} | ${l.ratio} | ${l.goal} | ${l.result} |`);
    }
  }
  out.push('');
  if (firefox) out.push(engineComparison(results, firefox));
  if (sizes) out.push(sizes);
  out.push('## Benchmarks', '');
  for (const r of results) {
    out.push(`### ${r.case.title}`, '');
    out.push(r.case.description, '');
    out.push(`Rounds: ${r.rounds}${r.case.warmup ? ` (after ${r.case.warmup} discarded warm-up round)` : ''}${r.case.freshPagePerRound ? ', each on a fresh page' : ', all on one page'}.`, '');
    for (const n of r.notes) out.push(`- ${n}`);
    if (r.notes.length) out.push('');
    const metricNames = Object.keys(r.stats);
    out.push('<details><summary>all rounds</summary>', '');
    out.push('| metric | ' + r.samples.map((_, i) => `#${i + 1}`).join(' | ') + ' |');
    out.push('|---|' + r.samples.map(() => '---:').join('|') + '|');
    for (const k of metricNames) out.push(`| ${k} | ${r.samples.map((s) => (typeof s[k] === 'number' ? (Math.abs(s[k]) >= 1000 ? Math.round(s[k]).toLocaleString('en-US') : s[k].toFixed(2)) : '')).join(' | ')} |`);
    out.push('', '</details>', '');
  }
  return out.join('\n');
}

/** Writes a file, creating its folder. */
export function writeFileEnsured(path, text) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

/**
 * Runs one lanes-only round of a page case under the V8 sampling profiler (CDP) and returns
 * { profile, wallMs, top } where `top` lists functions by self time. Chrome DevTools opens the
 * saved .cpuprofile. Time the page spends waiting (IndexedDB commits happen off the main
 * thread) shows as "(idle)".
 */
export async function profilePageCase(env, suite, c, { extraOptions, intervalUs = 100 } = {}) {
  // lanes only, and no settle pause: the profile should hold the lanes work, not a sleep
  const options = { ...(c.options ?? {}), ...(extraOptions ?? {}), only: 'lanes', settleMs: 0 };
  const page = await env.openPage(suite.page);
  try {
    await call(page, c.fn, 'setup', [options], `${c.name} setup`);
    await call(page, c.fn, 'round', [options, 0], `${c.name} warm-up`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: intervalUs });
    await cdp.send('Profiler.start');
    const t0 = Date.now();
    const metrics = await call(page, c.fn, 'round', [options, 0], `${c.name} profiled round`);
    const wallMs = Date.now() - t0;
    const { profile } = await cdp.send('Profiler.stop');
    await call(page, c.fn, 'teardown', [], `${c.name} teardown`);
    await cdp.detach();
    return { profile, wallMs, metrics, top: topFunctions(profile) };
  } finally {
    await page.close().catch(() => undefined);
  }
}

/** Self time per function (name + file:line), largest first, in ms. */
export function topFunctions(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const f = node.callFrame;
    const file = f.url ? f.url.split('/').pop() : '';
    const key = `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return { totalMs: total, rows: [...self].sort((a, b) => b[1] - a[1]).map(([name, ms]) => ({ name, ms })) };
}
