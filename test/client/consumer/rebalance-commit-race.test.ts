/**
 * A commit a handler sends just before a cooperative rebalance completes, and that reaches the
 * broker just after, carries the generation the member had when it sent it. The member kept
 * (or still holds, pending revocation) the partition, so the commit is no zombie's: it must be
 * accepted, and the handler must not be run again on the record it already processed.
 *
 * Deterministic: the broker's commitOffsets is held (the real coordinator still decides) until
 * the group has completed the round that a second member's join started.
 */
import { describe, expect, it } from 'vitest';
import { createClient } from '../../../src/index.js';
import type { OffsetCommitRequest } from '../../../src/protocol/broker-api.js';
import { setup } from '../helpers.js';

describe('a handler commit that crosses a cooperative rebalance', () => {
  it('is accepted for the partitions the member kept, and no record is handed twice to the same member', async () => {
    const s = await setup();
    await s.admin.createTopics({ topics: [{ topic: 'jobs', numPartitions: 2 }] });
    await s.producer.send({ topic: 'jobs', messages: [0, 1].flatMap((p) => [0, 1, 2].map((i) => ({ value: `${p}-${i}`, partition: p }))) });

    const group = s.broker.groups;
    const generation = () => group.describe('g').generationId;
    // Holds the first commit until a round newer than the generation it carries has completed.
    const realCommit = s.broker.commitOffsets.bind(s.broker);
    let held: { generationId: number } | undefined;
    let release: () => void = () => undefined;
    const completed = new Promise<void>((r) => { release = r; });
    const off = group.onEvent((e) => { if (held && e.groupId === 'g' && e.type === 'stable' && e.generationId > held.generationId) release(); });
    s.broker.commitOffsets = async (req: OffsetCommitRequest) => {
      if (!held) {
        held = { generationId: req.generationId };
        await completed;
      }
      return realCommit(req);
    };

    const cfg = { groupId: 'g', heartbeatInterval: 100, sessionTimeout: 5000, maxWaitTimeInMs: 100 };
    const a = createClient({ ...s.config, clientId: 'a' }).consumer(cfg);
    const b = createClient({ ...s.config, clientId: 'b' }).consumer(cfg);
    await a.connect();
    await b.connect();
    await a.subscribe({ topics: ['jobs'], fromBeginning: true });
    await b.subscribe({ topics: ['jobs'], fromBeginning: true });
    const seenA: string[] = [];
    const seenB: string[] = [];
    const errors: unknown[] = [];
    let bStarted: Promise<void> | undefined;
    let done!: () => void;
    const all = new Promise<void>((r) => { done = r; });
    const check = () => { if (new Set([...seenA, ...seenB]).size === 6) done(); };
    await a.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        seenA.push(`${partition}:${message.offset}`);
        // The first record: a second member joins while this handler's commit is on its way.
        bStarted ??= b.run({
          autoCommit: false,
          eachMessage: async (p) => {
            seenB.push(`${p.partition}:${p.message.offset}`);
            await b.commitOffsets([{ topic: p.topic, partition: p.partition, offset: String(Number(p.message.offset) + 1) }]);
            check();
          },
        });
        try {
          await a.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
        } catch (e) {
          errors.push(e);
          throw e;
        }
        check();
      },
    });
    await all;
    await bStarted;
    off();
    // The held commit carried the generation before the round and reached the broker after it.
    expect(held!.generationId).toBeLessThan(generation());
    expect(errors).toEqual([]);
    expect(new Set(seenA).size).toBe(seenA.length);
    expect(new Set(seenB).size).toBe(seenB.length);
    // Each record was processed by one member only: every commit was accepted before it moved.
    expect(seenA.filter((k) => seenB.includes(k))).toEqual([]);
    await a.disconnect();
    await b.disconnect();
    await s.close();
  });
});
