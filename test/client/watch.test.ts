/**
 * client.watch: the first events describe the watched state, then appends, topic changes,
 * rebalances and commits arrive as events pushed by the broker (in-page host, fake-indexeddb).
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, type WatchEvent } from '../../src/index.js';
import { watchEvents } from '../../src/client/watch-loop.js';
import { nodeClient } from '../helpers/node-client.js';
import { FAST } from '../group/helpers.js';

/** Reads events from a watch until `until` holds for one, returning all read. */
async function readUntil(it: AsyncIterator<WatchEvent>, until: (e: WatchEvent) => boolean): Promise<WatchEvent[]> {
  const seen: WatchEvent[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) throw new Error(`watch ended before the expected event; saw ${JSON.stringify(seen)}`);
    seen.push(r.value);
    if (process.env.WATCH_DEBUG) console.log(JSON.stringify(r.value));
    if (until(r.value)) return seen;
  }
}

describe('client.watch', () => {
  it('starts with the whole state, then reports appends and new topics', async () => {
    const { client } = nodeClient();
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] });
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: [{ key: 'a', value: 1, partition: 1 }] });

    const watch = client.watch({ minIntervalMs: 0 });
    const first = await readUntil(watch, (e) => e.type === 'offsets');
    expect(first).toEqual([
      { type: 'topics', topics: ['orders'] },
      { type: 'offsets', topic: 'orders', partitions: [
        { partition: 0, offset: '0', high: '0', low: '0', replicated: '0' },
        { partition: 1, offset: '1', high: '1', low: '0', replicated: '0' },
      ] },
    ]);
    await producer.send({ topic: 'orders', messages: [{ value: 2, partition: 0 }, { value: 3, partition: 0 }] });
    const appended = await readUntil(watch, (e) => e.type === 'offsets');
    expect(appended.at(-1)).toMatchObject({ topic: 'orders', partitions: [{ partition: 0, high: '2' }, { partition: 1, high: '1' }] });

    await admin.createTopics({ topics: [{ topic: 'customers' }] });
    const created = await readUntil(watch, (e) => e.type === 'topics');
    expect(created.at(-1)).toEqual({ type: 'topics', topics: ['customers', 'orders'] });
    watch.close();
    expect((await watch.next()).done).toBe(true);
    await producer.disconnect();
    await admin.disconnect();
  });

  it('reports a group rebalancing and its commits', async () => {
    const { client } = nodeClient();
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] });
    const watch = client.watch({ topics: ['orders'], groups: ['invoicing'], minIntervalMs: 0 });
    const initial = await readUntil(watch, (e) => e.type === 'committed');
    expect(initial.filter((e) => e.type === 'group')).toEqual([{ type: 'group', groupId: 'invoicing', state: 'Dead', generationId: -1 }]);

    const consumer = client.consumer({ groupId: 'invoicing', ...FAST });
    await consumer.connect();
    await consumer.subscribe({ topics: ['orders'], fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ autoCommitThreshold: 1, eachMessage: async ({ message }) => { seen.push(String(message.value)); } });
    const stable = await readUntil(watch, (e) => e.type === 'group' && e.state === 'Stable');
    expect(stable.at(-1)).toMatchObject({ groupId: 'invoicing', state: 'Stable' });

    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: [{ value: 'x', partition: 1 }] });
    const committed = await readUntil(watch, (e) => e.type === 'committed' && e.offsets.some((o) => o.offset === '1'));
    const last = committed.at(-1) as Extract<WatchEvent, { type: 'committed' }>;
    expect(last.groupId).toBe('invoicing');
    expect(last.offsets).toContainEqual({ topic: 'orders', partition: 1, offset: '1' });
    expect(seen).toEqual(['x']);

    await consumer.disconnect();
    const empty = await readUntil(watch, (e) => e.type === 'group' && e.state !== 'Stable');
    expect(empty.at(-1)).toMatchObject({ groupId: 'invoicing' });
    watch.close();
    await producer.disconnect();
    await admin.disconnect();
  });

  it('ends on abort and refuses bad options naming the field', async () => {
    const { client } = nodeClient();
    expect(() => client.watch({ topics: 'orders' as unknown as string[] })).toThrow(InvalidArgumentError);
    expect(() => client.watch({ groups: [''] })).toThrow(/groups/);
    expect(() => client.watch({ minIntervalMs: -1 })).toThrow(/minIntervalMs/);
    // A timer above 2^31-1 ms fires at once: the watch would answer as often as the log changes.
    expect(() => client.watch({ minIntervalMs: 2 ** 31 })).toThrow(/minIntervalMs/);
    expect(() => client.watch({ signal: 'abort' as unknown as AbortSignal })).toThrow(/signal/);
    expect(() => client.watch(null as unknown as object)).toThrow(InvalidArgumentError);
    const ac = new AbortController();
    const watch = client.watch({ signal: ac.signal });
    expect((await watch.next()).value).toEqual({ type: 'topics', topics: [] });
    ac.abort();
    expect((await watch.next()).done).toBe(true);
  });

  it('stays open while idle for longer than the request timeout (its long-poll wait is part of its deadline)', async () => {
    const { client } = nodeClient({ requestTimeout: 100 });
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'quiet', messages: [{ value: 1 }] });
    const watch = client.watch({ topics: ['quiet'], minIntervalMs: 0 });
    await readUntil(watch, (e) => e.type === 'offsets');
    const next = watch.next();
    // Idle for several request timeouts: the pending long-poll must not fail meanwhile.
    const early = await Promise.race([next.then(() => 'event'), new Promise((r) => setTimeout(() => r('idle'), 500))]);
    expect(early).toBe('idle');
    await producer.send({ topic: 'quiet', messages: [{ value: 2 }] });
    expect((await next).value).toMatchObject({ type: 'offsets', topic: 'quiet', partitions: [{ high: '2' }] });
    watch.close();
    await producer.disconnect();
  });

  it('diffs states into events: nothing for an unchanged state', () => {
    const s = { topics: [{ topic: 't', partitions: [{ partition: 0, low: 0, high: 5 }] }], groups: [{ groupId: 'g', state: 'Stable', generationId: 3, committed: [] }] };
    expect(watchEvents(s, structuredClone(s))).toEqual([]);
    const next = structuredClone(s);
    next.topics[0]!.partitions[0]!.low = 2;
    next.groups[0]!.generationId = 4;
    expect(watchEvents(s, next).map((e) => e.type)).toEqual(['offsets', 'group']);
  });
});
