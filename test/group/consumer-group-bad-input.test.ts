/**
 * Bad input to a group consumer is refused with a typed error before anything is joined or
 * written, and a refused run() leaves the consumer usable.
 */
import { describe, expect, it } from 'vitest';
import { assigners, createClient, InconsistentGroupProtocolError, InvalidArgumentError, TopicNotFoundError, type Consumer, type ConsumerConfig } from '../../src/index.js';
import { IDBKeyRange } from 'fake-indexeddb';
import { acquireInPageBroker } from '../../src/broker/in-page.js';
import { rejection } from '../client/helpers.js';
import { nodeClient } from '../helpers/node-client.js';
import { waitFor, FAST, disconnectAfterEach } from './helpers.js';

const open = disconnectAfterEach();

async function connect() {
  const { client, config } = nodeClient();
  const admin = client.admin();
  await admin.connect();
  open.push(admin);
  await admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
  return {
    admin,
    async consumer(c: ConsumerConfig = {}): Promise<Consumer> {
      const consumer = createClient({ ...config, clientId: 'bad' }).consumer({ groupId: 'g', ...FAST, ...c });
      await consumer.connect();
      open.push(consumer);
      return consumer;
    },
    client,
  };
}

describe('a group consumer refuses bad input', () => {
  it('subscribe with no topics or a topic that is not a string or RegExp', async () => {
    const e = await connect();
    const c = await e.consumer();
    for (const bad of [{ topics: [] }, {}, { topics: 't' }, { topic: undefined }]) {
      expect(await rejection(c.subscribe(bad as never))).toBeInstanceOf(InvalidArgumentError);
    }
    for (const bad of [[42], [null], ['t', { name: 't' }]]) {
      const err = await rejection(c.subscribe({ topics: bad as never }));
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(/topics/);
    }
    // Nothing of the refused subscriptions stuck: run() still has nothing to join.
    const err = await rejection(c.run({ eachMessage: async () => undefined }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toMatch(/subscribe/);
    expect((await e.admin.describeGroups(['g'])).groups[0]!.state).toBe('Dead');
    // The refused run() left nothing running: after a subscribe, run() works.
    await c.subscribe({ topics: ['t'] });
    await c.run({ eachMessage: async () => undefined });
    expect(c.assignment()).toHaveLength(2);
  });

  it('run without eachMessage or eachBatch, or with an autoCommitInterval no timer keeps', async () => {
    const e = await connect();
    const c = await e.consumer();
    await c.subscribe({ topics: ['t'] });
    for (const bad of [undefined, {}, { eachMessage: 'x' }, { eachBatch: null }]) {
      const err = await rejection(c.run(bad as never));
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(/eachMessage or eachBatch/);
    }
    // An autoCommitInterval beyond 2^31-1 ms would commit every millisecond; NaN never.
    for (const autoCommitInterval of [1e12, Number.NaN, -1]) {
      const err = await rejection(c.run({ eachMessage: async () => undefined, autoCommitInterval }));
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.details).toEqual({ field: 'autoCommitInterval' });
    }
    expect((await e.admin.describeGroups(['g'])).groups[0]!.state).toBe('Dead');
    await c.run({ eachMessage: async () => undefined }); // the consumer is still usable
    expect(c.assignment()).toHaveLength(2);
  });

  it('heartbeatInterval not below sessionTimeout, and other bad group options', () => {
    const { client } = nodeClient();
    for (const [heartbeatInterval, sessionTimeout] of [[1000, 1000], [2000, 1000]]) {
      expect(() => client.consumer({ groupId: 'g', heartbeatInterval, sessionTimeout })).toThrow(InvalidArgumentError);
      expect(() => client.consumer({ groupId: 'g', heartbeatInterval, sessionTimeout })).toThrow(/heartbeatInterval/);
    }
    expect(() => client.consumer({ groupId: '' })).toThrow(InvalidArgumentError);
    // NaN, or beyond 2^31-1 ms: the group's timers would fire at once, over and over.
    for (const bad of [{ sessionTimeout: 2 ** 31 }, { rebalanceTimeout: 1e12 }, { heartbeatInterval: Number.NaN }, { sessionTimeout: Number.NaN }, { rebalanceTimeout: -1 }]) {
      const field = Object.keys(bad)[0]!;
      expect(() => client.consumer({ groupId: 'g', ...bad })).toThrow(new RegExp(`${field} must be a number of ms from 1 to 2147483647`));
    }
    expect(() => client.consumer({ groupId: 'g', partitionAssigners: [] })).toThrow(InvalidArgumentError);
    expect(() => client.consumer({ groupId: 'g', partitionAssigners: [42 as never] })).toThrow(InvalidArgumentError);
  });

  it('a missing subscribed topic with auto-creation off fails run() (the broker resolves the subscription); with it on, the first heartbeat creates it', async () => {
    const e = await connect();
    const off = await e.consumer({ allowAutoTopicCreation: false });
    await off.subscribe({ topics: ['t', 'absent'] });
    const err = await rejection(off.run({ eachMessage: async () => undefined }));
    expect(err).toBeInstanceOf(TopicNotFoundError);
    expect(err.details).toMatchObject({ topic: 'absent' });
    expect(await e.admin.listTopics()).toEqual(['t']);
    expect(off.assignment()).toEqual([]);
    const on = await e.consumer();
    await on.subscribe({ topics: ['t', 'made'] });
    await on.run({ eachMessage: async () => undefined });
    expect((await e.admin.listTopics()).sort()).toEqual(['made', 't']);
    expect(on.assignment().map((a) => `${a.topic}-${a.partition}`).sort()).toEqual(['made-0', 't-0', 't-1']);
  });

  it('a subscribed topic named like an Object.prototype member is created and assigned, not a TypeError crash', async () => {
    const e = await connect();
    const c = await e.consumer();
    const crashes: unknown[] = [];
    c.on(c.events.CRASH, (ev) => crashes.push((ev.payload as { error: unknown }).error));
    await c.subscribe({ topics: ['t', 'constructor'] });
    await c.run({ eachMessage: async () => undefined });
    await waitFor(() => c.assignment().length === 3, 'the three partitions assigned');
    expect(c.assignment().map((a) => `${a.topic}-${a.partition}`).sort()).toEqual(['constructor-0', 't-0', 't-1']);
    expect((await e.admin.listTopics()).sort()).toEqual(['constructor', 't']);
    expect(crashes).toEqual([]);
  });

  it('the broker refuses a heartbeat whose subscription is not topic names and RegExps, and creates nothing', async () => {
    const { config, indexedDB } = nodeClient();
    const held = await acquireInPageBroker({ database: config.database, indexedDB, IDBKeyRange, logCleanerIntervalMs: 0 });
    const req = {
      groupId: 'g', memberId: 'm', clientId: 'c', memberEpoch: -1, owned: {}, protocols: ['range'], sessionTimeout: 1000, rebalanceTimeout: 1000,
      allowAutoTopicCreation: true, metadataMaxAge: 0, first: true,
    };
    for (const subscription of [[], 'x', [42], ['ok', { source: 'x' }]]) {
      const err = await rejection(held.broker.groupHeartbeat({ ...req, subscription: subscription as never }));
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(/subscription/);
    }
    expect(await rejection(held.broker.groupHeartbeat({ ...req, groupId: '', subscription: ['ok'] }))).toBeInstanceOf(InvalidArgumentError);
    expect(await held.broker.metadata({})).toEqual([]);
    held.release();
  });

  it('an unknown assigner name: no common assignor', async () => {
    const e = await connect();
    const c = await e.consumer({ partitionAssigners: ['no-such-assigner'] });
    await c.subscribe({ topics: ['t'] });
    const err = await rejection(c.run({ eachMessage: async () => undefined }));
    expect(err).toBeInstanceOf(InconsistentGroupProtocolError);
    expect(err.message).toMatch(/assignor/);
    expect((await e.admin.describeGroups(['g'])).groups[0]).toMatchObject({ state: 'Dead', members: [] });
    expect(c.assignment()).toEqual([]);
  });

  it('a member with no assignor in common with the group is refused; the group carries on', async () => {
    const e = await connect();
    const a = await e.consumer({ partitionAssigners: [assigners.range] });
    await a.subscribe({ topics: ['t'] });
    await a.run({ eachMessage: async () => undefined });
    const b = await e.consumer({ partitionAssigners: [assigners.roundRobin.name, 'no-such-assigner'] });
    await b.subscribe({ topics: ['t'] });
    const err = await rejection(b.run({ eachMessage: async () => undefined }));
    expect(err).toBeInstanceOf(InconsistentGroupProtocolError);
    expect(err.message).toMatch(/assignor/);
    await waitFor(async () => {
      const { groups: [g] } = await e.admin.describeGroups(['g']);
      return g!.state === 'Stable' && g!.members.length === 1 && g!.members[0]!.memberId === a.memberId && a.assignment().length === 2;
    }, 'the group to be stable with its first member only');
    expect(b.assignment()).toEqual([]);
  });
});
