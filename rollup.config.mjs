// ESM bundles for browsers and Node; dependencies (idb, lit, workbox-window) are bundled in. Types come from
// tsc (tsconfig.build.json).
//
// Three builds:
// - The hosts that run the broker in the page (in-page, leader-tab): dist/local-host-<hash>.js,
//   built first, loaded by the client with a dynamic import() only when used, so a page whose
//   broker is the SharedWorker never downloads the broker. It is self-contained except for the
//   error classes, which it takes from './index.js' (an error the in-page broker throws must
//   be an instance of the class the page imported), looked up by code (see hostErrorsModule). Its own copies of the protocol code the tab
//   also has (record batches, validators) keep what only the broker needs out of index.js: a
//   chunk shared with the tab would put those functions into what every page loads.
// - The tab side: every entry of `entries` (one per `exports` path of package.json), split into
//   chunks. What a page loads up front is its entry and the chunks it imports statically; the
//   rest (sync, watch, transactions, GZIP, rarer admin calls) are chunks loaded on first use.
//   Chunks sit beside the entries in dist/ (no subfolder): the client finds the worker
//   script as `new URL('./lanes-broker.js', import.meta.url)`, which must resolve to dist/ from
//   whichever file that code lands in. A page with no build step imports dist/index.js and the
//   browser fetches the chunks itself; an app bundler follows them like any import.
// - The elements dist/components.js (lit bundled in): they import the client from './index.js'
//   beside them, so a page that uses both loads the client once and index.js does not grow.
// - The SharedWorker script dist/lanes-broker.js: one self-contained file (no chunks, dynamic
//   imports inlined), so an app bundler or a server can copy it alone as a worker asset.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import typescript from '@rollup/plugin-typescript';
import { internalNames } from './scripts/internal-names.mjs';
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

/** The file name the local-host build gave its output (it runs before the tab build). */
let localHostFile;

/**
 * What the local-host build's src/errors.ts is: the client entry's own classes and functions,
 * imported from dist/index.js. The classes are looked up by code (`errorClassOf`) instead of
 * imported by name: an app bundler keeps everything an on-demand chunk imports from index.js in
 * what the page loads up front, so naming the ~25 classes only the broker throws cost every page
 * ~0.2 kB gzip, while errorClassOf is there anyway (errorFromData uses it).
 */
function hostErrorsModule() {
  const src = readFileSync('src/errors.ts', 'utf8');
  const table = /const TABLE = '([^']+)'/.exec(src)[1].split(' ');
  // Each entry's code, as errors.ts derives it: `Name[:CODE][=TYPE][+|!]`, CODE defaulting to Name in SNAKE_CASE.
  const codes = table.map((e) => {
    const [, base, given] = /^(\w+)(?::(\w+))?/.exec(e);
    return given ?? base.replace(/\B(?=[A-Z])/g, '_').toUpperCase();
  });
  const classes = [...src.matchAll(/^export const (\w+) = \/\* @__PURE__ \*\/ pick\((\d+)\);$/gm)];
  const others = [...src.matchAll(/^export (?:class|function) (\w+)/gm)].map((m) => m[1]);
  if (classes.length !== table.length) throw new Error(`errors.ts: ${classes.length} exported classes for ${table.length} table entries`);
  return [
    `import { errorClassOf } from './index.js';`,
    `export { ${others.join(', ')} } from './index.js';`,
    ...classes.map(([, name, i]) => `export const ${name} = /* @__PURE__ */ errorClassOf(${JSON.stringify(codes[Number(i)])});`),
  ].join('\n');
}

const HOST_ERRORS = '\0lanes-host-errors';

/** The local-host build takes src/errors.ts from the client's entry, dist/index.js (see hostErrorsModule). */
const errorsFromIndex = {
  name: 'errors-from-index',
  resolveId(source, importer) {
    if (importer === HOST_ERRORS && source === './index.js') return { id: './index.js', external: true };
    if (importer && /^\.\.?\//.test(source) && resolve(dirname(importer), source) === resolve('src/errors.js')) return HOST_ERRORS;
    return null;
  },
  load(id) {
    return id === HOST_ERRORS ? hostErrorsModule() : null;
  },
};

const localHost = {
  input: { 'local-host': 'src/broker/local-host.ts' },
  output: { dir: 'dist', format: 'es', sourcemap: true, entryFileNames: '[name]-[hash].js', inlineDynamicImports: true },
  plugins: [
    dropOldChunks,
    errorsFromIndex,
    ...plugins(),
    { name: 'local-host-file', generateBundle(_, bundle) { localHostFile = Object.keys(bundle).find((f) => f.endsWith('.js')); } },
  ],
};

/** The tab build's dynamic import of the hosts points at the local-host build's file. */
const localHostExternal = {
  name: 'local-host-external',
  resolveId(source, importer) {
    if (importer && /^\.\.?\//.test(source) && resolve(dirname(importer), source) === resolve('src/broker/local-host.js')) {
      if (!localHostFile) throw new Error('the local-host build must run before the tab build');
      return { id: `./${localHostFile}`, external: true };
    }
    return null;
  },
};

/**
 * Shortens the client's internal property names (scripts/internal-names.mjs: private members of
 * src/client's classes that nothing public shares a name with) in the tab build's chunks, the
 * same short name for a name in every chunk. App minifiers keep TypeScript's `private` names,
 * so without this every page would carry them. Chunks of third-party code are left alone.
 */
const shortenInternalNames = () => {
  const names = internalNames();
  const mangleCache = {};
  return {
    name: 'shorten-internal-names',
    async renderChunk(code, chunk) {
      if (names.length === 0 || chunk.moduleIds.every((id) => id.includes('/node_modules/'))) return null;
      const { transform } = await import('esbuild');
      const r = await transform(code, {
        format: 'esm', target: 'es2022', sourcemap: true, sourcefile: chunk.fileName, legalComments: 'inline',
        mangleProps: new RegExp(`^(${names.join('|')})$`), mangleCache,
      });
      Object.assign(mangleCache, r.mangleCache);
      return { code: r.code, map: r.map };
    },
  };
};

export default [
  localHost,
  {
    input: Object.fromEntries(Object.entries(entries).filter(([, src]) => existsSync(src))),
    output: { dir: 'dist', format: 'es', sourcemap: true, entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
    // An on-demand chunk imports the shared modules from index.js itself (no facade chunk).
    preserveEntrySignatures: 'allow-extension',
    plugins: [localHostExternal, ...plugins(), shortenInternalNames()],
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
