/**
 * Shared set-up of the sync scenarios in Chromium: a real replica server that allows any
 * origin, one fresh browser profile per device, and sync tabs on pages/sync.html whose
 * `syncHarness` exports are called from the test.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Page } from 'playwright-core';
import { startHarness, type Harness } from './browser.js';
import { startServer } from '../replica/helpers.js';

/** Calls an export of the sync page's `syncHarness` with one argument. */
export type SyncCall = <T>(fn: string, arg?: unknown) => Promise<T>;

/** The replica server and the devices of a sync scenario, set once the suite's hooks ran. */
export interface SyncScenario {
  server: Awaited<ReturnType<typeof startServer>>;
  devices: Harness[];
}

/** Registers the suite's hooks: starts the server and `devices` browsers before, closes them after. */
export function syncScenario(devices = 1): SyncScenario {
  const env = { devices: [] } as unknown as SyncScenario;
  beforeAll(async () => {
    env.server = await startServer({ allowOrigins: ['*'] });
    for (let i = 0; i < devices; i++) env.devices.push(await startHarness());
  }, 60_000);
  afterAll(async () => {
    for (const d of env.devices) await d.close();
    await env.server?.http.close();
  });
  return env;
}

/** Opens a sync tab on a device once its page is ready; `logErrors` prints the page's uncaught errors. */
export async function openSyncTab(h: Harness, { logErrors = false } = {}): Promise<{ page: Page; call: SyncCall }> {
  const page = await h.context.newPage();
  if (logErrors) page.on('pageerror', (e) => console.error('[sync tab] pageerror', e));
  await page.goto(`${h.url}/test/e2e/pages/sync.html`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  const call: SyncCall = (fn, arg) => page.evaluate(([f, a]) => (window as unknown as { syncHarness: Record<string, (x: unknown) => unknown> }).syncHarness[f as string]!(a), [fn, arg] as const) as Promise<never>;
  return { page, call };
}
