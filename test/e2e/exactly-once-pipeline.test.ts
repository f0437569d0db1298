/**
 * Exactly once across tabs, in real Chromium: a consume-transform-produce pipeline (group
 * `billing` reads `orders`, writes `invoices` and commits the order's offset in the same
 * transaction) runs in 3 tabs while tabs are crashed 50 times at random points (renderer crash
 * by CDP `Page.crash`, or an abrupt close), each replaced by a new tab with the same
 * transactionalId. In the end every order has exactly one committed invoice. The random points
 * come from a seed printed by the test (LANES_SEED=<n> replays a run).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './browser.js';
import { openTab, waitFor, type Tab } from './tabs.js';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 60_000);
afterAll(async () => { await h?.close(); });

/** Calls an export of pages/txn-harness.js in a tab. */
export function txn<T>(tab: Tab, fn: string, arg?: unknown): Promise<T> {
  // A string, so the test runner's transform leaves the page's import() alone.
  return tab.page.evaluate(`import('/test/e2e/pages/txn-harness.js').then((m) => m[${JSON.stringify(fn)}](${JSON.stringify(arg ?? null)}))`) as Promise<T>;
}

/** Crashes a tab's renderer (CDP Page.crash) or closes it abruptly, without letting it finish anything. */
async function crash(tab: Tab, how: 'renderer' | 'close'): Promise<void> {
  if (how === 'close') {
    await tab.page.close({ runBeforeUnload: false }).catch(() => undefined);
    return;
  }
  const cdp = await tab.page.context().newCDPSession(tab.page);
  const crashed = new Promise<void>((r) => tab.page.once('crash', () => r()));
  void cdp.send('Page.crash').catch(() => undefined);
  await crashed;
  await tab.page.close().catch(() => undefined);
}

describe('exactly once: a transactional pipeline across 3 tabs survives 50 crashes', () => {
  it('every order yields exactly one committed invoice, none missing, none twice', async () => {
    const seed = Number(process.env.LANES_SEED ?? Date.now() % 2 ** 31);
    console.log(`exactly-once pipeline: seed ${seed} (replay with LANES_SEED=${seed})`);
    let s = seed;
    const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const database = `eos-${seed}-${Date.now()}`;
    const crashes = 50;
    const ordersPerRound = 12;

    // The orders come from a tab that is never crashed.
    const source = await openTab(h.context, h.url, 'source', 'shared-worker');
    source.page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log(`[source] ${m.text()}`); });
    source.page.on('crash', () => console.log('[source] crashed'));
    await txn(source, 'createTopics', { database, partitions: 6 });
    const open = async (slot: number) => {
      const tab = await openTab(h.context, h.url, `pipeline-${slot}`, 'shared-worker');
      await txn(tab, 'startPipeline', { database, slot, maxDelayMs: 15, transactionTimeout: 30_000 });
      return tab;
    };
    const tabs = [await open(0), await open(1), await open(2)];
    const started = Date.now();
    let produced = 0;
    const kinds = { renderer: 0, close: 0 };
    for (let round = 0; round < crashes; round++) {
      await txn(source, 'produceOrders', { database, from: produced, count: ordersPerRound });
      produced += ordersPerRound;
      // A random point: anywhere from right after the orders arrive to well into their processing.
      await new Promise((r) => setTimeout(r, Math.floor(random() * 250)));
      const slot = Math.floor(random() * 3);
      const how = random() < 0.5 ? 'renderer' : 'close';
      kinds[how]++;
      await crash(tabs[slot]!, how);
      tabs[slot] = await open(slot);
    }
    console.log(`exactly-once pipeline: ${crashes} crashes (${kinds.renderer} renderer crashes, ${kinds.close} abrupt closes), ${produced} orders, ${Math.round((Date.now() - started) / 1000)} s`);

    // Every order is consumed and its offset committed by the group.
    try {
      await waitFor('every order committed by billing', async () => {
        const p = await txn<{ high: number; committed: number }[]>(source, 'progress', { database });
        return p.every((x) => x.committed === x.high) && p;
      }, 120_000);
    } catch (e) {
      console.log('progress', JSON.stringify(await txn(source, 'progress', { database })));
      for (const t of tabs) console.log(t.name, JSON.stringify(await txn(t, 'status').catch((x: Error) => x.message)));
      throw e;
    }
    console.log(`exactly-once pipeline: all orders committed after ${Math.round((Date.now() - started) / 1000)} s`);
    // No transaction is left open: every crashed tab's was aborted by its replacement.
    try {
      await waitFor('no open transaction on invoices', async () => (await txn<{ high: string; lastStable: string }[]>(source, 'offsets', { database, topic: 'invoices' })).every((o) => o.lastStable === o.high), 60_000);
    } catch (e) {
      console.log('invoices', JSON.stringify(await txn(source, 'offsets', { database, topic: 'invoices' })));
      for (const t of tabs) console.log(t.name, JSON.stringify(await txn(t, 'status').catch((x: Error) => x.message)));
      throw e;
    }
    const invoices = await txn<string[]>(source, 'readTopic', { database, topic: 'invoices' });
    const expected = Array.from({ length: produced }, (_, i) => `invoice-order-${i}`);
    const counts = new Map<string, number>();
    for (const v of invoices) counts.set(v, (counts.get(v) ?? 0) + 1);
    const missing = expected.filter((v) => !counts.has(v));
    const twice = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
    expect({ missing, twice }).toEqual({ missing: [], twice: [] });
    expect(invoices).toHaveLength(produced);
    // The crashes did land inside transactions: a read-uncommitted reader sees their aborted invoices.
    const everything = await txn<string[]>(source, 'readTopic', { database, topic: 'invoices', readUncommitted: true });
    console.log(`exactly-once pipeline: ${everything.length - invoices.length} invoice records of aborted transactions in the log`);
    expect(everything.length).toBeGreaterThan(invoices.length);
    for (const t of tabs) await t.page.close();
    await source.page.close();
  }, 400_000);
});
