/**
 * Playwright harness for multi-tab scenarios: Debian's Chromium, one fresh profile per browser,
 * pages served from the repository by the static server on 127.0.0.1.
 */
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain ESM script without types
import { startStaticServer } from '../../scripts/static-server.mjs';
import { assertBuilt } from '../helpers/built.js';

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** A browser with a persistent context (fresh profile) and a server for the repository. */
export interface Harness {
  context: BrowserContext;
  url: string;
  close(): Promise<void>;
}

/** Starts Chromium and the static server (the pages load lanes from dist/: it must be built). */
export async function startHarness(): Promise<Harness> {
  assertBuilt();
  const server = await startStaticServer({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'lanes-e2e-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    url: server.url,
    async close() {
      await context.close().catch(() => undefined);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type { Browser };
