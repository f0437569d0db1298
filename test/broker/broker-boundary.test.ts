/**
 * The broker boundary in real Chromium: typed errors across comlink and BroadcastChannel, one
 * writer when two app versions run at once, static membership across a reload, and a real
 * QuotaExceededError from IndexedDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS, startHarness, type Harness } from '../e2e/browser.js';
import { openTab, waitFor } from '../e2e/tabs.js';

let h: Harness;
let n = 0;
beforeAll(async () => { h = await startHarness(); }, 60_000);
afterAll(async () => { await h?.close(); });
const db = () => `boundary-${Date.now()}-${n++}`;

describe.each(['shared-worker', 'leader-tab'] as const)('errors cross the boundary (%s)', (mode) => {
  it('as the right LanesError subclass with code, retriable and details', async () => {
    const database = db();
    const leader = await openTab(h.context, h.url, 'leader', mode);
    await leader.page.evaluate(([d]) => (window as any).harness.createTopic(d, 't', 1), [database]);
    const other = await openTab(h.context, h.url, 'other', mode);
    const e = await other.page.evaluate(([d]) => (window as any).harness.brokerError(d), [database]) as Record<string, unknown>;
    expect(e).toMatchObject({ name: 'InvalidPartitionsError', code: 'INVALID_PARTITIONS', retriable: false, isLanesError: true, isSubclass: true });
    expect(e.details).toMatchObject({ topic: 'bad-topic', numPartitions: 0 });
    expect(e.type).toBe('INVALID_PARTITIONS');
    const oor = await other.page.evaluate(([d]) => (window as any).harness.offsetOutOfRange(d), [database]) as Record<string, unknown>;
    expect(oor).toMatchObject({ name: 'OffsetOutOfRangeError', code: 'OFFSET_OUT_OF_RANGE', type: 'OFFSET_OUT_OF_RANGE', retriable: false, isSubclass: true });
    await other.page.close();
    await leader.page.close();
  }, 60_000);
});

describe('a SharedWorker that cannot start', () => {
  it('fails connect() with BrokerUnavailableError naming the URL instead of hanging', async () => {
    const t = await openTab(h.context, h.url, 'bad', 'shared-worker');
    const e = await t.page.evaluate(([d]) => (window as any).harness.badWorker(d), [db()]) as Record<string, unknown>;
    expect(e).toMatchObject({ name: 'BrokerUnavailableError', code: 'BROKER_UNAVAILABLE', retriable: false });
    expect(e.message).toContain('/dist/no-such-broker.js');
    await t.page.close();
  }, 60_000);
});

describe('two app versions at once', () => {
  it('never give two writers to one database: offsets stay unique and dense', async () => {
    const database = db();
    const setup = await openTab(h.context, h.url, 'setup', 'shared-worker');
    await setup.page.evaluate(([d]) => (window as any).harness.createTopic(d, 'shared', 1), [database]);
    const v1 = await openTab(h.context, h.url, 'v1', 'shared-worker');
    const v2 = await openTab(h.context, h.url, 'v2', 'shared-worker');
    const old = await openTab(h.context, h.url, 'old', 'leader-tab');
    const run = (t: typeof v1, version: string) => t.page.evaluate(([d, v]) => (window as any).harness.produceAsVersion({ database: d, version: v, topic: 'shared', count: 60 }), [database, version] as const) as Promise<number[]>;
    const [a, b, c] = await Promise.all([run(v1, '1'), run(v2, '2'), run(old, 'leader-tab')]);
    const all = [...a!, ...b!, ...c!].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 180 }, (_, i) => i));
    const read = await setup.page.evaluate(([d]) => (window as any).harness.readAll({ database: d, topic: 'shared' }), [database]) as { value: string }[];
    expect(read).toHaveLength(180);
    for (const t of [setup, v1, v2, old]) await t.page.close();
  }, 90_000);
});

describe('static membership', () => {
  it('a reloaded tab keeps its groupInstanceId and gets its partitions back without a rebalance', async () => {
    const database = db();
    const hub = await openTab(h.context, h.url, 'hub', 'shared-worker');
    await hub.page.evaluate(([d]) => (window as any).harness.createTopic(d, 'st', 4), [database]);
    const a = await openTab(h.context, h.url, 'a', 'shared-worker');
    const b = await openTab(h.context, h.url, 'b', 'shared-worker');
    const cfg = { database, groupId: 'static', topics: ['st'] };
    await a.call('startStatic', cfg);
    await b.call('startStatic', cfg);
    const before = await waitFor('2 partitions each', async () => {
      const x = await a.call<string[]>('assignment');
      const y = await b.call<string[]>('assignment');
      return x.length === 2 && y.length === 2 ? x : false;
    });
    const id = await a.page.evaluate(() => sessionStorage.length);
    expect(id).toBeGreaterThan(0);
    const bJoins = b.events.filter((e) => e.type === 'join').length;
    await a.page.reload();
    await a.page.waitForFunction(() => (window as any).ready === true);
    await a.call('startStatic', cfg);
    const after = await waitFor('a has partitions again', async () => { const x = await a.call<string[]>('assignment'); return x.length ? x : false; });
    expect(after).toEqual(before);
    expect(b.events.filter((e) => e.type === 'join').length).toBe(bJoins);
    for (const t of [hub, a, b]) await t.page.close();
  }, 90_000);
});

describe('quota', () => {
  // Chromium sizes an origin's quota from the disk its profile is on, and DevTools'
  // Storage.overrideQuotaForOrigin does not take effect in this headless build; so the profile
  // goes on a small tmpfs, where IndexedDB raises a real QuotaExceededError. Mounting needs root.
  const dir = join(tmpdir(), `lanes-quota-${process.pid}`);
  let mounted = false;
  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', dir]).status === 0;
  });
  afterAll(() => { if (mounted) spawnSync('umount', [dir]); rmSync(dir, { recursive: true, force: true }); });

  it('a real QuotaExceededError becomes QuotaExceededError (not retriable) and the log stays readable', async (ctx) => {
    if (!mounted) ctx.skip(); // not root: cannot make a small disk
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await context.newPage();
      await page.goto(`${h.url}/test/e2e/pages/tab.html`);
      await page.waitForFunction(() => (window as any).ready === true);
      const r = await page.evaluate(([d]) => (window as any).harness.fillQuota({ database: d }), [db()]) as { acked: number; error: Record<string, unknown> | null; high: number; read: number };
      expect(r.error).toMatchObject({ name: 'QuotaExceededError', code: 'QUOTA_EXCEEDED', retriable: false, isSubclass: true });
      expect(r.acked).toBeGreaterThan(0);
      expect(r.high).toBe(r.acked); // the failed send wrote nothing
      expect(r.read).toBe(r.acked); // and everything acknowledged reads back
    } finally {
      await context.close();
    }
  }, 120_000);
});
