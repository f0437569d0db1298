/**
 * Fencing across tabs, in real Chromium, with both broker hosts (SharedWorker, and the leader
 * tab where SharedWorker is missing): two tabs open a transactional producer with the same
 * transactionalId; the second fences the first and aborts what it left open, so the zombie can
 * neither commit nor send. And a transaction whose tab crashes before commit is aborted by the
 * broker after `transactionTimeout` (no replacement tab ever comes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './browser.js';
import { openTab, type Tab } from './tabs.js';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 60_000);
afterAll(async () => { await h?.close(); });

/** Calls an export of pages/txn-harness.js in a tab (a string, so the runner's transform leaves import() alone). */
function txn<T>(tab: Tab, fn: string, arg?: unknown): Promise<T> {
  return tab.page.evaluate(`import('/test/e2e/pages/txn-harness.js').then((m) => m[${JSON.stringify(fn)}](${JSON.stringify(arg ?? null)}))`) as Promise<T>;
}

type Outcome = { ok: boolean; name?: string; code?: string; retriable?: boolean };

for (const mode of ['shared-worker', 'leader-tab'] as const) {
  describe(`a zombie producer across tabs (${mode})`, () => {
    it('cannot commit or send once another tab took its transactionalId; its open transaction is aborted', async () => {
      const database = `zombie-${mode}-${Date.now()}`;
      const a = await openTab(h.context, h.url, 'a', mode);
      const b = await openTab(h.context, h.url, 'b', mode);
      await txn(a, 'createTopics', { database, partitions: 1 });
      await txn(a, 'txProducer', { database, transactionalId: 'shared' });
      expect(await txn<Outcome>(a, 'txSend', { value: 'a-committed' })).toEqual({ ok: true });
      expect(await txn<Outcome>(a, 'txSend', { value: 'a-left-open', commit: false })).toEqual({ ok: true });
      // Tab b connects a producer with the same transactionalId: a is fenced.
      await txn(b, 'txProducer', { database, transactionalId: 'shared' });
      const commit = await txn<Outcome>(a, 'txCommit');
      expect(commit).toMatchObject({ ok: false, name: 'ProducerFencedError', code: 'PRODUCER_FENCED', retriable: false });
      expect(await txn<Outcome>(a, 'txSend', { value: 'a-zombie' })).toMatchObject({ ok: false, name: 'ProducerFencedError' });
      expect(await txn<Outcome>(b, 'txSend', { value: 'b-committed' })).toEqual({ ok: true });
      expect(await txn<string[]>(b, 'readTopic', { database, topic: 'invoices' })).toEqual(['a-committed', 'b-committed']);
      // The zombie's aborted record is in the log: only read-uncommitted readers see it.
      expect(await txn<string[]>(b, 'readTopic', { database, topic: 'invoices', readUncommitted: true })).toEqual(['a-committed', 'a-left-open', 'b-committed']);
      await a.page.close();
      await b.page.close();
    }, 90_000);
  });
}

describe('transactionTimeout in Chromium', () => {
  it('the broker aborts the transaction of a tab that crashed before commit', async () => {
    const database = `txn-timeout-${Date.now()}`;
    const survivor = await openTab(h.context, h.url, 'survivor', 'shared-worker');
    const doomed = await openTab(h.context, h.url, 'doomed', 'shared-worker');
    await txn(survivor, 'createTopics', { database, partitions: 1 });
    await txn(doomed, 'txProducer', { database, transactionalId: 'doomed', transactionTimeout: 1000 });
    expect(await txn<Outcome>(doomed, 'txSend', { value: 'never-committed', commit: false })).toEqual({ ok: true });
    const cdp = await doomed.page.context().newCDPSession(doomed.page);
    const crashed = new Promise<void>((r) => doomed.page.once('crash', () => r()));
    void cdp.send('Page.crash').catch(() => undefined);
    await crashed;
    await doomed.page.close().catch(() => undefined);
    // The read-committed read ends only once nothing is open before its sentinels: the broker
    // aborted the crashed tab's transaction (nobody else uses its transactionalId).
    expect(await txn<string[]>(survivor, 'readTopic', { database, topic: 'invoices' })).toEqual([]);
    expect(await txn<string[]>(survivor, 'readTopic', { database, topic: 'invoices', readUncommitted: true })).toEqual(['never-committed']);
    await survivor.page.close();
  }, 90_000);
});
