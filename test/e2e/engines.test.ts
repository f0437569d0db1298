/**
 * The multi-tab scenarios that matter most, in every engine (Chromium and Firefox ESR): one
 * scenario text, the engine driver (engines.ts) is all that differs. A group across 3 tabs with
 * one tab closed and one crashed, leader-tab broker failover, two app versions writing one
 * database at once, and a real QuotaExceededError. Runs against the built bundle (npm run build).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, SmallQuotaUnavailable, startEngine, type DriverTab, type Engine } from './engines.js';
import { processedByPartition, waitFor, type Reported } from './tabs.js';

let n = 0;
const db = () => `engines-${Date.now()}-${n++}`;

/** A harness tab (test/e2e/pages/tab.html) reporting into `events`. */
interface Tab { name: string; tab: DriverTab; events: Reported[]; call<T>(fn: string, arg?: unknown): Promise<T> }

async function openTab(engine: Engine, name: string, mode: 'shared-worker' | 'leader-tab' = 'shared-worker'): Promise<Tab> {
  const tab = await engine.newTab();
  const events: Reported[] = [];
  await tab.expose('report', (e: Reported) => { events.push(e); });
  await tab.goto(`${engine.url}/test/e2e/pages/tab.html${mode === 'leader-tab' ? '?noSharedWorker' : ''}`);
  await waitFor(`${name} ready`, () => tab.evaluate(() => (window as unknown as { ready?: boolean }).ready === true));
  return {
    name, tab, events,
    call: (fn, arg) => tab.evaluate(([f, a]) => (window as any).harness[f](a), [fn, arg] as const) as never,
  };
}

const processed = (t: Tab) => t.events.filter((e) => e.type === 'processed');
const key = (e: Reported) => `${e.partition}:${e.offset}`;

describe.each(ENGINES)('multi-tab scenarios in %s', (name) => {
  let engine: Engine;
  const tabs: Tab[] = [];
  const open = async (tabName: string, mode: 'shared-worker' | 'leader-tab' = 'shared-worker') => {
    const t = await openTab(engine, tabName, mode);
    tabs.push(t);
    return t;
  };
  const closeAll = async () => { for (const t of tabs.splice(0)) await t.tab.close().catch(() => undefined); };
  const assignment = (t: Tab) => t.call<string[]>('assignment');

  beforeAll(async () => { engine = await startEngine(name); }, 60_000);
  afterAll(async () => { await engine?.close(); });

  it('3 tabs share a group: a closed tab\'s and then a crashed tab\'s partitions move; every record processed, in order, once per live owner', async () => {
    const database = db();
    const hub = await open('hub');
    await hub.tab.evaluate(([d]) => (window as any).harness.createTopic(d, 'work', 6), [database]);
    const [a, b, c] = [await open('a'), await open('b'), await open('c')];
    const cfg = { database, groupId: 'g', topics: ['work'], commit: 'after-each', consumerConfig: { sessionTimeout: 60_000, heartbeatInterval: 1000 } };
    for (const t of [a, b, c]) await t.call('startConsumer', { ...cfg, delayMs: 2 });
    await waitFor('2 partitions each', async () => {
      const x = await Promise.all([a, b, c].map(assignment));
      return x.every((p) => p.length === 2) && new Set(x.flat()).size === 6;
    }, 30_000);

    await a.tab.close();
    await waitFor('b and c own 3 partitions each', async () => {
      const x = await Promise.all([b, c].map(assignment));
      return x.every((p) => p.length === 3) && new Set(x.flat()).size === 6;
    }, 30_000);

    const total = 120;
    await hub.tab.evaluate(([d, count]) => (window as any).harness.produce({ database: d, topic: 'work', count, numPartitions: 6, batch: 50 }), [database, total] as const);
    await waitFor('b processed some records', () => processed(b).length >= 10, 30_000);
    await b.tab.crash();
    // Behaviour, not timing: the crashed tab's Web Lock is released, so c takes its partitions
    // long before the 60 s session timeout (the wait below would otherwise time out).
    await waitFor('c owns all 6 partitions', async () => (await assignment(c)).length === 6, 45_000);
    await waitFor('every record processed', () => new Set([...processed(b), ...processed(c)].map(key)).size === total, 45_000);

    for (const t of [b, c]) {
      for (const [, offsets] of processedByPartition(t.events, 'work')) {
        for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBeGreaterThan(offsets[i - 1]!);
      }
    }
    const cKeys = processed(c).map(key);
    expect(new Set(cKeys).size).toBe(cKeys.length);
    // c repeats only what b processed without a reported commit: b's in-flight records.
    const bCommitted = new Set(b.events.filter((e) => e.type === 'committed').map((e) => `${e.partition}:${e.offset! - 1}`));
    const bKeys = new Set(processed(b).map(key));
    const twice = cKeys.filter((k) => bKeys.has(k));
    for (const k of twice) expect(bCommitted.has(k)).toBe(false);
    expect(twice.length).toBeLessThanOrEqual(3);
    // The hub, never crashed, still reaches the broker.
    const all = await hub.tab.evaluate(([d]) => (window as any).harness.readAll({ database: d, topic: 'work' }), [database]) as unknown[];
    expect(all).toHaveLength(total);
    await closeAll();
  }, 150_000);

  it('leader-tab broker: closing the leader tab mid-stream loses no acknowledged record', async () => {
    const database = db();
    const leader = await open('leader', 'leader-tab');
    await leader.tab.evaluate(([d]) => (window as any).harness.createTopic(d, 'stream', 2), [database]);
    const producer = await open('producer', 'leader-tab');
    const consumer = await open('consumer', 'leader-tab');
    await consumer.call('startConsumer', { database, groupId: 'g', topics: ['stream'], consumerConfig: { sessionTimeout: 60_000, heartbeatInterval: 300 } });
    const total = 200;
    const producing = producer.tab.evaluate(([d, c]) => (window as any).harness.produceSequential({ database: d, topic: 'stream', count: c, numPartitions: 2 }), [database, total] as const);
    await waitFor('some records acknowledged', () => producer.events.filter((e) => e.type === 'acked').length >= 40, 30_000);
    await leader.tab.close();
    await producing;
    const acked = producer.events.filter((e) => e.type === 'acked');
    expect(acked).toHaveLength(total);
    const values = (await producer.tab.evaluate(([d]) => (window as any).harness.readAll({ database: d, topic: 'stream' }), [database]) as { value: string }[]).map((r) => r.value);
    expect(new Set(values).size).toBe(values.length);
    for (const e of acked) expect(values).toContain(e.value);
    await waitFor('the group consumer processed every record', () => new Set(processed(consumer).map((e) => e.value)).size === total, 60_000);
    await closeAll();
  }, 120_000);

  it('two app versions on one database (two SharedWorker scripts and a leader-tab build): one writer, offsets unique and dense', async () => {
    const database = db();
    const setup = await open('setup');
    await setup.tab.evaluate(([d]) => (window as any).harness.createTopic(d, 'shared', 1), [database]);
    const v1 = await open('v1');
    const v2 = await open('v2');
    const old = await open('old', 'leader-tab');
    const run = (t: Tab, version: string) => t.tab.evaluate(([d, v]) => (window as any).harness.produceAsVersion({ database: d, version: v, topic: 'shared', count: 40 }), [database, version] as const) as Promise<number[]>;
    const [x, y, z] = await Promise.all([run(v1, '1'), run(v2, '2'), run(old, 'leader-tab')]);
    expect([...x, ...y, ...z].sort((p, q) => p - q)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    const read = await setup.tab.evaluate(([d]) => (window as any).harness.readAll({ database: d, topic: 'shared' }), [database]) as unknown[];
    expect(read).toHaveLength(120);
    await closeAll();
  }, 90_000);
});

describe.each(ENGINES)('storage quota in %s', (name) => {
  it('a real QuotaExceededError becomes QuotaExceededError (not retriable), the failed send writes nothing, the log stays readable', async (ctx) => {
    let engine: Engine;
    try {
      engine = await startEngine(name, { quotaKiB: 96 * 1024 });
    } catch (e) {
      if (e instanceof SmallQuotaUnavailable) return ctx.skip(); // Chromium, not root: no small disk
      throw e;
    }
    try {
      const t = await openTab(engine, 'quota');
      const r = await t.tab.evaluate(([d]) => (window as any).harness.fillQuota({ database: d }), [db()]) as { acked: number; error: Record<string, unknown> | null; high: number; read: number };
      expect(r.error).toMatchObject({ name: 'QuotaExceededError', code: 'QUOTA_EXCEEDED', retriable: false, isSubclass: true });
      expect(r.acked).toBeGreaterThan(0);
      expect(r.high).toBe(r.acked);
      expect(r.read).toBe(r.acked);
    } finally {
      await engine.close();
    }
  }, 120_000);
});
