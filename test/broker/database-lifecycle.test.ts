/**
 * The database deleted, upgraded or cleared under a running broker, in real Chromium. The
 * broker closes its connection on `versionchange` (and notices a forced close), so a
 * deleteDatabase or a higher-version open completes; calls caught in the middle fail typed;
 * the next call reopens the database (a fresh log after a deletion) and works, from this tab
 * and from a newly opened one; and no call reports watermarks of the log that is gone. A
 * database upgraded by a newer version gets IncompatibleVersionError naming both versions.
 * Runs against the built bundle (npm run build).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_VERSION } from '../../src/log/log-db.js';
import { startHarness, type Harness } from '../e2e/browser.js';
import { openTab } from '../e2e/tabs.js';

let h: Harness;
let n = 0;
beforeAll(async () => { h = await startHarness(); }, 60_000);
afterAll(async () => { await h?.close(); });
const db = () => `lifecycle-${Date.now()}-${n++}`;

type Outcome = Record<string, unknown>;

/** Page-side helpers, installed once per tab: a client with admin and producer, and raw IndexedDB steps. */
const install = `
  window.t = {
    async open(database) {
      const c = window.lanes.createClient({ clientId: 'lc', database, logCleanerIntervalMs: 0 });
      window.t.admin = c.admin(); await window.t.admin.connect();
      window.t.producer = c.producer(); await window.t.producer.connect();
      window.t.client = c;
    },
    err(e) { return { name: e?.name, code: e?.code, retriable: e?.retriable, details: e?.details, message: String(e?.message) }; },
    async offsets(topic) {
      try { return (await window.t.admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.low, o.high]); } catch (e) { return window.t.err(e); }
    },
    async send(topic, value, partition = 0) {
      try { const [r] = await window.t.producer.send({ topic, messages: [{ value, partition }] }); return { baseOffset: r.baseOffset }; } catch (e) { return window.t.err(e); }
    },
    /**
     * A send to a topic that went with the database: the producer's cached metadata names it,
     * so the broker refuses its first request with TopicNotFoundError; the producer drops that
     * metadata and places the send again once, auto-creating the topic (a second send covers a
     * producer that would not).
     */
    async sendAfterLoss(topic, value, partition = 0) {
      const first = await window.t.send(topic, value, partition);
      return first.code === 'UNKNOWN_TOPIC_OR_PARTITION' ? window.t.send(topic, value, partition) : first;
    },
    /** Runs an IndexedDB request to completion; 'blocked' if it is still blocked after 10 s. */
    idb(make) {
      return new Promise((resolve) => {
        const r = make();
        const timer = setTimeout(() => resolve('blocked'), 10000);
        r.onsuccess = () => { clearTimeout(timer); if (r.result && r.result.close) r.result.close(); resolve('done'); };
        r.onerror = () => { clearTimeout(timer); resolve('error: ' + r.error?.name); };
      });
    },
    async version(name) { return (await indexedDB.databases()).find((d) => d.name === name)?.version ?? null; },
  };
`;

async function tab(name: string, mode: 'shared-worker' | 'leader-tab' = 'shared-worker') {
  const t = await openTab(h.context, h.url, name, mode);
  await t.page.evaluate(install);
  return t;
}

describe.each(['shared-worker', 'leader-tab'] as const)('the database deleted under the broker (%s)', (mode) => {
  it('deleteDatabase completes; the log that is gone is not reported; the next call reopens a fresh log, also from a new tab', async () => {
    const database = db();
    const a = await tab('a', mode);
    const r = await a.page.evaluate(async (d) => {
      const t = (window as any).t;
      await t.open(d);
      await t.admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] });
      for (let i = 0; i < 6; i++) await t.send('orders', `v${i}`, i % 2);
      const before = await t.offsets('orders');
      const deleted = await t.idb(() => indexedDB.deleteDatabase(`lanes:${d}`));
      const afterDelete = await t.offsets('orders');
      const topics = await t.admin.listTopics();
      const sent = await t.sendAfterLoss('orders', 'again', 0);
      const now = await t.offsets('orders');
      return { before, deleted, afterDelete, topics, sent, now };
    }, database) as Outcome;
    expect(r.before).toEqual([[0, '0', '3'], [1, '0', '3']]);
    expect(r.deleted).toBe('done');
    expect(r.afterDelete).toMatchObject({ name: 'TopicNotFoundError', code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(r.topics).toEqual([]);
    expect(r.sent).toEqual({ baseOffset: '0' }); // auto-created again on the fresh log
    expect(r.now).toEqual([[0, '0', '1']]);

    // A tab opened afterwards works on the same (fresh) log.
    const b = await tab('b', mode);
    const rb = await b.page.evaluate(async (d) => {
      const t = (window as any).t;
      await t.open(d);
      const sent = await t.send('orders', 'from b', 0);
      return { sent, offsets: await t.offsets('orders') };
    }, database) as Outcome;
    expect(rb).toEqual({ sent: { baseOffset: '1' }, offsets: [[0, '0', '2']] });
    await b.page.close();
    await a.page.close();
  }, 90_000);
});

describe('calls in flight when the database is deleted', () => {
  it('settle, each acknowledged or failed with a typed error, none hangs, and the log works after', async () => {
    const database = db();
    const a = await tab('a');
    const r = await a.page.evaluate(async (d) => {
      const t = (window as any).t;
      await t.open(d);
      await t.admin.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
      await t.send('t', 'warm');
      const sends = Array.from({ length: 40 }, (_, i) => t.send('t', `x${i}`));
      const deleted = t.idb(() => indexedDB.deleteDatabase(`lanes:${d}`));
      const settled = await Promise.all(sends);
      return { deleted: await deleted, settled, after: await t.send('t', 'after'), offsets: await t.offsets('t') };
    }, database) as { deleted: string; settled: Outcome[]; after: Outcome; offsets: unknown };
    expect(r.deleted).toBe('done');
    expect(r.settled).toHaveLength(40);
    for (const s of r.settled) {
      if ('baseOffset' in s) continue;
      expect(s.code, JSON.stringify(s)).not.toBe('UNKNOWN');
      expect(typeof s.code).toBe('string');
    }
    expect(r.after).toHaveProperty('baseOffset');
    expect(r.offsets).toMatchObject([[0, '0', expect.any(String)]]);
    await a.page.close();
  }, 90_000);
});

describe('site data cleared under the broker (DevTools "Clear site data")', () => {
  it('later sends work on a fresh log instead of failing with "the database connection is closing"', async () => {
    const database = db();
    const a = await tab('a');
    await a.page.evaluate(async (d) => {
      const t = (window as any).t;
      await t.open(d);
      await t.admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] });
      for (let i = 0; i < 3; i++) await t.send('orders', `v${i}`);
    }, database);
    const cdp = await h.context.newCDPSession(a.page);
    await cdp.send('Storage.clearDataForOrigin', { origin: new URL(h.url).origin, storageTypes: 'indexeddb' });
    await cdp.detach();
    const r = await a.page.evaluate(async () => {
      const t = (window as any).t;
      const afterClear = await t.offsets('orders');
      const sent = await t.sendAfterLoss('orders', 'again');
      return { afterClear, sent, offsets: await t.offsets('orders') };
    }) as Outcome;
    expect(r.afterClear).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(r.sent).toEqual({ baseOffset: '0' });
    expect(r.offsets).toEqual([[0, '0', '1']]);
    await a.page.close();
  }, 90_000);
});

describe('the database upgraded under the broker by a newer version', () => {
  it('the upgrade completes at once, and this older code then fails typed, naming both versions, writing nothing', async () => {
    const database = db();
    const a = await tab('a');
    const r = await a.page.evaluate(async (d) => {
      const t = (window as any).t;
      await t.open(d);
      await t.admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] });
      await t.send('orders', 'v0');
      const name = `lanes:${d}`;
      const current = await t.version(name);
      const upgraded = await t.idb(() => indexedDB.open(name, current + 1));
      const sent = await t.send('orders', 'from the older code');
      const offsets = await t.offsets('orders');
      return { current, upgraded, sent, offsets, version: await t.version(name) };
    }, database) as Outcome & { current: number };
    expect(r.upgraded).toBe('done');
    for (const res of [r.sent, r.offsets]) {
      expect(res).toMatchObject({ name: 'IncompatibleVersionError', code: 'INCOMPATIBLE_VERSION', retriable: false, details: { databaseVersion: r.current + 1, codeVersion: r.current } });
    }
    expect(r.version).toBe(r.current + 1);
    await a.page.close();
  }, 90_000);
});

describe('an older app version meeting a newer database', () => {
  it('gets IncompatibleVersionError naming both versions, writes nothing, and leaves the broker lock to the newer version', async () => {
    const database = db();
    const a = await tab('a');
    const r = await a.page.evaluate(async ([d, codeVersion]) => {
      const t = (window as any).t;
      const name = `lanes:${d}`;
      // A newer lanes created the database at a version above this code's.
      const created = await t.idb(() => { const req = indexedDB.open(name, codeVersion + 5); req.onupgradeneeded = () => req.result.createObjectStore('from-a-newer-version'); return req; });
      let connect: unknown = 'connected';
      try { await t.open(d); } catch (e) { connect = t.err(e); }
      const version = await t.version(name);
      const stores = await new Promise((resolve) => { const req = indexedDB.open(name); req.onsuccess = () => { resolve([...req.result.objectStoreNames]); req.result.close(); }; });
      // The broker lock is free: a host of the newer version would take it at once.
      const lockFree = await navigator.locks.request(`lanes:${d}:broker`, { ifAvailable: true }, (lock) => lock !== null);
      return { created, connect, version, stores, lockFree, codeVersion };
    }, [database, DB_VERSION] as const) as Outcome & { codeVersion: number };
    expect(r.created).toBe('done');
    expect(r.connect).toMatchObject({ name: 'IncompatibleVersionError', code: 'INCOMPATIBLE_VERSION', retriable: false, details: { databaseVersion: r.codeVersion + 5, codeVersion: r.codeVersion } });
    expect(r.version).toBe(r.codeVersion + 5);
    expect(r.stores).toEqual(['from-a-newer-version']);
    expect(r.lockFree).toBe(true);
    await a.page.close();
  }, 90_000);
});
