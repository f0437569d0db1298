// Browser tests (*.browser.test.ts) in Debian's Chromium and Firefox ESR, never a downloaded
// browser. Chromium is driven over CDP, Firefox by puppeteer-core over WebDriver BiDi.
// LANES_BROWSERS=chromium or LANES_BROWSERS=firefox (comma-separated) narrows the run.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import * as puppeteer from 'puppeteer-core';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

/**
 * Real replica servers for browser tests, started and stopped from a test with
 * `executeServerCommand('lanes-replica-start')` ({ url, token }) and
 * `executeServerCommand('lanes-replica-stop', url)`. They run the built server (dist/node: `npm run
 * build` first, as `npm test` does) on 127.0.0.1, port 0, in a fresh directory, any origin allowed.
 */
function replicaServers() {
  const running = new Map();
  const stop = async (url) => {
    const r = running.get(url);
    running.delete(url);
    if (!r) return;
    await r.http.close().catch(() => undefined);
    await r.store.close().catch(() => undefined);
    rmSync(r.dir, { recursive: true, force: true });
  };
  return {
    name: 'lanes-replica',
    async executeCommand({ command, payload }) {
      if (command === 'lanes-replica-stop') { await stop(payload); return true; }
      if (command !== 'lanes-replica-start') return undefined;
      const dist = new URL('./dist/node/replica/', import.meta.url);
      if (!existsSync(new URL('http-server.js', dist))) throw new Error('lanes-replica-start: dist/node/replica is missing; run npm run build first');
      const [{ createReplicaHttpServer }, { createAuthenticator, mintToken }, { createLogger }, { SqliteStore }] = await Promise.all(
        ['http-server.js', 'auth.js', 'log.js', 'stores/sqlite-store.js'].map((f) => import(new URL(f, dist).href)));
      const secret = randomBytes(32).toString('hex');
      const dir = mkdtempSync(join(tmpdir(), 'lanes-wtr-replica-'));
      const store = new SqliteStore({ dataDir: dir });
      const http = createReplicaHttpServer({ store, auth: createAuthenticator({ secret }), logger: createLogger('error'), allowOrigins: ['*'] });
      const url = await http.listen('127.0.0.1', 0);
      running.set(url, { http, store, dir });
      return { url, token: await mintToken(secret, 'acme', 3600) };
    },
    async serverStop() { for (const url of [...running.keys()]) await stop(url); },
  };
}

export default {
  files: ['test/**/*.browser.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  rootDir: '.',
  testsFinishTimeout: 10 * 60 * 1000,
  testFramework: { config: { timeout: 60000 } },
  plugins: [esbuildPlugin({ ts: true, target: 'es2022' }), replicaServers()],
  browsers: ['chromium', 'firefox'].filter((n) => wanted.has(n)).map((n) => launchers[n]()),
};
