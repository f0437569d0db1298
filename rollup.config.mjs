// ESM bundles for browsers and Node; dependencies (idb, lit, workbox-window) are bundled in. Types come from
// tsc (tsconfig.build.json).
//
// Three builds:
// - The tab side: every entry of `entries` (one per `exports` path of package.json), split into
//   chunks. What a page loads up front is its entry and the chunks it imports statically; the
//   hosts that run the broker in the page (in-page, leader-tab) are a chunk loaded by a dynamic
//   import() only when used, so a page whose broker is the SharedWorker never downloads the
//   broker. Chunks sit beside the entries in dist/ (no subfolder): the client finds the worker
//   script as `new URL('./lanes-broker.js', import.meta.url)`, which must resolve to dist/ from
//   whichever file that code lands in. A page with no build step imports dist/index.js and the
//   browser fetches the chunks itself; an app bundler follows them like any import.
// - The elements dist/components.js (lit bundled in): they import the client from './index.js'
//   beside them, so a page that uses both loads the client once and index.js does not grow.
// - The SharedWorker script dist/lanes-broker.js: one self-contained file (no chunks, dynamic
//   imports inlined), so an app bundler or a server can copy it alone as a worker asset.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';

/**
 * Entry points of the core build: output name (dist/<name>.js) -> source. Adding an entry: add
 * it here and to package.json `exports`; the bundle-size report (bench/size.mjs) measures every
 * entry of `exports`. An entry whose source does not exist yet is skipped.
 */
export const entries = {
  index: 'src/index.ts',
  assigners: 'src/group/assigners/index.ts',
};

const plugins = () => [
  nodeResolve({ browser: true }),
  typescript({ tsconfig: './tsconfig.json', declaration: false, declarationMap: false, outDir: 'dist', sourceMap: true, include: ['src/**/*.ts', 'sw/**/*.ts'] }),
];

/** Chunk files have content hashes in their names: drop those of earlier builds. */
const dropOldChunks = {
  name: 'drop-old-chunks',
  buildStart() {
    if (!existsSync('dist')) return;
    for (const f of readdirSync('dist')) if (/^[\w.-]+-[\w-]{8}\.js(\.map)?$/.test(f) && f !== 'lanes-broker.js') rmSync(`dist/${f}`);
  },
};

const components = {
  input: 'src/components/index.ts',
  external: ['./index.js'],
  output: { file: 'dist/components.js', format: 'es', sourcemap: true, inlineDynamicImports: true },
  plugins: [
    {
      name: 'core-bundle-external',
      resolveId(source, importer) {
        if (source === '../index.js' && importer && /[\\/]src[\\/]components[\\/]/.test(importer)) return { id: './index.js', external: true };
        return null;
      },
    },
    ...plugins(),
  ],
};

export default [
  {
    input: Object.fromEntries(Object.entries(entries).filter(([, src]) => existsSync(src))),
    output: { dir: 'dist', format: 'es', sourcemap: true, entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
    // The on-demand chunk imports the shared modules from index.js itself (no facade chunk).
    preserveEntrySignatures: 'allow-extension',
    plugins: [dropOldChunks, ...plugins()],
  },
  ...(existsSync(components.input) ? [components] : []),
  {
    input: 'src/broker/shared-worker.ts',
    output: { file: 'dist/lanes-broker.js', format: 'es', sourcemap: true, inlineDynamicImports: true },
    plugins: plugins(),
  },
  // The ready-made service worker is a classic script (every engine runs those); the module
  // (package export `lanes/sw`) is for an app's own service worker to import.
  {
    input: 'sw/lanes-sw.ts',
    output: { file: 'dist/lanes-sw.js', format: 'iife', sourcemap: true, inlineDynamicImports: true },
    plugins: plugins(),
  },
  {
    input: 'sw/lanes-sync.ts',
    output: { file: 'dist/lanes-sync-sw.js', format: 'es', sourcemap: true, inlineDynamicImports: true },
    plugins: plugins(),
  },
];
