#!/usr/bin/env node
// Bundle sizes, min+gzip, measured from the built files in dist/ (run `npm run build` first):
// for every JavaScript entry of package.json `exports`, what a page downloads up front (the
// entry and the chunks it imports statically) and what it may load later (dynamic imports);
// `import { createClient } from 'lanes'` as an app bundler tree-shakes it; and, beside them,
// idb's and comlink's own sizes. Minified with esbuild (no extra dependency: it comes with
// @web/dev-server-esbuild), gzipped with node:zlib at level 9; each file is compressed on its
// own, as a server sends it.
//
//   node bench/size.mjs          # prints the table
//   node bench/run.mjs           # also writes it into bench/RESULTS.md (`--only size`: sizes alone)
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** The core client's budget: createClient + producer + consumer + admin, SharedWorker host. */
export const CORE_BUDGET_BYTES = 12 * 1024;

async function esbuild() {
  return import('esbuild');
}

/** Static and dynamic relative imports of an ES module (rollup's output: one statement each). */
function importsOf(code) {
  const stat = new Set();
  const dyn = new Set();
  for (const m of code.matchAll(/(?:^|[;\n])\s*(?:import|export)\s*(?:[\w*{}\s,$]+from\s*)?['"](\.\.?\/[^'"]+)['"]/g)) stat.add(m[1]);
  for (const m of code.matchAll(/\bimport\(\s*['"](\.\.?\/[^'"]+)['"]\s*\)/g)) dyn.add(m[1]);
  return { stat: [...stat], dyn: [...dyn] };
}

/** Files an entry loads: `upFront` (itself + static imports, recursively) and `onDemand` (the rest reachable by import()). */
function closure(entryFile) {
  const upFront = new Set();
  const dynRoots = [];
  const walk = (file, into, roots) => {
    if (into.has(file) || !existsSync(file)) return;
    into.add(file);
    const { stat, dyn } = importsOf(readFileSync(file, 'utf8'));
    for (const s of stat) walk(join(dirname(file), s), into, roots);
    for (const d of dyn) roots.push(join(dirname(file), d));
  };
  walk(entryFile, upFront, dynRoots);
  const onDemand = new Set();
  for (let i = 0; i < dynRoots.length; i++) {
    const more = [];
    const before = new Set(onDemand);
    walk(dynRoots[i], onDemand, more);
    for (const f of onDemand) if (upFront.has(f) && !before.has(f)) onDemand.delete(f);
    dynRoots.push(...more.filter((m) => !dynRoots.includes(m)));
  }
  for (const f of upFront) onDemand.delete(f);
  return { upFront: [...upFront], onDemand: [...onDemand] };
}

async function minGzip(files) {
  const { transform } = await esbuild();
  let min = 0, gz = 0;
  for (const f of files) {
    const out = await transform(readFileSync(f, 'utf8'), { minify: true, format: 'esm', target: 'es2022', legalComments: 'none' });
    min += out.code.length;
    gz += gzipSync(out.code, { level: 9 }).length;
  }
  return { min, gz };
}

/** What each on-demand chunk of a bundle is for, by the name of the module it starts from. */
const FEATURES = [
  [/local-host/, 'the in-page / leader-tab broker host (`broker: \'in-page\'`, or no SharedWorker)'],
  [/sync-hub/, '`client.sync` (status, events, mirror, token)'],
  [/sync-runtime/, 'sync runtime, when a client with `sync` connects (persist, tokens, service worker registration)'],
  [/workbox-window/, 'workbox-window, when the sync runtime registers the service worker'],
  [/watch-loop/, '`client.watch()`'],
  [/transaction/, '`producer.transaction()`'],
  [/compression/, 'GZIP: a compressed send, or a compressed batch fetched'],
  [/replace/, 'a send placed again after its topic was re-created with fewer partitions'],
  [/each-batch/, '`consumer.run({ eachBatch })`: the batch payload (lags, resolveOffset, commitOffsetsIfNecessary, uncommittedOffsets, isStale)'],
  [/send-failure/, 'a produce request that failed: each joined send alone, a sequence that starts over, stale metadata dropped, a send placed again'],
  [/failure/, 'a consumer handler that threw (its retries), and a consumer crash (the restart rule)'],
  [/retry-loop/, 'what follows a call whose first try failed: the rule of what is retriable, the waits and the retries (producer, admin, consumer handlers)'],
  [/joint-json/, 'in Firefox only, loaded with the client: one JSON.stringify for all the JSON values of a send (protocol/joint-json.ts)'],
  [/admin-tools/, 'the rarer admin calls (configs, deleteRecords, fetchTopicOffsetsByTimestamp, listGroups, describeGroups, deleteGroups, fetchOffsets, setOffsets, resetOffsets, describeSegments, runLogCleaner)'],
];

/**
 * Bundles `code` (an ES module importing from the repository) the way an app bundler would,
 * tree-shaken and minified. Answers what loads up front (the entry and the chunks it imports
 * statically) and, for every dynamic import(), what that import adds when it first runs (its
 * chunk and the chunks it imports statically that are not loaded already).
 */
async function bundled(code) {
  const { build } = await esbuild();
  const r = await build({
    stdin: { contents: code, resolveDir: ROOT, loader: 'js' }, bundle: true, splitting: true, format: 'esm', minify: true,
    write: false, outdir: '/virtual', platform: 'browser', metafile: true, logLevel: 'error', legalComments: 'none', target: 'es2022',
  });
  const outputs = r.metafile.outputs;
  const byPath = new Map(r.outputFiles.map((f) => [relative(process.cwd(), f.path), f]));
  const file = (k) => byPath.get(k) ?? r.outputFiles.find((o) => o.path.endsWith(k.replace(/^(\.\.\/)+/, '/')));
  const staticClosure = (k, into, skip = new Set()) => {
    if (into.has(k) || skip.has(k)) return into;
    into.add(k);
    for (const i of outputs[k].imports) if (i.kind === 'import-statement') staticClosure(i.path, into, skip);
    return into;
  };
  const measure = (keys) => {
    let min = 0, gz = 0;
    for (const k of keys) { const f = file(k); min += f.contents.length; gz += gzipSync(f.contents, { level: 9 }).length; }
    return { min, gz, files: keys.size };
  };
  const entry = Object.keys(outputs).find((k) => outputs[k].entryPoint === '<stdin>');
  const upFront = staticClosure(entry, new Set());
  // Every dynamic import reachable from the entry, through up-front and on-demand chunks alike.
  const lazy = [];
  const seen = new Set();
  const queue = [...upFront];
  while (queue.length) {
    const k = queue.shift();
    for (const i of outputs[k].imports) {
      if (i.kind !== 'dynamic-import' || seen.has(i.path)) continue;
      seen.add(i.path);
      const adds = staticClosure(i.path, new Set(), upFront);
      const from = outputs[i.path].entryPoint ?? i.path;
      lazy.push({ from, ...measure(adds) });
      queue.push(...adds);
    }
  }
  return { ...measure(upFront), lazy };
}

/**
 * What the core client is made of: `import { createClient }` bundled from the sources (so each
 * module is seen), the minified bytes each source module contributes to what loads up front.
 */
export async function coreBreakdown() {
  const { build } = await esbuild();
  const r = await build({
    stdin: { contents: "import { createClient } from './src/index.ts'; export { createClient };", resolveDir: ROOT, loader: 'ts' },
    bundle: true, splitting: true, format: 'esm', minify: true, write: false, outdir: '/virtual', platform: 'browser', metafile: true, logLevel: 'error', target: 'es2022',
    // As in dist/ (rollup.config.mjs), the broker host is a build of its own: what only it uses
    // from the shared modules does not count in the client's share.
    plugins: [{ name: 'host-apart', setup(b) { b.onResolve({ filter: /broker\/local-host\.js$/ }, (a) => ({ path: a.path, external: true })); } }],
  });
  const outputs = r.metafile.outputs;
  const entry = Object.keys(outputs).find((k) => outputs[k].entryPoint === '<stdin>');
  const seen = new Set();
  const visit = (k) => { if (seen.has(k)) return; seen.add(k); for (const i of outputs[k].imports) if (i.kind === 'import-statement') visit(i.path); };
  visit(entry);
  const bytes = new Map();
  for (const k of seen) for (const [input, v] of Object.entries(outputs[k].inputs)) bytes.set(input, (bytes.get(input) ?? 0) + v.bytesInOutput);
  return [...bytes].filter(([, b]) => b > 0).sort((a, b) => b[1] - a[1]).map(([input, min]) => ({ input, min }));
}

/** Every measurement, as rows. */
export async function bundleSizes() {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const rows = [];
  for (const [path, target] of Object.entries(pkg.exports ?? {})) {
    const file = typeof target === 'string' ? target : target.default;
    if (!file?.endsWith('.js')) continue;
    const abs = join(ROOT, file);
    const name = path === '.' ? 'lanes' : `lanes/${path.replace(/^\.\//, '')}`;
    if (!existsSync(abs)) { rows.push({ label: `${name} (${file})`, what: 'not built', min: NaN, gz: NaN }); continue; }
    const { upFront, onDemand } = closure(abs);
    const up = await minGzip(upFront);
    rows.push({ label: `${name} (${file}), up front`, what: upFront.map((f) => relative(join(ROOT, 'dist'), f)).join(' + '), ...up });
    if (onDemand.length) {
      const od = await minGzip(onDemand);
      rows.push({ label: `${name}, on demand`, what: `${onDemand.map((f) => relative(join(ROOT, 'dist'), f)).join(' + ')} (every on-demand chunk together; per feature in the core client rows)`, ...od });
    }
  }
  if (existsSync(join(ROOT, 'dist/index.js'))) {
    const core = await bundled("import { createClient } from './dist/index.js'; export { createClient };");
    rows.push({ label: "core client: `import { createClient } from 'lanes'`, app-bundled", what: 'createClient + producer (send, sendBatch) + consumer (subscribe, run with eachMessage, commit, seek, pause) + admin, SharedWorker host; tree-shaken and minified by esbuild; on-demand chunks below excluded (the eachBatch payload is one of them)', ...core, goal: CORE_BUDGET_BYTES });
    for (const l of core.lazy) {
      const name = relative(join(ROOT, 'dist'), join(ROOT, l.from));
      const feature = FEATURES.find(([re]) => re.test(name))?.[1] ?? 'loaded on demand';
      rows.push({ label: `+ on first use: ${feature}`, what: `adds ${name} (${l.files} file${l.files === 1 ? '' : 's'}, with what it imports that is not loaded yet)`, min: l.min, gz: l.gz });
    }
  }
  for (const [name, spec] of [['idb', 'idb'], ['comlink', 'comlink']]) {
    const version = JSON.parse(readFileSync(require.resolve(`${spec}/package.json`), 'utf8')).version;
    const whole = await bundled(`export * from '${spec}';`);
    rows.push({ label: `${name} ${version} (whole library, for comparison)`, what: name === 'comlink' ? 'its ESM build, minified by esbuild (a dev dependency kept for this row: lanes speaks protocol/port-rpc.ts instead)' : 'its ESM build, minified by esbuild', ...whole });
  }
  return rows;
}

const kB = (n) => (Number.isFinite(n) ? `${(n / 1024).toFixed(1)} kB` : '—');

/** Console table. */
export function sizeTable(rows) {
  const lines = rows.map((r) => [r.label, kB(r.min), kB(r.gz), r.goal ? `<= ${kB(r.goal)} ${r.gz <= r.goal ? 'PASS' : 'MISS'}` : '']);
  const w = [0, 1, 2, 3].map((i) => Math.max(...lines.map((l) => l[i].length), ['bundle', 'min', 'min+gzip', 'goal'][i].length));
  const fmt = (l) => l.map((c, i) => (i === 1 || i === 2 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ');
  return [fmt(['bundle', 'min', 'min+gzip', 'goal']), w.map((n) => '-'.repeat(n)).join('  '), ...lines.map(fmt)].join('\n');
}

/** The RESULTS.md section. */
export function sizeMarkdown(rows, breakdown = []) {
  const out = ['## Bundle sizes', ''];
  out.push('Measured by `bench/size.mjs` from the built files in `dist/`: minified with esbuild, gzipped with node:zlib (level 9), each file on its own as a server sends it. "Up front" is what a page loads when it imports the entry (the entry and its static imports); "on demand" is what it loads only on first use of a feature (dynamic import()): the broker host when the page runs the broker itself (in-page or leader tab), `client.sync`, `client.watch()`, `producer.transaction()`, GZIP, the rarer admin calls, eachBatch payloads, and what runs only after a failure (retries, the retries of a consumer handler and its restart rule). The core client rows show the budgeted core up front, then what each feature adds when it is first used.', '');
  out.push('| bundle | files | min | min+gzip | goal | result |', '|---|---|---:|---:|---|---|');
  for (const r of rows) out.push(`| ${r.label} | ${r.what} | ${kB(r.min)} | ${kB(r.gz)} | ${r.goal ? `<= ${kB(r.goal)}` : '—'} | ${r.goal ? (r.gz <= r.goal ? 'PASS' : 'MISS') : '—'} |`);
  out.push('');
  if (breakdown.length) {
    const total = breakdown.reduce((n, b) => n + b.min, 0);
    out.push('<details><summary>what the core client is made of (minified bytes per source module, bundled from src/)</summary>', '');
    out.push('| module | min | share |', '|---|---:|---:|');
    for (const b of breakdown) out.push(`| ${b.input} | ${kB(b.min)} | ${((100 * b.min) / total).toFixed(1)}% |`);
    out.push('', '</details>', '');
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(sizeTable(await bundleSizes()));
  console.log('\ncore client by source module (minified bytes):');
  for (const b of (await coreBreakdown()).slice(0, 25)) console.log(`${kB(b.min).padStart(9)}  ${b.input}`);
}
