// The components suite: bundle size of lanes/components beside lit's own, and the record
// browser's frame time while scrolling a 1M-record partition (bench/components.html).
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { formatValue as fmt } from '../lib/harness.mjs';

/** min+gzip bytes of an ES module entry, bundled with its imports except `external`. */
async function minGzip(entry, { contents, external = [] } = {}) {
  const r = await build({
    ...(contents ? { stdin: { contents, resolveDir: process.cwd(), loader: 'js' } } : { entryPoints: [entry] }),
    bundle: true, minify: true, format: 'esm', write: false, external, logLevel: 'silent', legalComments: 'none',
  });
  const code = r.outputFiles[0].contents;
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

/** @type {import('../lib/harness.mjs').Suite} */
export const componentsSuite = {
  name: 'components',
  title: 'Web components (lanes/components)',
  page: '/bench/components.html',
  cases: [
    {
      id: 'j',
      name: 'bundle',
      title: '(j) bundle size, min+gzip',
      description:
        '`dist/components.js` (every element, lit bundled in; the client comes from `dist/index.js`, left external) minified by esbuild and ' +
        'gzipped at level 9, beside lit alone (`LitElement`, `html`, `css`, `svg`, `nothing` bundled the same way). The client the elements use ' +
        'is `dist/index.js`, measured in "Bundle sizes" (it does not contain lit).',
      maxRounds: 1,
      run: async () => {
        const components = await minGzip('dist/components.js', { external: ['./index.js'] });
        const lit = await minGzip(null, { contents: "export { LitElement, html, css, svg, nothing } from 'lit';" });
        return [{ components: components.gzip, lit: lit.gzip, own: components.gzip - lit.gzip }];
      },
      rows: [
        { label: '(j) lanes/components, min+gzip', metric: 'components', baseline: 'lit', unit: 'bytes' },
        { label: '(j) of which lanes code (total - lit)', metric: 'own', unit: 'bytes' },
      ],
      notes: (s) => [`(j) the elements add ${fmt(s.own.median, 'bytes')} bytes min+gzip on top of lit's ${fmt(s.lit.median, 'bytes')}; the core bundle does not include lit.`],
    },
    {
      id: 'k',
      name: 'scroll',
      fn: 'scroll',
      title: '(k) record browser: frames while scrolling a 1M-record partition',
      description:
        '1,000,000 records (~110-byte JSON values) in one partition, broker in its SharedWorker (the default host); `<lanes-record-browser>` 1000x420 px. Per round, ' +
        '300 animation frames with one scroll position each: 100 frames of slow reading (24 px per frame), 100 frames flicking from the top ' +
        'to the bottom of the partition (~10,000 records per frame), 100 frames back up; pages of 200 records are read by its free consumer ' +
        'as they come into view (during a flick, once the position holds for 120 ms). "Last screen filled": from the last frame until no row of the final screen says loading. Metric: intervals between animation frames (ms; 16.7 at 60 Hz). Baseline: the same scroll positions on a ' +
        'plain element of the same size whose 20 rows never change (the browser\'s own cost of scrolling).',
      options: { records: 1_000_000, perSend: 5000, frames: 300 },
      warmup: 1,
      rows: [
        { label: '(k) frame interval p50', metric: 'p50', baseline: 'baseP50', unit: 'ms' },
        { label: '(k) frame interval p95', metric: 'p95', baseline: 'baseP95', unit: 'ms' },
        { label: '(k) frame interval p99', metric: 'p99', baseline: 'baseP99', unit: 'ms' },
        { label: '(k) frames over 50 ms (of 300)', metric: 'over50', unit: 'frames' },
        { label: '(k) last screen filled after the scroll', metric: 'settleMs', unit: 'ms' },
      ],
      notes: (s) => [`(k) scrolling ${fmt(s.rows.median, 'records')} records: median frame ${fmt(s.p50.median, 'ms')} ms, p95 ${fmt(s.p95.median, 'ms')} ms (plain element: ${fmt(s.baseP50.median, 'ms')} / ${fmt(s.baseP95.median, 'ms')} ms).`],
    },
  ],
};
