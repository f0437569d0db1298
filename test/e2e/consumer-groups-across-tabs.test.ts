/**
 * Consumer groups across real Chromium tabs (Playwright pages of one context), with the broker
 * in a SharedWorker and, with window.SharedWorker removed, in the tab elected by Web Lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './browser.js';
import { openTab, processedByPartition, waitFor, type Tab } from './tabs.js';

const MODES = ['shared-worker', 'leader-tab'] as const;
let h: Harness;
let n = 0;

beforeAll(async () => { h = await startHarness(); }, 60_000);
afterAll(async () => { await h?.close(); });

const db = () => `groups-${Date.now()}-${n++}`;

describe.each(MODES)('consumer groups across tabs (%s broker)', (mode) => {
  const tabs: Tab[] = [];
  const open = async (name: string) => { const t = await openTab(h.context, h.url, name, mode); tabs.push(t); return t; };
  const closeAll = async () => { for (const t of tabs.splice(0)) await t.page.close().catch(() => undefined); };
  const assignment = (t: Tab) => t.call<string[]>('assignment');

  it('3 tabs share 6 partitions 2 each; a closed tab\'s partitions move at once (sessionTimeout 60 s)', async () => {
    const database = db();
    const hub = await open('hub');
    await hub.page.evaluate(([d]) => (window as any).harness.createTopic(d, 'work', 6), [database]);
    const members = [await open('a'), await open('b'), await open('c')];
    for (const t of members) {
      await t.call('startConsumer', { database, groupId: 'g', topics: ['work'], consumerConfig: { sessionTimeout: 60_000, heartbeatInterval: 3000 } });
    }
    const counts = await waitFor('2 partitions each', async () => {
      const a = await Promise.all(members.map(assignment));
      return a.every((x) => x.length === 2) && new Set(a.flat()).size === 6 ? a : false;
    });
    expect(counts.map((x) => x.length)).toEqual([2, 2, 2]);
    const started = Date.now();
    await members[0]!.page.close();
    const after = await waitFor('the 2 remaining tabs own all 6 partitions', async () => {
      const a = await Promise.all(members.slice(1).map(assignment));
      return new Set(a.flat()).size === 6 && a.every((x) => x.length === 3) ? a : false;
    }, 30_000);
    expect(after.flat().sort()).toEqual(['work-0', 'work-1', 'work-2', 'work-3', 'work-4', 'work-5']);
    // Behaviour, not timing: the move happened long before the 60 s session timeout could fire.
    expect(Date.now() - started).toBeLessThan(60_000);
    await closeAll();
  }, 120_000);

  it('a tab crashed mid-processing: its uncommitted records go to another tab; at least once, in order, no needless duplicates', async () => {
    const database = db();
    const hub = await open('hub');
    await hub.page.evaluate(([d]) => (window as any).harness.createTopic(d, 'jobs', 4), [database]);
    const a = await open('a');
    const b = await open('b');
    const cfg = { database, groupId: 'workers', topics: ['jobs'], commit: 'after-each', consumerConfig: { sessionTimeout: 60_000, heartbeatInterval: 1000 } };
    await a.call('startConsumer', { ...cfg, delayMs: 3 });
    await b.call('startConsumer', { ...cfg, delayMs: 3 });
    await waitFor('both tabs assigned', async () => (await assignment(a)).length === 2 && (await assignment(b)).length === 2);
    const total = 400;
    await hub.page.evaluate(([d, c]) => (window as any).harness.produce({ database: d, topic: 'jobs', count: c, numPartitions: 4, batch: 50 }), [database, total] as const);
    await waitFor('tab a processed some records', () => a.events.filter((e) => e.type === 'processed').length >= 20);
    const cdp = await h.context.newCDPSession(a.page);
    void cdp.send('Page.crash').catch(() => undefined);
    const key = (e: { partition?: number; offset?: number }) => `${e.partition}:${e.offset}`;
    await waitFor('every record processed', () => {
      const seen = new Set([...a.events, ...b.events].filter((e) => e.type === 'processed').map(key));
      return seen.size === total;
    }, 60_000);
    // In order: per tab and partition, offsets strictly increase.
    for (const t of [a, b]) {
      for (const [, offsets] of processedByPartition(t.events, 'jobs')) {
        for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBeGreaterThan(offsets[i - 1]!);
      }
    }
    // Twice only what the crashed tab processed and had not (reportedly) committed.
    const aProcessed = new Set(a.events.filter((e) => e.type === 'processed').map(key));
    const aCommitted = new Set(a.events.filter((e) => e.type === 'committed').map((e) => `${e.partition}:${e.offset! - 1}`));
    const bProcessed = b.events.filter((e) => e.type === 'processed').map(key);
    expect(new Set(bProcessed).size).toBe(bProcessed.length);
    const twice = bProcessed.filter((k) => aProcessed.has(k));
    for (const k of twice) expect(aCommitted.has(k)).toBe(false);
    expect(twice.length).toBeLessThanOrEqual(2); // at most the one in-flight record of each of a's partitions
    await closeAll();
  }, 120_000);

  it('two groups each see every record; tabs beyond the partition count idle until one leaves', async () => {
    const database = db();
    const hub = await open('hub');
    await hub.page.evaluate(([d]) => (window as any).harness.createTopic(d, 'events', 2), [database]);
    const g1 = [await open('x'), await open('y'), await open('z')];
    const g2 = await open('w');
    for (const t of g1) await t.call('startConsumer', { database, groupId: 'g1', topics: ['events'], consumerConfig: { sessionTimeout: 60_000 } });
    await g2.call('startConsumer', { database, groupId: 'g2', topics: ['events'], consumerConfig: { sessionTimeout: 60_000 } });
    const sizes = await waitFor('g1 balanced with one idle tab', async () => {
      const a = await Promise.all(g1.map(assignment));
      const s = a.map((x) => x.length).sort();
      return s.join() === '0,1,1' && new Set(a.flat()).size === 2 ? a : false;
    });
    expect(sizes.flat().sort()).toEqual(['events-0', 'events-1']);
    await hub.page.evaluate(([d]) => (window as any).harness.produce({ database: d, topic: 'events', count: 100, numPartitions: 2, batch: 10 }), [database]);
    const keyOf = (e: { partition?: number; offset?: number }) => `${e.partition}:${e.offset}`;
    await waitFor('g1 saw all', () => new Set(g1.flatMap((t) => t.events.filter((e) => e.type === 'processed').map(keyOf))).size === 100);
    await waitFor('g2 saw all', () => new Set(g2.events.filter((e) => e.type === 'processed').map(keyOf)).size === 100);
    const a = await Promise.all(g1.map(assignment));
    const idle = g1[a.findIndex((x) => x.length === 0)]!;
    const busy = g1[a.findIndex((x) => x.length === 1)]!;
    expect(idle.events.filter((e) => e.type === 'processed')).toHaveLength(0);
    await busy.page.close();
    await waitFor('the idle tab took a partition', async () => (await assignment(idle)).length === 1);
    await closeAll();
  }, 120_000);

  it('a frozen tab loses its partitions after sessionTimeout and its later commit is refused', async () => {
    const database = db();
    const hub = await open('hub');
    await hub.page.evaluate(([d]) => (window as any).harness.createTopic(d, 'tasks', 2), [database]);
    const a = await open('a');
    const b = await open('b');
    const cfg = { database, groupId: 'g', topics: ['tasks'], consumerConfig: { sessionTimeout: 1500, heartbeatInterval: 200, rebalanceTimeout: 3000 } };
    await a.call('startConsumer', cfg);
    await b.call('startConsumer', cfg);
    await waitFor('one partition each', async () => (await assignment(a)).length === 1 && (await assignment(b)).length === 1);
    const [mine] = await assignment(a);
    const partition = Number(mine!.split('-')[1]);
    // The hub (first to connect, still connected) hosts the broker in leader-tab mode, so
    // hanging tab a does not hang the broker. Hang tab a's main thread (it keeps its Web Lock, sends no heartbeat), then, first thing
    // after waking, commit with the generation it had.
    await a.page.evaluate(([p]) => {
      setTimeout(() => {
        const end = Date.now() + 8000;
        while (Date.now() < end) { /* frozen */ }
        (window as any).zombie = (window as any).harness.commitNow('tasks', p, 1);
      }, 0);
    }, [partition]);
    await waitFor('b owns both partitions while a is frozen', async () => (await assignment(b)).length === 2, 30_000);
    const code = await waitFor('a woke and tried to commit', () => a.page.evaluate(() => (window as any).zombie), 30_000);
    expect(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']).toContain(code);
    expect(code).toBe('ILLEGAL_GENERATION');
    await closeAll();
  }, 120_000);

});

describe('leader-tab broker failover', () => {
  const mode = 'leader-tab' as const;
  const tabs: Tab[] = [];
  const open = async (name: string) => { const t = await openTab(h.context, h.url, name, mode); tabs.push(t); return t; };
  const closeAll = async () => { for (const t of tabs.splice(0)) await t.page.close().catch(() => undefined); };

  it('closing the leader tab mid-stream loses no acknowledged record', async () => {
    const database = db();
    const leader = await open('leader');
    await leader.page.evaluate(([d]) => (window as any).harness.createTopic(d, 'stream', 2), [database]);
    expect(await leader.page.evaluate(() => (window as any).harness.state.client && true)).toBe(true);
    const producer = await open('producer');
    const consumer = await open('consumer');
    await consumer.call('startConsumer', { database, groupId: 'g', topics: ['stream'], consumerConfig: { sessionTimeout: 60_000, heartbeatInterval: 300 } });
    const total = 300;
    const producing = producer.page.evaluate(([d, c]) => (window as any).harness.produceSequential({ database: d, topic: 'stream', count: c, numPartitions: 2 }), [database, total] as const);
    await waitFor('some records acknowledged', () => producer.events.filter((e) => e.type === 'acked').length >= 50);
    await leader.page.close();
    await producing;
    const acked = producer.events.filter((e) => e.type === 'acked');
    expect(acked).toHaveLength(total);
    const all = await producer.page.evaluate(([d]) => (window as any).harness.readAll({ database: d, topic: 'stream' }), [database]) as { value: string }[];
    const values = all.map((r) => r.value);
    expect(new Set(values).size).toBe(values.length); // written once: idempotent retries
    for (const e of acked) expect(values).toContain(e.value);
    await waitFor('the group consumer processed every record', () => new Set(consumer.events.filter((e) => e.type === 'processed').map((e) => e.value)).size === total, 60_000);
    await closeAll();
  }, 120_000);
});
