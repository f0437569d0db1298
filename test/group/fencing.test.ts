/**
 * Fencing: commits and heartbeats of a stale generation or of an evicted member are refused,
 * and a real consumer that was fenced rejoins and keeps consuming. Fake members are driven
 * through the in-page broker directly (broker.joinGroup), so they heartbeat only when told to.
 */
import { IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireInPageBroker } from '../../src/broker/in-page.js';
import type { Broker } from '../../src/broker/broker.js';
import {
  assigners, createClient, IllegalGenerationError, isRebalancing, UnknownMemberIdError, type Consumer, type ConsumerConfig,
} from '../../src/index.js';
import type { JoinGroupRequest } from '../../src/protocol/broker-api.js';
import { rejection } from '../client/helpers.js';
import { nodeClient } from '../helpers/node-client.js';
import { waitFor, FAST } from './helpers.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => { for (const f of cleanup.reverse()) await f(); cleanup = []; });

/** A fresh database with a topic, its broker, an admin and a producer. */
async function open(numPartitions: number) {
  const { client, config, indexedDB } = nodeClient();
  const admin = client.admin();
  await admin.connect();
  cleanup.push(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 't', numPartitions }] });
  const producer = client.producer();
  await producer.connect();
  cleanup.push(() => producer.disconnect());
  const held = await acquireInPageBroker({ database: config.database, indexedDB, IDBKeyRange });
  cleanup.push(async () => held.release());
  return {
    admin, producer, broker: held.broker as Broker,
    async consumer(c: ConsumerConfig = {}): Promise<Consumer> {
      const consumer = createClient({ ...config, clientId: 'real' }).consumer({ groupId: 'g', ...FAST, ...c });
      await consumer.connect();
      cleanup.push(() => consumer.disconnect());
      return consumer;
    },
  };
}

/** A join request of a member driven by hand. */
const fake = (memberId: string, over: Partial<JoinGroupRequest> = {}): JoinGroupRequest => ({
  groupId: 'g', memberId, clientId: 'fake', topics: ['t'], owned: {}, protocols: ['range'], sessionTimeout: 30_000, rebalanceTimeout: 30_000, ...over,
});

describe('a stale generation is fenced', () => {
  it('refuses a commit from an older generation with IllegalGenerationError and accepts the current one', async () => {
    const { broker } = await open(2);
    const a1 = await broker.joinGroup(fake('a'));
    expect(a1.assignment).toEqual({ t: [0, 1] });
    // b's join starts a round; it completes once a rejoins.
    const b = broker.joinGroup(fake('b'));
    const [a2, b2] = await Promise.all([broker.joinGroup(fake('a')), b]);
    expect(a2.generationId).toBe(a1.generationId + 1);
    expect(b2.generationId).toBe(a2.generationId);
    expect(a2.assignment).toEqual({ t: [0] });
    expect(b2.assignment).toEqual({ t: [1] });
    await broker.commitOffsets({ groupId: 'g', memberId: 'a', generationId: a2.generationId, offsets: [{ topic: 't', partition: 0, offset: 0 }] });

    // Another rebalance: a commit of the generation before it is a zombie's.
    const [a3] = await Promise.all([broker.joinGroup(fake('a')), broker.joinGroup(fake('b'))]);
    const err = await rejection(broker.commitOffsets({ groupId: 'g', memberId: 'a', generationId: a2.generationId, offsets: [{ topic: 't', partition: 0, offset: 1 }] }));
    expect(err).toBeInstanceOf(IllegalGenerationError);
    expect(err.code).toBe('ILLEGAL_GENERATION');
    expect(isRebalancing(err)).toBe(true);
    expect(err.details).toMatchObject({ generationId: a2.generationId, currentGenerationId: a3.generationId });
    expect(await rejection(broker.heartbeat({ groupId: 'g', memberId: 'b', generationId: a1.generationId }))).toBeInstanceOf(IllegalGenerationError);
    expect((await broker.fetchOffsets('g', ['t']))[0]!.offset).toBe(0); // the refused commit wrote nothing
    await broker.leaveGroup({ groupId: 'g', memberId: 'a' });
    await broker.leaveGroup({ groupId: 'g', memberId: 'b' });
  });
});

describe('a member that stops heartbeating is evicted', () => {
  it('loses its partitions to the live consumer after sessionTimeout, and its later commit is refused', async () => {
    const e = await open(4);
    const live = await e.consumer({ partitionAssigners: [assigners.range] });
    const t = await track(live);
    expect(partitionsOf(live)).toEqual([0, 1, 2, 3]);

    // A zombie joins by hand and never heartbeats; the live consumer rejoins and shares.
    const zombie = await e.broker.joinGroup(fake('zombie', { sessionTimeout: 500, rebalanceTimeout: 1000 }));
    expect(zombie.assignment).toEqual({ t: [2, 3] }); // range: memberIds 'real-…' < 'zombie'
    await waitFor(() => partitionsOf(live).join() === '0,1', 'the live consumer to keep partitions 0 and 1');
    await e.producer.send({ topic: 't', messages: [0, 1, 2, 3].map((partition) => ({ value: `v${partition}`, partition })) });
    await waitFor(() => t.seen.length === 2, 'records of the live partitions');

    // After its session times out, the zombie's partitions go to the live consumer.
    await waitFor(() => partitionsOf(live).join() === '0,1,2,3', 'the zombie to be evicted');
    await waitFor(() => t.seen.length === 4, 'the zombie\'s records processed by the live consumer');
    expect(t.seen.sort()).toEqual(['0:v0', '1:v1', '2:v2', '3:v3']);
    const group = await live.describeGroup();
    expect(group.members.map((m) => m.memberId)).toEqual([live.memberId]);
    expect(group.generationId).toBeGreaterThan(zombie.generationId);

    const commit = await rejection(e.broker.commitOffsets({ groupId: 'g', memberId: 'zombie', generationId: zombie.generationId, offsets: [{ topic: 't', partition: 2, offset: 0 }] }));
    expect(commit).toBeInstanceOf(IllegalGenerationError);
    const beat = await rejection(e.broker.heartbeat({ groupId: 'g', memberId: 'zombie', generationId: group.generationId }));
    expect(beat).toBeInstanceOf(UnknownMemberIdError);
    await waitFor(async () => {
      const [c] = await e.admin.fetchOffsets({ groupId: 'g', topics: ['t'] });
      return c!.partitions.every((p) => p.offset === '1');
    }, 'the live consumer\'s commits (none of the zombie\'s)');
  });
});

describe('a fenced consumer rejoins and keeps consuming', () => {
  it('after its commit is refused with IllegalGenerationError', async () => {
    const e = await open(2);
    const live = await e.consumer({ partitionAssigners: [assigners.range] });
    const t = await track(live);
    await e.producer.send({ topic: 't', messages: [{ value: 'x0', partition: 0 }, { value: 'x1', partition: 1 }] });
    await waitFor(() => t.seen.length === 2, 'the first records');
    const other = e.broker.joinGroup(fake('other'));
    await waitFor(() => live.assignment().length === 1, 'the live consumer to share');
    const { generationId } = await other;

    // The coordinator drops the live consumer and completes a generation without it; its
    // commit (sent before any heartbeat could tell it) carries the older generation.
    await e.broker.leaveGroup({ groupId: 'g', memberId: live.memberId });
    const next = await e.broker.joinGroup(fake('other'));
    expect(next.generationId).toBe(generationId + 1);
    const err = await rejection(live.commitOffsets([{ topic: 't', partition: 0, offset: '1' }]));
    expect(err).toBeInstanceOf(IllegalGenerationError);

    await e.broker.leaveGroup({ groupId: 'g', memberId: 'other' });
    await waitFor(() => live.assignment().length === 2, 'the live consumer to rejoin with both partitions');
    expect(t.joins.at(-1)!).toBeGreaterThan(next.generationId);
    await e.producer.send({ topic: 't', messages: [{ value: 'y0', partition: 0 }, { value: 'y1', partition: 1 }] });
    await waitFor(() => t.seen.length === 4, 'records after the fencing');
    expect(t.seen.sort()).toEqual(['0:x0', '0:y0', '1:x1', '1:y1']);
  });

  it('after a heartbeat answered UnknownMemberId (evicted while alone)', async () => {
    const e = await open(1);
    const live = await e.consumer();
    const t = await track(live);
    const before = (await live.describeGroup()).generationId;
    await e.broker.leaveGroup({ groupId: 'g', memberId: live.memberId });
    expect((await live.describeGroup()).state).toBe('Empty');
    await waitFor(async () => (await live.describeGroup()).state === 'Stable', 'the consumer to rejoin');
    const after = await live.describeGroup();
    expect(after.generationId).toBe(before + 1);
    expect(after.members.map((m) => m.memberId)).toEqual([live.memberId]);
    await e.producer.send({ topic: 't', messages: [{ value: 'z' }] });
    await waitFor(() => t.seen.length === 1, 'a record after the eviction');
    expect(t.seen).toEqual(['0:z']);
  });
});

/** Records what a consumer processes (`partition:value`) and the generations of its GROUP_JOIN events. */
async function track(consumer: Consumer) {
  const seen: string[] = [];
  const joins: number[] = [];
  consumer.on(consumer.events.GROUP_JOIN, (ev) => { joins.push((ev.payload as { generationId: number }).generationId); });
  await consumer.subscribe({ topics: ['t'], fromBeginning: true });
  await consumer.run({ autoCommitThreshold: 1, eachMessage: async ({ partition, message }) => { seen.push(`${partition}:${String(message.value)}`); } });
  return { seen, joins };
}

const partitionsOf = (c: Consumer) => c.assignment().map((a) => a.partition).sort((x, y) => x - y);

describe('stopping during a rebalance another member holds up', () => {
  it('stop() returns without waiting for the round, and the member leaves it', async () => {
    const { broker, consumer } = await open(2);
    // A member driven by hand that will not rejoin: the next round waits for it (30 s).
    await broker.joinGroup(fake('f', { protocols: ['cooperative-sticky'], rebalanceTimeout: 30_000 }));
    const c = await consumer({ rebalanceTimeout: 30_000 });
    await c.subscribe({ topics: ['t'] });
    const running = c.run({ eachMessage: async () => undefined });
    running.catch(() => undefined);
    await waitFor(async () => (await broker.describeGroups(['g']))[0]!.state === 'PreparingRebalance', 'the round to start');
    await c.stop();
    // The round has not completed (f never rejoined), yet stop() returned and c left it.
    const [g] = await broker.describeGroups(['g']);
    expect(g!.members.map((m) => m.memberId)).toEqual(['f']);
    expect(c.assignment()).toEqual([]);
    await broker.leaveGroup({ groupId: 'g', memberId: 'f' });
  });
});
