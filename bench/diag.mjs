#!/usr/bin/env node
// Runs one diagnostic of bench/log-bench.js (window.bench.diag) and prints its JSON: phase
// timings that explain a benchmark's number. Uses the built bundle as it is, plus a bundle of
// the codec's internals (bench/.codec.js, rebuilt each run).
//
//   node bench/diag.mjs [--firefox] producePhases|consumePhases|consumeStages|readRetention|decodePeak|idbReadPeak|codecMicro ['{"calls":100}']
//
// --firefox runs it in Firefox ESR (puppeteer-core over WebDriver BiDi) instead of Chromium.
import { build } from 'esbuild';
import { startEnv } from './lib/harness.mjs';

const argv = process.argv.slice(2);
const engine = argv[0] === '--firefox' ? (argv.shift(), 'firefox') : 'chromium';
const [name, json] = argv;
if (!name) {
  console.error('usage: node bench/diag.mjs NAME [JSON options]');
  process.exit(2);
}
// The codec's internals are not exported by the bundle: the diagnostics get their own build.
await build({
  entryPoints: [new URL('../src/protocol/record-batch.ts', import.meta.url).pathname],
  bundle: true, format: 'esm', target: 'es2022', logLevel: 'warning',
  outfile: new URL('./.codec.js', import.meta.url).pathname,
});
const env = await startEnv({ engine });
try {
  const page = await env.openPage('/bench/log.html');
  const out = await page.evaluate(([n, o]) => {
    const f = window.bench.diag[n];
    if (!f) throw new Error(`no diagnostic ${n}; have: ${Object.keys(window.bench.diag).join(', ')}`);
    return f(o);
  }, [name, json ? JSON.parse(json) : {}]);
  console.log(JSON.stringify(out, (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v), 2));
} finally {
  await env.close();
}
