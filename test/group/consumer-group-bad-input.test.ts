/**
 * Bad input to a group consumer is refused with a typed error before anything is joined or
 * written, and a refused run() leaves the consumer usable.
 */
import { describe, expect, it } from 'vitest';
import { assigners, createClient, InconsistentGroupProtocolError, InvalidArgumentError, type Consumer, type ConsumerConfig } from '../../src/index.js';
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

  it('run without eachMessage or eachBatch', async () => {
    const e = await connect();
    const c = await e.consumer();
    await c.subscribe({ topics: ['t'] });
    for (const bad of [undefined, {}, { eachMessage: 'x' }, { eachBatch: null }]) {
      const err = await rejection(c.run(bad as never));
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(/eachMessage or eachBatch/);
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
    expect(() => client.consumer({ groupId: 'g', partitionAssigners: [] })).toThrow(InvalidArgumentError);
    expect(() => client.consumer({ groupId: 'g', partitionAssigners: [42 as never] })).toThrow(InvalidArgumentError);
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
