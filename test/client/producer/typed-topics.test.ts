/**
 * Typed topics, as idb's DBSchema. The `@ts-expect-error` lines are checked by `npm run
 * typecheck` (tsconfig.test.json): if a bad send stopped being a compile error, the typecheck
 * fails. The runtime part shows typed sends and reads work and untyped use still does.
 */
import { describe, expect, it } from 'vitest';
import type { KafkaMessage, TopicSchema } from '../../../src/index.js';
import { nodeClient } from '../../helpers/node-client.js';

interface MyTopics extends TopicSchema {
  orders: { key: string; value: { id: number; total: number } };
  clicks: { key: null; value: string };
}

describe('typed topics', () => {
  it('checks sends at compile time and round-trips typed values', async () => {
    const { client } = nodeClient<MyTopics>();
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: [{ key: 'c1', value: { id: 1, total: 2 } }] });
    await producer.send({ topic: 'clicks', messages: [{ value: 'button' }] });
    if (Math.random() > 2) {
      // Never runs: only the compiler looks at these.
      // @ts-expect-error unknown topic
      await producer.send({ topic: 'nope', messages: [{ value: 'x' }] });
      // @ts-expect-error value of the wrong shape
      await producer.send({ topic: 'orders', messages: [{ key: 'c1', value: { id: 'one' } }] });
      // @ts-expect-error key of the wrong type
      await producer.send({ topic: 'orders', messages: [{ key: 7, value: { id: 1, total: 2 } }] });
      // @ts-expect-error clicks values are strings
      await producer.send({ topic: 'clicks', messages: [{ value: { x: 1 } }] });
    }
    const consumer = client.consumer({ maxWaitTimeInMs: 100 });
    await consumer.connect();
    consumer.assign([{ topic: 'orders', partition: 0, offset: 'earliest' }]);
    const got = await new Promise<KafkaMessage>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message) });
    });
    expect(got.value).toEqual({ id: 1, total: 2 });
    expect(got.key).toBe('c1');
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('untyped clients accept any topic and value', async () => {
    const { client } = nodeClient();
    const producer = client.producer();
    await producer.connect();
    const [r] = await producer.send({ topic: 'anything', messages: [{ key: new Uint8Array([1]), value: [1, { a: null }] }] });
    expect(r!.baseOffset).toBe('0');
    await producer.disconnect();
  });
});
