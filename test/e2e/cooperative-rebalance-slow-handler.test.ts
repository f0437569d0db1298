/**
 * One slow handler does not stall its group during a cooperative rebalance, in real Chromium
 * tabs. Three tabs, cooperative-sticky: tab A is inside a handler that does not return until
 * the test lets it; tab C joins. Tab B's partition keeps being processed and C's run()
 * resolves while A's handler is still blocked; the partition A is busy with is handed on (if
 * it moves at all) only after the handler returned. The assertions are about the order of
 * events, never about durations: A's handler returns only when the test releases it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './browser.js';
import { openTab, waitFor, type Tab } from './tabs.js';

let h: Harness;
let n = 0;
beforeAll(async () => { h = await startHarness(); }, 60_000);
afterAll(async () => { await h?.close(); });

/** Page side of tab A: a consumer whose handler blocks on the record with value 'block' until window.release(). */
const startBlocking = async ([database, topic]: readonly [string, string]) => {
  const w = window as unknown as {
    harness: { client(db: string): { consumer(c: object): any } };
    report(e: object): Promise<void>;
    release?: () => void;
    consumer?: any;
  };
  const released = new Promise<void>((r) => { w.release = r; });
  const c = w.harness.client(database).consumer({ groupId: 'g', heartbeatInterval: 500, sessionTimeout: 10_000 });
  w.consumer = c;
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
  await c.run({
    autoCommitThreshold: 1,
    eachMessage: async ({ partition, message }: { partition: number; message: { offset: string; value: unknown } }) => {
      await w.report({ type: 'processed', topic, partition, offset: Number(message.offset), value: message.value });
      if (message.value === 'block') {
        await w.report({ type: 'blocked', partition });
        await Promise.race([released, new Promise((r) => setTimeout(r, 60_000))]); // released by the test
        await w.report({ type: 'returned', partition });
      }
    },
  });
  return c.memberId as string;
};

/** Sends one record to a partition from a tab. */
const send = ([database, topic, partition, value]: readonly [string, string, number, string]) => {
  const p = (window as any).harness.client(database).producer();
  return p.connect().then(() => p.send({ topic, messages: [{ value, partition }] })).then(() => undefined);
};

describe.each(['shared-worker', 'leader-tab'] as const)('a slow handler during a cooperative rebalance (%s broker)', (mode) => {
  it('does not stall the other tabs: B keeps processing its partition and C joins while A\'s handler is blocked', async () => {
    const database = `coop-${Date.now()}-${n++}`;
    const tabs: Tab[] = [];
    const open = async (name: string) => { const t = await openTab(h.context, h.url, name, mode); tabs.push(t); return t; };
    try {
      const hub = await open('hub');
      await hub.page.evaluate(([d]) => (window as any).harness.createTopic(d, 'work', 3), [database] as const);
      const order: string[] = [];
      const a = await open('a');
      const b = await open('b');
      const c = await open('c');
      const assignment = async (t: Tab) => (await t.page.evaluate(() => {
        const cons = (window as any).consumer ?? (window as any).harness.state.consumer;
        return cons ? cons.assignment().map((x: { partition: number }) => x.partition).sort() : [];
      })) as number[];

      await a.page.evaluate(startBlocking, [database, 'work'] as const);
      await b.call('startConsumer', { database, groupId: 'g', topics: ['work'], consumerConfig: { heartbeatInterval: 500, sessionTimeout: 10_000 } });
      const [ownA, ownB] = await waitFor('A and B to share the 3 partitions', async () => {
        const x = [await assignment(a), await assignment(b)];
        return x[0]!.length + x[1]!.length === 3 && x[0]!.length > 0 && x[1]!.length > 0 ? x : false;
      });
      // A blocks in a handler on one of its partitions.
      const busy = ownA![0]!;
      await hub.page.evaluate(send, [database, 'work', busy, 'block'] as const);
      await waitFor('A to block in its handler', () => a.events.some((e) => (e.type as string) === 'blocked'));
      order.push('a blocked');

      // C joins: its run() must resolve while A's handler is still blocked.
      let cJoined = false;
      const joining = c.call('startConsumer', { database, groupId: 'g', topics: ['work'], consumerConfig: { heartbeatInterval: 500, sessionTimeout: 10_000 } })
        .then(() => { cJoined = true; order.push('c run() resolved'); });
      await waitFor('C\'s run() to resolve while A is blocked', () => cJoined, 30_000);

      // B keeps processing a partition it kept through the rebalance.
      const kept = await waitFor('the group to settle with every tab holding a partition it keeps', async () => {
        const now = await assignment(b);
        const still = now.filter((p) => ownB!.includes(p));
        return still.length > 0 ? still : false;
      });
      await hub.page.evaluate(send, [database, 'work', kept![0]!, 'during'] as const);
      await waitFor('B to process the new record on its partition', () => b.events.some((e) => e.type === 'processed' && e.value === 'during'), 30_000);
      order.push('b processed a new record');
      expect(a.events.some((e) => (e.type as string) === 'returned')).toBe(false);

      // Only now does A's handler return.
      await a.page.evaluate(() => (window as any).release());
      await waitFor('A\'s handler to return', () => a.events.some((e) => (e.type as string) === 'returned'));
      order.push('a returned');
      await joining;
      expect(order).toEqual(['a blocked', 'c run() resolved', 'b processed a new record', 'a returned']);

      // Afterwards: each tab gets one partition, and the record A blocked on was processed once.
      const final = await waitFor('one partition per tab', async () => {
        const x = await Promise.all([a, b, c].map(assignment));
        return x.every((p) => p.length === 1) && new Set(x.flat()).size === 3 ? x : false;
      }, 30_000);
      expect(final!.flat().sort()).toEqual([0, 1, 2]);
      const blockedRecord = [a, b, c].flatMap((t) => t.events.filter((e) => e.type === 'processed' && e.value === 'block'));
      expect(blockedRecord).toHaveLength(1);
      await hub.page.evaluate(send, [database, 'work', busy, 'after'] as const);
      await waitFor('the busy partition\'s next record to be processed by its owner', () =>
        [a, b, c].some((t) => t.events.some((e) => e.type === 'processed' && e.value === 'after')), 30_000);
      const after = [a, b, c].flatMap((t) => t.events.filter((e) => e.type === 'processed' && e.value === 'after'));
      expect(after).toHaveLength(1);
    } finally {
      for (const t of tabs) await t.page.evaluate(() => (window as any).release?.()).catch(() => undefined);
      for (const t of tabs) await t.page.close().catch(() => undefined);
    }
  }, 120_000);
});
