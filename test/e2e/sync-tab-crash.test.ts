/**
 * Sync in real Chromium against the real replica server: the tab (and with it the SharedWorker
 * broker that uploads) crashes at 20 random points while a backlog uploads; after a last tab
 * finishes, the replica holds every record exactly once, per partition in order.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from './tabs.js';
import { openSyncTab, syncScenario } from './sync-tabs.js';
import { readAll } from '../replica/helpers.js';

const env = syncScenario();

describe('sync: tab crashes during upload', () => {
  it('20 crashes at random points of an upload: in the end every record is in the replica once, in order', async () => {
    const { server, devices: [h] } = env;
    const token = await server.token();
    const database = `sync-crash-${Date.now()}`;
    const topic = 'crashy';
    const perRound = 600;
    const rounds = 20;
    let seed = 20261128;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const replicaCount = async () => (await Promise.all([0, 1, 2].map((p) => readAll(server.url, token, topic, p).catch(() => [])))).reduce((n, x) => n + x.length, 0);
    let crashedMidUpload = 0;
    for (let round = 0; round < rounds; round++) {
      const tab = await openSyncTab(h);
      // Small requests so an upload is many pushes, and a crash lands inside one.
      await tab.call('start', { database, url: server.url, token, lingerMs: 0, maxRequestBytes: 4096 });
      if (round === 0) await tab.call('createTopic', { topic, numPartitions: 3 });
      await tab.call('produce', { topic, count: perRound, partitions: 3, batch: 20, from: round * perRound });
      await new Promise((r) => setTimeout(r, Math.floor(random() * 150)));
      const s = await tab.call<{ pendingRecords: number }>('status').catch(() => ({ pendingRecords: 0 }));
      if (s.pendingRecords > 0) crashedMidUpload++;
      const cdp = await h.context.newCDPSession(tab.page);
      const crashed = new Promise<void>((r) => tab.page.once('crash', () => r()));
      void cdp.send('Page.crash').catch(() => undefined);
      await crashed;
      await tab.page.close().catch(() => undefined);
    }
    // Most crashes hit a running upload (not a test of timing: the final check is what matters).
    expect(crashedMidUpload).toBeGreaterThan(0);
    const last = await openSyncTab(h);
    await last.call('start', { database, url: server.url, token, lingerMs: 0 });
    await waitFor('everything replicated', async () => {
      const s = await last.call<{ pendingRecords: number; state: string }>('status');
      return s.pendingRecords === 0 && s.state === 'idle';
    }, 120_000);
    const offsets = await last.call<{ high: string; replicated: string }[]>('offsets', topic);
    for (const o of offsets) expect(o.replicated).toBe(o.high);
    const parts = await Promise.all([0, 1, 2].map((p) => readAll(server.url, token, topic, p)));
    const all: string[] = [];
    parts.forEach((recs, p) => {
      expect(recs.map((r) => Number(r.offset))).toEqual(recs.map((_, i) => i));
      const seq = recs.map((r) => { const [, part, i] = r.value!.split('-'); expect(Number(part)).toBe(p); return Number(i); });
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
      all.push(...recs.map((r) => r.value!));
    });
    expect(all).toHaveLength(rounds * perRound);
    expect(new Set(all).size).toBe(rounds * perRound);
    expect(await replicaCount()).toBe(rounds * perRound);
  }, 240_000);
});
