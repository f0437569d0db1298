// Browser tests (*.browser.test.ts) in Debian's Chromium and Firefox ESR, never a downloaded
// browser. Chromium is driven over CDP, Firefox by puppeteer-core over WebDriver BiDi.
// LANES_BROWSERS=chromium or LANES_BROWSERS=firefox (comma-separated) narrows the run.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import * as puppeteer from 'puppeteer-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const firefoxPath = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';
const wanted = new Set((process.env.LANES_BROWSERS || 'chromium,firefox').split(',').map((s) => s.trim()).filter(Boolean));
for (const name of wanted) {
  if (name !== 'chromium' && name !== 'firefox') throw new Error(`LANES_BROWSERS: unknown browser "${name}" (chromium, firefox)`);
}

const launchers = {
  chromium: () => chromeLauncher({
    launchOptions: {
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        `--user-data-dir=${mkdtempSync(join(tmpdir(), 'lanes-wtr-'))}`,
      ],
    },
  }),
  firefox: () => chromeLauncher({
    puppeteer,
    launchOptions: {
      browser: 'firefox',
      executablePath: firefoxPath,
      headless: true,
      userDataDir: mkdtempSync(join(tmpdir(), 'lanes-wtr-ff-')),
    },
  }),
};

export default {
  files: ['test/**/*.browser.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  rootDir: '.',
  testsFinishTimeout: 10 * 60 * 1000,
  testFramework: { config: { timeout: 60000 } },
  plugins: [esbuildPlugin({ ts: true, target: 'es2022' })],
  browsers: ['chromium', 'firefox'].filter((n) => wanted.has(n)).map((n) => launchers[n]()),
};
