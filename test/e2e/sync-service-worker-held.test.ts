/**
 * Sync in real Chromium against the real replica server: with every lanes tab closed, the
 * service worker uploads a partition's records while another partition holds a batch the
 * replica refuses for good (a record over the replica's 1 MiB record limit, in a topic whose
 * max.message.bytes allows it). Each service-worker run sends the held batch once (one 413),
 * uploads the rest and lets the sync lock go; the status it leaves names the held partition.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from './tabs.js';
import { openSyncTab, syncScenario } from './sync-tabs.js';
import { readAll } from '../replica/helpers.js';

const env = syncScenario();

/** What the probe page heard from the service worker on the sync channel. */
interface Heard { state: string; blocked: { topic: string; partition: number; baseOffset: number; code: string; message: string }[]; pendingRecords: number }

describe('sync: the service worker with a partition held back', () => {
  it('uploads the other partition, sends the refused batch once per run, and leaves a status naming the held partition', async () => {
    const { server, devices: [h] } = env;
    const token = await server.token();
    const database = `sw-held-${Date.now()}`;
    const topic = 'mixed';
    const tab = await openSyncTab(h, { logErrors: true });
    await tab.call('start', { database, url: server.url, token });
    // Locally a record may take 4 MiB; the replica takes 1 MiB per record.
    await tab.call('createTopic', { topic, numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: String(4 << 20) }] });
    expect(await tab.call<boolean>('swReady')).toBe(true);

    // The replica's answers to pushes, and who sent them (Playwright sees the service worker's).
    const answers: { status: number; fromServiceWorker: boolean }[] = [];
    h.context.on('response', (r) => {
      if (r.url().startsWith(`${server.url}/v1/push`)) answers.push({ status: r.status(), fromServiceWorker: r.request().serviceWorker() !== null });
    });
    const refusals = () => answers.filter((a) => a.status === 413).length;

    // A page of the origin that loads nothing of lanes: it watches the origin's locks and
    // listens to the service worker's status on the sync channel.
    const probe = await h.context.newPage();
    await probe.goto(`${h.url}/test/e2e/pages/probe.html`);
    await probe.evaluate((channel) => {
      const w = window as unknown as { heard: unknown[] };
      w.heard = [];
      new BroadcastChannel(channel).onmessage = (e: MessageEvent) => {
        const m = e.data as { type?: string; role?: string; status?: unknown };
        if (m?.type === 'status' && m.role === 'service-worker') w.heard.push(m.status);
      };
    }, `lanes:${database}:sync`);
    const heard = () => probe.evaluate(() => (window as unknown as { heard: Heard[] }).heard);

    await h.context.setOffline(true);
    await waitFor('the uploader to see the network gone', async () => (await tab.call<{ online: boolean }>('status')).online === false);
    await tab.call('produceLarge', { topic, partition: 0, bytes: 2 << 20 });
    await tab.call('produce', { topic, count: 20, partitions: 2, prefix: 'r', batch: 20 });
    // produce() round-robins: 10 small records to partition 0 after the big one, 10 to partition 1.
    await waitFor('21 records pending', async () => (await tab.call<{ pendingRecords: number }>('status')).pendingRecords === 21);

    const lockHeld = (lock: string) => probe.evaluate(async (l) => (await navigator.locks.query()).held?.some((x) => x.name === l) ?? false, lock);
    expect(await lockHeld(`lanes:${database}:broker`)).toBe(true);
    for (const p of h.context.pages()) if (p !== probe) await p.close();
    await waitFor('the broker (SharedWorker) to end with its tab', async () => !(await lockHeld(`lanes:${database}:broker`)), 30_000);
    expect(h.context.pages()).toEqual([probe]);
    await h.context.setOffline(false);

    // Partition 1 reaches the replica through the service worker; partition 0 stays held.
    const p1 = await waitFor('partition 1 at the replica', async () => {
      const recs = await readAll(server.url, token, topic, 1).catch(() => []);
      return recs.length >= 10 ? recs : false;
    }, 120_000);
    expect(p1.map((r) => r.value)).toEqual(Array.from({ length: 10 }, (_, i) => `r-1-${2 * i + 1}`));
    // A run holds the sync lock from before its first status to after its last. Its first status
    // comes from a fresh uploader that has not read the log yet (nothing pending, nothing held);
    // later in a run at least the 11 held records stay pending. A run that looped on the held
    // batch would never let the lock go.
    const runsIn = (hs: Heard[]) => hs.filter((x) => x.pendingRecords === 0 && x.blocked.length === 0).length;
    const settled = (hs: Heard[]) => hs.at(-1)?.state === 'idle' && hs.at(-1)?.blocked.length === 1;
    const ended = await waitFor('the service worker to end its runs', async () => {
      const hs = await heard();
      return !(await lockHeld(`lanes:${database}:sync`)) && settled(hs) ? hs : false;
    }, 60_000);
    const runs = runsIn(ended);
    const left = ended.at(-1)!;
    expect(left.blocked).toHaveLength(1);
    expect(left.blocked[0]).toMatchObject({ topic, partition: 0, baseOffset: 0, code: 'RECORD_TOO_LARGE' });
    expect(left.blocked[0]!.message).toMatch(/1048576/);
    // Held: the big record and the 10 small ones behind it.
    expect(left.pendingRecords).toBe(11);
    expect(await readAll(server.url, token, topic, 0).catch(() => [])).toEqual([]);
    // Each run sent the held batch once and did not loop on it; every push came from the service worker.
    expect(runs).toBeGreaterThanOrEqual(1);
    await waitFor('the 413s of the runs to be seen', async () => refusals() >= runs);
    expect(refusals()).toBe(runs);
    expect(answers.every((a) => a.fromServiceWorker)).toBe(true);

    // One more run (a lanes:sync message): exactly one more 413, and it ends holding partition 0 again.
    await probe.evaluate(async (db) => {
      const reg = (await navigator.serviceWorker.getRegistrations()).find((r) => r.active?.scriptURL.endsWith('/lanes-sw.js'));
      reg!.active!.postMessage({ type: 'lanes:sync', database: db });
    }, database);
    const after = await waitFor('the extra run to end', async () => {
      const hs = await heard();
      return !(await lockHeld(`lanes:${database}:sync`)) && runsIn(hs) === runs + 1 && settled(hs) ? hs : false;
    }, 60_000);
    await waitFor('the 413 of the extra run to be seen', async () => refusals() >= runs + 1);
    expect(refusals()).toBe(runs + 1);
    expect(after.at(-1)!.blocked.map((b) => [b.topic, b.partition])).toEqual([[topic, 0]]);
    expect((await readAll(server.url, token, topic, 1)).length).toBe(10);
    await probe.close();
  }, 180_000);
});
