/**
 * Tabs for multi-tab scenarios: each is a Playwright page of one browser context (so they
 * share an origin, IndexedDB, SharedWorkers, Web Locks and BroadcastChannels) that reports what
 * it processes through a binding.
 */
import type { BrowserContext, Page } from 'playwright-core';

/** An event a tab reported. */
export interface Reported {
  type: 'processed' | 'committed' | 'acked' | 'join';
  topic?: string;
  partition?: number;
  offset?: number;
  value?: unknown;
  generationId?: number;
  assignment?: Record<string, number[]>;
}

/** A tab and what it reported. */
export interface Tab {
  name: string;
  page: Page;
  events: Reported[];
  eval<T>(fn: string): Promise<T>;
  /** Calls an export of harness.js with one argument. */
  call<T>(fn: string, arg?: unknown): Promise<T>;
}

/** Opens a tab on the harness page. */
export async function openTab(context: BrowserContext, url: string, name: string, mode: 'shared-worker' | 'leader-tab'): Promise<Tab> {
  const page = await context.newPage();
  const events: Reported[] = [];
  await page.exposeBinding('report', (_src, e: Reported) => { events.push(e); });
  page.on('pageerror', (e) => { console.error(`[${name}] pageerror`, e); });
  // A page whose imports fail (dist/ not built, a syntax error in the bundle) is never ready:
  // say why at once instead of timing out.
  let ready = false;
  const failed = new Promise<never>((_, reject) => page.on('pageerror', (e) => { if (!ready) reject(new Error(`tab ${name}: the page failed before it was ready: ${e.message}`)); }));
  failed.catch(() => undefined);
  await page.goto(`${url}/test/e2e/pages/tab.html${mode === 'leader-tab' ? '?noSharedWorker' : ''}`);
  await Promise.race([page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true), failed]);
  ready = true;
  return {
    name, page, events,
    eval: (fn) => page.evaluate(fn),
    call: (fn, arg) => page.evaluate(([f, a]) => (window as unknown as { harness: Record<string, (x: unknown) => unknown> }).harness[f as string]!(a), [fn, arg] as const) as Promise<never>,
  };
}

/** Polls `check` (no fixed sleeps in assertions: waits for a condition, with a deadline). */
export async function waitFor<T>(what: string, check: () => Promise<T | false | undefined | null> | T | false | undefined | null, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as T;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Records processed per partition, in the order one tab processed them. */
export function processedByPartition(events: Reported[], topic: string): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const e of events) {
    if (e.type !== 'processed' || e.topic !== topic) continue;
    const l = m.get(e.partition!) ?? [];
    l.push(e.offset!);
    m.set(e.partition!, l);
  }
  return m;
}
