// ESM bundles for browsers and Node. Dependencies (idb, comlink) are bundled in, so a page can
// import dist/index.js with no build step of its own; types come from tsc (tsconfig.build.json).
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { existsSync } from 'node:fs';

const entries = {
  index: 'src/index.ts',
  'lanes-broker': 'src/broker/shared-worker.ts',
};
const input = Object.fromEntries(Object.entries(entries).filter(([, f]) => existsSync(f)));

export default {
  input,
  output: {
    dir: 'dist',
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    sourcemap: true,
  },
  plugins: [
    nodeResolve({ browser: true }),
    typescript({ tsconfig: './tsconfig.json', declaration: false, declarationMap: false, outDir: 'dist', sourceMap: true, include: ['src/**/*.ts'] }),
  ],
};
