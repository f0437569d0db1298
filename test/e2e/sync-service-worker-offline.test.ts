/**
 * Sync in real Chromium against the real replica server: records written offline reach the
 * replica through the service worker alone once every tab is closed and the network is back;
 * exactly once and per partition in order.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from './tabs.js';
import { openSyncTab, syncScenario } from './sync-tabs.js';
import { readAll } from '../replica/helpers.js';

const env = syncScenario();

describe('sync: the service worker delivers what was written offline', () => {
  it('offline: 10,000 records across 3 partitions; every tab closed; online: the replica holds exactly those, in order, once', async () => {
    const { server, devices: [h] } = env;
    const token = await server.token();
    const database = `sw-offline-${Date.now()}`;
    const topic = 'events';
    const tab = await openSyncTab(h, { logErrors: true });
    await tab.call('start', { database, url: server.url, token });
    await tab.call('createTopic', { topic, numPartitions: 3 });
    expect(await tab.call<boolean>('swReady')).toBe(true);

    // Requests to the replica, by who sent them (Playwright sees the service worker's).
    const pushes: { fromServiceWorker: boolean; at: number }[] = [];
    h.context.on('request', (r) => { if (r.url().startsWith(`${server.url}/v1/push`)) pushes.push({ fromServiceWorker: r.serviceWorker() !== null, at: Date.now() }); });

    // Opened while the network is there: a page of the origin that loads nothing of lanes.
    const probe = await h.context.newPage();
    await probe.goto(`${h.url}/test/e2e/pages/probe.html`);
    await h.context.setOffline(true);
    await waitFor('the uploader to see the network gone', async () => (await tab.call<{ online: boolean }>('status')).online === false);
    await tab.call('produce', { topic, count: 10_000, partitions: 3, batch: 250 });
    const pending = await waitFor('10,000 records pending', async () => { const s = await tab.call<{ pendingRecords: number; state: string }>('status'); return s.pendingRecords === 10_000 ? s : false; });
    expect(pending.state).toBe('offline');
    // Nothing reached the replica while offline.
    const before = await fetch(`${server.url}/v1/topics/${topic}`, { headers: { authorization: `Bearer ${token}` } });
    expect(before.status).toBe(404);

    const brokerLockHeld = () => probe.evaluate(async (lock) => (await navigator.locks.query()).held?.some((l) => l.name === lock) ?? false, `lanes:${database}:broker`);
    expect(await brokerLockHeld()).toBe(true);
    for (const p of h.context.pages()) if (p !== probe) await p.close();
    // The broker's SharedWorker ends after its last tab, but not at once: until its broker lock
    // is released it could still see the network come back and upload itself. The probe page
    // (it loads nothing of lanes) watches the origin's locks until then.
    await waitFor('the broker (SharedWorker) to end with its tabs', async () => !(await brokerLockHeld()), 30_000);
    await probe.close();
    expect(h.context.pages()).toHaveLength(0);
    const closedAt = Date.now();
    await h.context.setOffline(false);

    const perPartition = await waitFor('the replica to hold 10,000 records', async () => {
      const parts = await Promise.all([0, 1, 2].map((p) => readAll(server.url, token, topic, p).catch(() => [])));
      return parts.reduce((n, x) => n + x.length, 0) >= 10_000 ? parts : false;
    }, 120_000);
    expect(h.context.pages()).toHaveLength(0);
    const all: string[] = [];
    perPartition.forEach((recs, p) => {
      expect(recs.map((r) => Number(r.offset))).toEqual(recs.map((_, i) => i)); // dense replica offsets
      const seq = recs.map((r) => { const [, part, i] = r.value!.split('-'); expect(Number(part)).toBe(p); return Number(i); });
      expect(seq).toEqual([...seq].sort((a, b) => a - b)); // the device's order
      all.push(...recs.map((r) => r.value!));
    });
    expect(all).toHaveLength(10_000);
    expect(new Set(all).size).toBe(10_000); // none twice
    // Delivered by the service worker, after the tabs were gone.
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes.every((x) => x.fromServiceWorker && x.at >= closedAt)).toBe(true);
  }, 180_000);
});
