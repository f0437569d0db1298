import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError, InvalidConfigError, InvalidPartitionsError, NotConnectedError, TopicNotFoundError,
} from '../../../src/index.js';
import { nodeClient } from '../../helpers/node-client.js';
import { readAll, rejection, setup } from '../helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
const open = async (...a: Parameters<typeof setup>) => (env = await setup(...a));
afterEach(async () => { await env?.close(); env = undefined; });

describe('createTopics', () => {
  it('creates topics with their partitions and answers true; false when one already exists', async () => {
    const { admin, offsets } = await open();
    expect(await admin.createTopics({ topics: [{ topic: 'a', numPartitions: 3 }, { topic: 'b' }] })).toBe(true);
    expect((await admin.listTopics()).sort()).toEqual(['a', 'b']);
    expect(await offsets('a')).toEqual([0, 1, 2].map((partition) => ({ partition, low: 0, high: 0 })));
    expect(await offsets('b')).toHaveLength(1);
    expect(await admin.createTopics({ topics: [{ topic: 'a', numPartitions: 5 }] })).toBe(false);
    expect(await offsets('a')).toHaveLength(3);
  });

  it('describes created topics in KafkaJS metadata shape', async () => {
    const { admin } = await open();
    await admin.createTopics({ topics: [{ topic: 'm', numPartitions: 2 }] });
    const { topics } = await admin.fetchTopicMetadata({ topics: ['m'] });
    expect(topics).toEqual([{ name: 'm', partitions: [0, 1].map((partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 })) }]);
    await expect(admin.fetchTopicMetadata({ topics: ['nope'] })).rejects.toBeInstanceOf(TopicNotFoundError);
  });

  for (const numPartitions of [0, -1, 1.5, Number.NaN, 10_001, 1e9]) {
    it(`refuses numPartitions ${numPartitions} with InvalidPartitionsError and creates nothing`, async () => {
      const { admin } = await open();
      const e = await rejection(admin.createTopics({ topics: [{ topic: 'p', numPartitions }] }));
      expect(e).toBeInstanceOf(InvalidPartitionsError);
      expect(e.message).toContain('numPartitions');
      expect(await admin.listTopics()).toEqual([]);
    });
  }

  it('refuses an unknown config with InvalidConfigError naming it, and creates nothing', async () => {
    const { admin } = await open();
    const e = await rejection(admin.createTopics({ topics: [{ topic: 'c', configEntries: [{ name: 'retention.hours', value: '1' }] }] }));
    expect(e).toBeInstanceOf(InvalidConfigError);
    expect(e.message).toContain('retention.hours');
    expect(await admin.listTopics()).toEqual([]);
  });

  for (const [name, value] of [['segment.bytes', '0'], ['retention.ms', 'soon'], ['cleanup.policy', 'forever'], ['message.timestamp.type', 'Now']] as const) {
    it(`refuses ${name}=${value} with InvalidConfigError and creates nothing`, async () => {
      const { admin } = await open();
      const e = await rejection(admin.createTopics({ topics: [{ topic: 'c', configEntries: [{ name, value }] }] }));
      expect(e).toBeInstanceOf(InvalidConfigError);
      expect(e.message).toContain(name);
      expect(await admin.listTopics()).toEqual([]);
    });
  }

  for (const topic of ['', 'has space', 'slash/name', 'ümlaut', '.', '..', 'x'.repeat(250)]) {
    it(`refuses the topic name ${JSON.stringify(topic.length > 20 ? `${topic.slice(0, 5)}...(${topic.length})` : topic)}`, async () => {
      const { admin } = await open();
      expect(await rejection(admin.createTopics({ topics: [{ topic }] }))).toBeInstanceOf(InvalidArgumentError);
      expect(await admin.listTopics()).toEqual([]);
    });
  }

  it('accepts the longest and most unusual legal names', async () => {
    const { admin } = await open();
    const names = ['x'.repeat(249), 'a.b_c-D9', '...', '_', '__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    expect(await admin.createTopics({ topics: names.map((topic) => ({ topic })) })).toBe(true);
    expect((await admin.listTopics()).sort()).toEqual([...names].sort());
  });

  it('refuses calls before connect', async () => {
    const { client } = nodeClient();
    await expect(client.admin().listTopics()).rejects.toBeInstanceOf(NotConnectedError);
  });
});

describe('createPartitions', () => {
  it('grows a topic; new partitions start empty and take records, old ones keep theirs', async () => {
    const { admin, producer, client, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'g', numPartitions: 1 }] });
    await producer.send({ topic: 'g', messages: [{ value: 'old' }] });
    expect(await admin.createPartitions({ topicPartitions: [{ topic: 'g', count: 3 }] })).toBe(true);
    expect(await offsets('g')).toEqual([{ partition: 0, low: 0, high: 1 }, { partition: 1, low: 0, high: 0 }, { partition: 2, low: 0, high: 0 }]);
    const fresh = client.producer();
    await fresh.connect();
    const [r] = await fresh.send({ topic: 'g', messages: [{ value: 'new', partition: 2 }] });
    expect(r).toMatchObject({ partition: 2, baseOffset: '0' });
    await fresh.disconnect();
  });

  it('refuses to shrink or keep the count, and an unknown topic', async () => {
    const { admin, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'g', numPartitions: 2 }] });
    for (const count of [1, 2, 2.5]) {
      expect(await rejection(admin.createPartitions({ topicPartitions: [{ topic: 'g', count }] }))).toBeInstanceOf(InvalidPartitionsError);
    }
    expect(await offsets('g')).toHaveLength(2);
    expect(await rejection(admin.createPartitions({ topicPartitions: [{ topic: 'nope', count: 4 }] }))).toBeInstanceOf(TopicNotFoundError);
  });

  it('refuses a count above 10,000 and a topic named twice, and grows nothing', async () => {
    const { admin, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'g', numPartitions: 2 }, { topic: 'h' }] });
    const big = await rejection(admin.createPartitions({ topicPartitions: [{ topic: 'g', count: 1e9 }] }));
    expect(big).toBeInstanceOf(InvalidPartitionsError);
    expect(big.message).toContain('10000');
    const twice = await rejection(admin.createPartitions({ topicPartitions: [{ topic: 'h', count: 3 }, { topic: 'g', count: 3 }, { topic: 'g', count: 4 }] }));
    expect(twice).toBeInstanceOf(InvalidArgumentError);
    expect(twice.message).toContain('twice');
    expect(await offsets('g')).toHaveLength(2);
    expect(await offsets('h')).toHaveLength(1);
  });
});

describe('validateOnly', () => {
  it('createPartitions and alterConfigs with validateOnly check the request and change nothing', async () => {
    const { admin, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'v', numPartitions: 2 }] });
    expect(await admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'v', count: 4 }] })).toBe(true);
    expect(await offsets('v')).toHaveLength(2);
    expect(await rejection(admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'v', count: 1 }] }))).toBeInstanceOf(InvalidPartitionsError);
    expect(await rejection(admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'nope', count: 3 }] }))).toBeInstanceOf(TopicNotFoundError);
    await admin.alterConfigs({ validateOnly: true, resources: [{ name: 'v', configEntries: [{ name: 'retention.ms', value: '5' }] }] });
    const { resources } = await admin.describeConfigs({ resources: [{ name: 'v', configNames: ['retention.ms'] }] });
    expect(resources[0]!.configEntries[0]!.isDefault).toBe(true);
    expect(await rejection(admin.alterConfigs({ validateOnly: true, resources: [{ name: 'v', configEntries: [{ name: 'segment.bytes', value: '0' }] }] }))).toBeInstanceOf(InvalidConfigError);
    expect(await rejection(admin.alterConfigs({ validateOnly: true, resources: [{ name: 'nope', configEntries: [] }] }))).toBeInstanceOf(TopicNotFoundError);
  });
});

describe('deleteTopics', () => {
  it('deletes a topic with its records: a topic created again under the name starts empty', async () => {
    const { admin, producer, client, broker, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'd', numPartitions: 2 }, { topic: 'keep' }] });
    await producer.send({ topic: 'd', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }] });
    await admin.deleteTopics({ topics: ['d'] });
    expect(await admin.listTopics()).toEqual(['keep']);
    await expect(admin.fetchTopicOffsets('d')).rejects.toBeInstanceOf(TopicNotFoundError);
    await admin.createTopics({ topics: [{ topic: 'd', numPartitions: 2 }] });
    expect(await offsets('d')).toEqual([{ partition: 0, low: 0, high: 0 }, { partition: 1, low: 0, high: 0 }]);
    const fresh = client.producer();
    await fresh.connect();
    await fresh.send({ topic: 'd', messages: [{ value: 'again', partition: 0 }] });
    expect((await readAll(broker, 'd', 0)).map((m) => m.value)).toEqual(['again']);
    expect(await readAll(broker, 'd', 1)).toEqual([]);
    await fresh.disconnect();
  });

  it('deletes nothing when one of the topics does not exist', async () => {
    const { admin } = await open();
    await admin.createTopics({ topics: [{ topic: 'x' }] });
    expect(await rejection(admin.deleteTopics({ topics: ['x', 'missing'] }))).toBeInstanceOf(TopicNotFoundError);
    expect(await admin.listTopics()).toEqual(['x']);
  });

  it('deletes nothing when a topic is named twice (InvalidArgumentError, not a half-done delete)', async () => {
    const { admin } = await open();
    await admin.createTopics({ topics: [{ topic: 'x' }, { topic: 'y' }] });
    const e = await rejection(admin.deleteTopics({ topics: ['y', 'x', 'x'] }));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.message).toContain('twice');
    expect((await admin.listTopics()).sort()).toEqual(['x', 'y']);
  });
});

describe('listTopics', () => {
  it('hides internal topics but lists every other one', async () => {
    const { admin, broker } = await open();
    await admin.createTopics({ topics: [{ topic: 'visible' }, { topic: '__user_named' }] });
    // The group coordinator creates it when the broker opens; create it here if it did not.
    if (!broker.store.topics.has('__consumer_offsets')) await broker.store.createTopic('__consumer_offsets', 1, undefined, true);
    expect((await admin.listTopics()).sort()).toEqual(['__user_named', 'visible']);
    // It still exists: the broker describes it when asked by name.
    expect((await broker.metadata({ topics: ['__consumer_offsets'] }))[0]!.internal).toBe(true);
  });

  it('is empty on a fresh database', async () => {
    const { admin } = await open();
    expect(await admin.listTopics()).toEqual([]);
  });
});

describe('describeConfigs / alterConfigs', () => {
  it('describes every config, marking defaults, and filters by configNames', async () => {
    const { admin } = await open();
    await admin.createTopics({ topics: [{ topic: 'c', configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '2048' }] }] });
    const { resources } = await admin.describeConfigs({ resources: [{ type: 2, name: 'c' }] });
    expect(resources).toHaveLength(1);
    const r = resources[0]!;
    expect(r).toMatchObject({ resourceName: 'c', resourceType: 2, errorCode: 0 });
    const byName = new Map(r.configEntries.map((e) => [e.configName, e]));
    expect(byName.get('cleanup.policy')).toMatchObject({ configValue: 'compact', value: 'compact', isDefault: false });
    expect(byName.get('segment.bytes')).toMatchObject({ configValue: '2048', isDefault: false });
    expect(byName.get('max.message.bytes')).toMatchObject({ configValue: String(1024 * 1024), isDefault: true });
    expect(byName.size).toBe(9);
    const some = await admin.describeConfigs({ resources: [{ name: 'c', configNames: ['retention.ms'] }] });
    expect(some.resources[0]!.configEntries.map((e) => e.name)).toEqual(['retention.ms']);
    await expect(admin.describeConfigs({ resources: [{ name: 'nope' }] })).rejects.toBeInstanceOf(TopicNotFoundError);
  });

  it('alters configs over the current ones; a bad entry changes nothing', async () => {
    const { admin } = await open();
    await admin.createTopics({ topics: [{ topic: 'c', configEntries: [{ name: 'segment.bytes', value: '2048' }] }] });
    await admin.alterConfigs({ resources: [{ type: 2, name: 'c', configEntries: [{ name: 'retention.ms', value: '1000' }] }] });
    const value = async (name: string) =>
      (await admin.describeConfigs({ resources: [{ name: 'c', configNames: [name] }] })).resources[0]!.configEntries[0]!.value;
    expect(await value('retention.ms')).toBe('1000');
    expect(await value('segment.bytes')).toBe('2048');
    const e = await rejection(admin.alterConfigs({ resources: [{ name: 'c', configEntries: [{ name: 'retention.ms', value: '5' }, { name: 'segment.bytes', value: '-3' }] }] }));
    expect(e).toBeInstanceOf(InvalidConfigError);
    expect(e.message).toContain('segment.bytes');
    expect(await value('retention.ms')).toBe('1000');
    expect(await rejection(admin.alterConfigs({ resources: [{ name: 'c', configEntries: [{ name: 'bogus', value: '1' }] }] }))).toBeInstanceOf(InvalidConfigError);
    expect(await rejection(admin.alterConfigs({ resources: [{ name: 'nope', configEntries: [] }] }))).toBeInstanceOf(TopicNotFoundError);
  });

  it('applies a lowered max.message.bytes to later sends', async () => {
    const { admin, producer, offsets } = await open();
    await admin.createTopics({ topics: [{ topic: 'c' }] });
    await producer.send({ topic: 'c', messages: [{ value: 'x'.repeat(500) }] });
    await admin.alterConfigs({ resources: [{ name: 'c', configEntries: [{ name: 'max.message.bytes', value: '100' }] }] });
    // This producer cached the old config; the broker still refuses.
    const e = await rejection(producer.send({ topic: 'c', messages: [{ value: 'x'.repeat(500) }] }));
    expect(e.code).toBe('RECORD_TOO_LARGE');
    expect(await offsets('c')).toEqual([{ partition: 0, low: 0, high: 1 }]);
  });
});

describe('auto-creation', () => {
  it('creates a topic on first send with defaultNumPartitions', async () => {
    const { admin, producer, offsets } = await open({ defaultNumPartitions: 3 });
    const [r] = await producer.send({ topic: 'auto', messages: [{ value: 'v', partition: 2 }] });
    expect(r).toMatchObject({ topicName: 'auto', partition: 2, baseOffset: '0' });
    expect(await admin.listTopics()).toEqual(['auto']);
    expect(await offsets('auto')).toEqual([{ partition: 0, low: 0, high: 0 }, { partition: 1, low: 0, high: 0 }, { partition: 2, low: 0, high: 1 }]);
  });

  it('creates one partition by default', async () => {
    const { producer, offsets } = await open();
    await producer.send({ topic: 'auto', messages: [{ value: 'v' }] });
    expect(await offsets('auto')).toEqual([{ partition: 0, low: 0, high: 1 }]);
  });

  it('with auto-creation off, refuses an unknown topic with TopicNotFoundError and writes nothing', async () => {
    const { admin, client } = await open();
    const p = client.producer({ allowAutoTopicCreation: false });
    await p.connect();
    const e = await rejection(p.send({ topic: 'missing', messages: [{ value: 'v' }] }));
    expect(e).toBeInstanceOf(TopicNotFoundError);
    expect(e.message).toContain('missing');
    expect(await admin.listTopics()).toEqual([]);
    await admin.createTopics({ topics: [{ topic: 'missing' }] });
    expect((await p.send({ topic: 'missing', messages: [{ value: 'v' }] }))[0]!.baseOffset).toBe('0');
    await p.disconnect();
  });

  it('does not create a topic for a send it refuses', async () => {
    const { admin, producer } = await open();
    await expect(producer.send({ topic: 'never', messages: [{ value: undefined as never }] })).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    await expect(producer.send({ topic: 'never2', messages: [{ value: 'v', partition: 0.5 }] })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await admin.listTopics()).toEqual([]);
  });

  it('refuses an invalid topic name instead of creating it', async () => {
    const { admin, producer } = await open();
    expect(await rejection(producer.send({ topic: 'bad name', messages: [{ value: 'v' }] }))).toBeInstanceOf(InvalidArgumentError);
    expect(await admin.listTopics()).toEqual([]);
  });
});
