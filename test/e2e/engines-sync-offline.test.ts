/**
 * Offline -> online delivery of sync, one scenario for every engine (engines.ts drives Chromium
 * or Firefox ESR), against the real replica server. The engine goes offline (navigator.onLine
 * false and `offline` events in pages and workers) and the path to the replica is cut; records
 * written meanwhile reach the replica once the network is back:
 * 1. with a tab open, on the `online` event;
 * 2. with every tab closed, by the service worker: woken by Background Sync where the platform
 *    has it (Chromium), else kept waiting by the last tab's `pagehide` message (Firefox);
 * 3. where there is no Background Sync, with every tab closed and the service worker ended
 *    before the network is back (an outage longer than the browser keeps a worker alive): on the
 *    next page load.
 * Also: the status reports persistent storage (`persisted`) in both engines.
 * Only step 3 is engine-specific, chosen by what the page reports (`SyncManager`); the test also
 * checks which engine reports it. Runs against the built bundle (npm run build).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCuttableProxy, type CuttableProxy } from './cuttable-proxy.js';
import { ENGINES, startEngine, type DriverTab, type Engine } from './engines.js';
import { waitFor } from './tabs.js';
import { readAll, startServer } from '../replica/helpers.js';

type Call = <T>(fn: string, arg?: unknown) => Promise<T>;
interface SyncStatusLite { online: boolean; pendingRecords: number; state: string }
interface SyncTab { tab: DriverTab; call: Call }

async function openSyncTab(engine: Engine): Promise<SyncTab> {
  const tab = await engine.newTab();
  await tab.goto(`${engine.url}/test/e2e/pages/sync.html`);
  await waitFor('sync tab ready', () => tab.evaluate(() => (window as unknown as { ready?: boolean }).ready === true));
  const call: Call = (fn, arg) => tab.evaluate(([f, a]) => (window as any).syncHarness[f](a), [fn, arg] as const) as Promise<never>;
  return { tab, call };
}

describe.each(ENGINES)('sync offline -> online in %s', (name) => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let proxy: CuttableProxy;
  let engine: Engine;

  beforeAll(async () => {
    server = await startServer({ allowOrigins: ['*'] });
    proxy = await startCuttableProxy(server.url);
    engine = await startEngine(name);
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await proxy?.close();
    await server?.http.close();
  });

  it('records written offline reach the replica once online: on `online` with a tab open, by the service worker with every tab closed, else on the next page load; once each, in order', async () => {
    const token = await server.token();
    const database = `engines-sync-${Date.now()}`;
    const topic = 'events';
    const held = async () => (await Promise.all([0, 1, 2].map((p) => readAll(server.url, token, topic, p).catch(() => [])))).reduce((n, x) => n + x.length, 0);
    const start = async () => {
      const t = await openSyncTab(engine);
      await t.call('start', { database, url: proxy.url, token });
      return t;
    };
    /** Offline, then `count` records from `from`, all pending. */
    const writeOffline = async (t: SyncTab, from: number, count: number) => {
      proxy.cut();
      await engine.setOffline(true);
      await waitFor('the uploader to see the network gone', async () => (await t.call<SyncStatusLite>('status')).online === false);
      await t.call('produce', { topic, count, partitions: 3, batch: 250, from });
      const s = await waitFor(`${count} records pending`, async () => { const x = await t.call<SyncStatusLite>('status'); return x.pendingRecords === count ? x : false; });
      expect(s.state).toBe('offline');
    };
    const goOnline = async () => {
      proxy.restore();
        await engine.setOffline(false);
      };

    const first = await start();
    await first.call('createTopic', { topic, numPartitions: 3 });
    expect(await first.call<boolean>('swReady')).toBe(true);
    // The platform difference this scenario depends on, as the page sees it.
    const backgroundSync = await first.tab.evaluate(() => 'SyncManager' in window && 'sync' in ServiceWorkerRegistration.prototype);
    expect(backgroundSync).toBe(name === 'chromium');
    // Persistent storage is asked for; a fresh profile has none, and the status says so in both
    // engines (Firefox's persist() waits for an answer to its prompt: persisted() is shown).
    const persisted = await waitFor('the persistence answer', async () => {
      const s = await first.call<{ persisted: boolean | null }>('status');
      return typeof s.persisted === 'boolean' ? s : false;
    });
    expect(persisted.persisted).toBe(false);

    // 1. A tab stays open: the `online` event resumes the upload.
    await writeOffline(first, 0, 300);
    const missing = await fetch(`${server.url}/v1/topics/${topic}`, { headers: { authorization: `Bearer ${token}` } });
    expect(missing.status).toBe(404); // nothing reached the replica while offline
    await goOnline();
    await waitFor('the replica to hold the first 300 records', async () => (await held()) === 300, 60_000);

    // 2. Every tab closed before the network is back: the service worker delivers, no tab open.
    //    Without Background Sync, nothing but lanes starts the worker then: it is ended first (as
    //    the browser ends an idle one), and the closing tab's `pagehide` message starts it.
    await writeOffline(first, 300, 1000);
    if (!backgroundSync) await engine.stopServiceWorkers();
    await first.tab.close();
    await goOnline();
    await waitFor('the replica to hold 1,300 records with no tab open', async () => (await held()) === 1300, 120_000);

    // 3. Without Background Sync, an outage that outlasts the service worker (ended here as the
    //    browser ends a worker whose time is up) is delivered on the next page load. With
    //    Background Sync the browser starts the worker when the network is back (step 2).
    let total = 1300;
    if (!backgroundSync) {
      const second = await start();
      await writeOffline(second, 1300, 2000);
      await second.tab.close();
      await engine.stopServiceWorkers();
      await goOnline();
      total = 3300;
      const third = await start();
      await waitFor('the replica to hold every record after the next page load', async () => (await held()) === total, 120_000);
      await waitFor('nothing pending', async () => (await third.call<SyncStatusLite>('status')).pendingRecords === 0);
      await third.tab.close();
    }

    const parts = await Promise.all([0, 1, 2].map((p) => readAll(server.url, token, topic, p)));
    const all: string[] = [];
    parts.forEach((recs, p) => {
      expect(recs.map((r) => Number(r.offset))).toEqual(recs.map((_, i) => i)); // dense replica offsets
      const seq = recs.map((r) => { const [, part, i] = r.value!.split('-'); expect(Number(part)).toBe(p); return Number(i); });
      expect(seq).toEqual([...seq].sort((a, b) => a - b)); // the device's order
      all.push(...recs.map((r) => r.value!));
    });
    expect(all).toHaveLength(total);
    expect(new Set(all).size).toBe(total); // none twice
  }, 300_000);
});
