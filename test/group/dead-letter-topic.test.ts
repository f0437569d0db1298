/**
 * The dead-letter topic recipe of docs/API.md: a record its handler cannot process after a few
 * tries is sent to `<topic>.dlq` with where it came from and why, and the partition goes on.
 * One poison record then neither stops its partition nor crashes member after member.
 */
import { describe, expect, it } from 'vitest';
import { createClient, type Consumer, type EachMessagePayload, type InstrumentationEvent, type Producer } from '../../src/index.js';
import { disconnectAfterEach, FAST, groupEnv, waitFor } from './helpers.js';

const open = disconnectAfterEach();

/** The recipe: try a few times, then park the record on the dead-letter topic and move on. */
function withDeadLetter(producer: Producer, handle: (p: EachMessagePayload) => Promise<void>, attempts = 3) {
  return async (payload: EachMessagePayload) => {
    let error: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        return await handle(payload);
      } catch (e) {
        error = e;
      }
    }
    const { topic, partition, message } = payload;
    await producer.send({
      topic: `${topic}.dlq`,
      messages: [{
        key: message.key, value: message.value,
        headers: {
          ...message.headers,
          'dlq.topic': topic, 'dlq.partition': String(partition), 'dlq.offset': message.offset,
          'dlq.error': error instanceof Error ? error.message : String(error),
        },
      }],
    });
  };
}

describe('a dead-letter topic', () => {
  it('takes the poison record; the partition goes on, nothing crashes, every member stays', async () => {
    const { client, config, admin, producer } = await groupEnv(open);
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }, { topic: 'orders.dlq' }] });

    const processed: string[] = [];
    const crashes: InstrumentationEvent[] = [];
    const members: Consumer[] = [];
    for (let i = 0; i < 2; i++) {
      const c = createClient({ ...config, clientId: `m${i}` }).consumer({ groupId: 'g', ...FAST });
      await c.connect();
      open.push(c);
      c.on(c.events.CRASH, (e) => crashes.push(e));
      await c.subscribe({ topics: ['orders'], fromBeginning: true });
      await c.run({
        autoCommitThreshold: 1,
        eachMessage: withDeadLetter(producer, async ({ partition, message }) => {
          if (message.value === 'poison') throw new Error('cannot parse order');
          processed.push(`${partition}:${String(message.value)}`);
        }),
      });
      members.push(c);
    }
    await waitFor(() => members.every((m) => m.assignment().length === 1), 'one partition each');
    await producer.send({ topic: 'orders', messages: [
      { value: 'a', partition: 0 }, { value: 'poison', partition: 0, headers: { trace: 't1' } }, { value: 'b', partition: 0 },
      { value: 'c', partition: 1 },
    ] });
    await waitFor(() => processed.length === 3, 'the good records of both partitions');
    expect(processed.sort()).toEqual(['0:a', '0:b', '1:c']);

    const dead: { value: unknown; headers: Record<string, unknown> }[] = [];
    const reader = client.consumer();
    await reader.connect();
    open.push(reader);
    reader.assign([{ topic: 'orders.dlq', partition: 0, offset: 'earliest' }]);
    await reader.run({ eachMessage: async ({ message }) => { dead.push({ value: message.value, headers: message.headers }); } });
    await waitFor(() => dead.length === 1, 'the poison record on the dead-letter topic');
    expect(dead[0]).toEqual({
      value: 'poison',
      headers: { trace: 't1', 'dlq.topic': 'orders', 'dlq.partition': '0', 'dlq.offset': '1', 'dlq.error': 'cannot parse order' },
    });
    await waitFor(async () => {
      const [t] = await admin.fetchOffsets({ groupId: 'g', topics: ['orders'] });
      return t!.partitions.find((p) => p.partition === 0)!.offset === '3';
    }, 'partition 0 committed past the poison record');
    expect(crashes).toEqual([]);
    expect((await admin.describeGroups(['g'])).groups[0]!.members).toHaveLength(2);
  });
});
