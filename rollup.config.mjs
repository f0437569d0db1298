// ESM bundles for browsers and Node. Dependencies (idb, comlink) are bundled in, and each entry
// is self-contained (no shared chunks), so a page can import dist/index.js with no build step of
// its own and an app bundler that copies dist/lanes-broker.js as a worker asset gets all of it.
// Types come from tsc (tsconfig.build.json).
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const entry = (input, file) => ({
  input,
  output: { file, format: 'es', sourcemap: true, inlineDynamicImports: true },
  plugins: [
    nodeResolve({ browser: true }),
    typescript({ tsconfig: './tsconfig.json', declaration: false, declarationMap: false, outDir: 'dist', sourceMap: true, include: ['src/**/*.ts'] }),
  ],
});

// The elements (lit bundled in) import the client from the core bundle beside them, so a page
// that uses both loads the client once, and the core bundle does not grow by a byte.
const components = {
  ...entry('src/components/index.ts', 'dist/components.js'),
  external: ['./index.js'],
};
components.plugins = [
  {
    name: 'core-bundle-external',
    resolveId(source, importer) {
      if (source === '../index.js' && importer && /[\\/]src[\\/]components[\\/]/.test(importer)) return { id: './index.js', external: true };
      return null;
    },
  },
  ...components.plugins,
];

export default [
  entry('src/index.ts', 'dist/index.js'),
  components,
  entry('src/broker/shared-worker.ts', 'dist/lanes-broker.js'),
];
