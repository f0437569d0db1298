/**
 * Browser-test helper: a free consumer reads `n` records of one partition from `offset` and
 * stops; a crash of the consumer rejects.
 */
import type { Client, KafkaMessage } from '../../src/index.js';

export async function consumeN(lanes: Client, o: { topic: string; partition?: number; offset: string | number; n: number; readUncommitted?: boolean }): Promise<KafkaMessage[]> {
  const consumer = lanes.consumer({ maxWaitTimeInMs: 250, ...(o.readUncommitted ? { readUncommitted: true } : {}) });
  await consumer.connect();
  consumer.assign([{ topic: o.topic, partition: o.partition ?? 0, offset: o.offset }]);
  const got: KafkaMessage[] = [];
  let stopped!: Promise<void>;
  await new Promise<void>((resolve, reject) => {
    consumer.on(consumer.events.CRASH, (e) => reject((e.payload as { error: Error }).error));
    void consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message);
        if (got.length === o.n) { stopped = consumer.stop(); resolve(); }
      },
    });
  });
  await stopped;
  await consumer.disconnect();
  return got;
}
