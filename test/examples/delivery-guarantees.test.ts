/**
 * The README's delivery-guarantee example (examples/delivery-guarantees.mjs) runs: each of
 * at-most-once, at-least-once and exactly-once turns 10 orders into 10 invoices, in Node on the
 * in-page broker (fake-indexeddb) and in Chromium against the SharedWorker broker of the
 * built bundle. The exactly-once run also commits its offsets inside its transactions.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../e2e/browser.js';

type Run = (database: string, count?: number) => Promise<string[]>;
const expected = Array.from({ length: 10 }, (_, i) => `invoice for order ${i}`).sort();

describe('delivery guarantees example', () => {
  it('runs each guarantee to completion in Node', async () => {
    const ex = (await import('../../examples/delivery-guarantees.mjs' as string)) as Record<string, Run>;
    const stamp = Date.now();
    for (const name of ['atMostOnce', 'atLeastOnce', 'exactlyOnce']) {
      const invoices = await ex[name]!(`guarantees-node-${name}-${stamp}`, 10);
      expect([...invoices].sort(), name).toEqual(expected);
    }
  }, 60_000);

  describe('in Chromium', () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness(); }, 60_000);
    afterAll(async () => { await h?.close(); });

    it('runs each guarantee to completion against the SharedWorker broker', async () => {
      const page = await h.context.newPage();
      await page.goto(`${h.url}/test/e2e/pages/guarantees.html`);
      await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
      const stamp = Date.now();
      for (const name of ['atMostOnce', 'atLeastOnce', 'exactlyOnce']) {
        const invoices = await page.evaluate(`window.guarantees[${JSON.stringify(name)}](${JSON.stringify(`guarantees-${name}-${stamp}`)}, 10)`) as string[];
        expect([...invoices].sort(), name).toEqual(expected);
      }
      expect(await page.evaluate(() => 'SharedWorker' in window)).toBe(true);
      await page.close();
    }, 120_000);
  });
});
