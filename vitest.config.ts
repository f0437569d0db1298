import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.browser.test.ts', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Multi-tab scenarios each start a Chromium; keep them from competing for 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
    // The default output, then one plain closing line of counts.
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
