/**
 * Two devices (two Chromium profiles) write offline, come online, and each mirrors the replica
 * topic both pushed to: both end with the same records in the same order, which is the
 * replica's, and the mirrored topic is never pushed back.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from './tabs.js';
import { openSyncTab, syncScenario, type SyncCall } from './sync-tabs.js';
import { readAll } from '../replica/helpers.js';

const env = syncScenario(2);

describe('sync: two devices mirror each other', () => {
  it('both write offline, come online, mirror the replica topic: the same records in the same order on both', async () => {
    const { server, devices } = env;
    const token = await server.token();
    const database = `mirror-${Date.now()}`;
    const tabs: SyncCall[] = [];
    for (const [i, d] of devices.entries()) {
      const { call } = await openSyncTab(d);
      await call('start', { database, url: server.url, token });
      await call('createTopic', { topic: 'notes', numPartitions: 2 });
      await d.context.setOffline(true);
      await waitFor('offline', async () => (await call<{ online: boolean }>('status')).online === false);
      await call('produce', { topic: 'notes', count: 500, partitions: 2, batch: 50, prefix: `dev${i}` });
      tabs.push(call);
    }
    for (const d of devices) await d.context.setOffline(false);
    for (const call of tabs) await call('mirror', { topic: 'notes', into: 'notes-all' });
    const total = async (call: SyncCall) => (await call<{ high: string }[]>('offsets', 'notes-all').catch(() => [])).reduce((n, o) => n + Number(o.high), 0);
    for (const call of tabs) await waitFor('1,000 mirrored records', async () => (await total(call)) === 1000, 60_000);
    const replica = await Promise.all([0, 1].map((p) => readAll(server.url, token, 'notes', p)));
    expect(replica[0]!.length + replica[1]!.length).toBe(1000);
    for (const p of [0, 1]) {
      const views = await Promise.all(tabs.map((call) => call<{ value: string; replicaOffset: string }[]>('readAll', { topic: 'notes-all', partition: p, expected: replica[p]!.length })));
      expect(views[0]).toEqual(views[1]);
      expect(views[0]!.map((r) => r.value)).toEqual(replica[p]!.map((r) => r.value));
      expect(views[0]!.map((r) => r.replicaOffset)).toEqual(replica[p]!.map((r) => r.offset));
      // Each device's records keep their order inside the union.
      for (const dev of ['dev0', 'dev1']) {
        const seq = views[0]!.filter((r) => r.value.startsWith(dev)).map((r) => Number(r.value.split('-')[2]));
        expect(seq).toHaveLength(250);
        expect(seq).toEqual([...seq].sort((a, b) => a - b));
      }
    }
    // Both devices uploaded everything, and nothing of notes-all went back to the replica.
    for (const call of tabs) await waitFor('idle', async () => (await call<{ state: string; pendingRecords: number }>('status')).pendingRecords === 0);
    const topics = (await (await fetch(`${server.url}/v1/topics`, { headers: { authorization: `Bearer ${token}` } })).json()) as { topics: { topic: string }[] };
    expect(topics.topics.map((t) => t.topic)).toEqual(['notes']);
  }, 180_000);
});
