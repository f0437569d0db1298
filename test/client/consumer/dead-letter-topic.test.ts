/**
 * The dead-letter recipe of examples/dead-letter.mjs (documented in docs/API.md): a group of two
 * consumers whose handler throws on one poison record keeps consuming every other record,
 * commits past the poison record, and the poison record lands in `<topic>.dlq` exactly once,
 * with its value and headers and where and why it failed. No member crashes.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM example without types
import { deadLetter } from '../../../examples/dead-letter.mjs';
import { createClient, type EachMessagePayload, type KafkaMessage } from '../../../src/index.js';
import { disconnectAfterEach, FAST, groupEnv, waitFor } from '../../group/helpers.js';

const open = disconnectAfterEach();

describe('dead-letter topic recipe', () => {
  it('one poison record goes to orders.dlq once; the group consumes and commits everything else', async () => {
    const { client, config, admin, producer } = await groupEnv(open);
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }, { topic: 'orders.dlq' }] });
    const total = 60;
    const poisonId = 13;
    await producer.send({ topic: 'orders', messages: Array.from({ length: total }, (_, id) => ({ key: `o${id}`, value: { id, poison: id === poisonId }, headers: { source: 'test' } })) });

    const processed: number[] = [];
    const crashes: unknown[] = [];
    const attempts = new Map<number, number>();
    const handle = async ({ message }: EachMessagePayload) => {
      const v = message.value as { id: number; poison: boolean };
      attempts.set(v.id, (attempts.get(v.id) ?? 0) + 1);
      if (v.poison) throw new TypeError(`order ${v.id} cannot be billed`);
      processed.push(v.id);
    };
    for (const name of ['a', 'b']) {
      const consumer = createClient({ ...config, clientId: name }).consumer({ groupId: 'billing', ...FAST });
      await consumer.connect();
      open.push(consumer);
      consumer.on(consumer.events.CRASH, (e) => crashes.push(e.payload));
      await consumer.subscribe({ topics: ['orders'], fromBeginning: true });
      await consumer.run({ eachMessage: deadLetter(producer, handle) });
    }
    await waitFor(() => processed.length === total - 1, 'every record but the poison one processed');
    expect(new Set(processed).size).toBe(total - 1);
    expect(processed).not.toContain(poisonId);
    expect(attempts.get(poisonId)).toBe(1); // caught at once: no retries, no crash, no redelivery

    // The group committed past the poison record on every partition.
    const marks = await admin.fetchTopicOffsets('orders');
    await waitFor(async () => {
      const [t] = await admin.fetchOffsets({ groupId: 'billing', topics: ['orders'] });
      return t!.partitions.every((p) => p.offset === marks.find((m) => m.partition === p.partition)!.high);
    }, 'offsets committed up to the high watermark');

    // The dead letter: once, with the record's key, value, headers and the failure.
    const dlq: KafkaMessage[] = [];
    const reader = client.consumer({ maxWaitTimeInMs: 100 });
    await reader.connect();
    open.push(reader);
    reader.assign([{ topic: 'orders.dlq', partition: 0, offset: 'earliest' }]);
    await reader.run({ eachMessage: async ({ message }) => { dlq.push(message); } });
    await waitFor(() => dlq.length >= 1, 'the dead letter');
    const [letter] = dlq;
    expect(letter!.key).toBe(`o${poisonId}`);
    expect(letter!.value).toEqual({ id: poisonId, poison: true });
    expect(letter!.headers).toMatchObject({ source: 'test', 'dlq.topic': 'orders', 'dlq.error': `order ${poisonId} cannot be billed`, 'dlq.error.name': 'TypeError' });
    const origin = letter!.headers['dlq.partition'] as string;
    expect(Number(origin)).toBeGreaterThanOrEqual(0);
    expect((await admin.fetchTopicOffsets('orders.dlq'))[0]!.high).toBe('1');

    // Later records are still consumed.
    await producer.send({ topic: 'orders', messages: [{ key: 'late', value: { id: 100, poison: false } }] });
    await waitFor(() => processed.includes(100), 'a record sent after the poison one');
    expect(crashes).toEqual([]);
  });
});
