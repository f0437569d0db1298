/*
 * lanes port of KafkaJS's example consumer (examples/consumer.js and the eachBatch example of
 * KafkaJS's "Consuming Messages" docs): a group member reads topic-test from the beginning with
 * eachBatch, resolving each offset and heartbeating as it goes, and prints every record;
 * SIGTERM, SIGINT or SIGUSR2 disconnect it and then end the process.
 * The differences from the KafkaJS program: the import, createClient in place of new Kafka
 * (its config as KafkaJS takes it; brokers, ssl and sasl mean nothing in a browser and are ignored).
 */
import { createClient, logLevel } from 'lanes';

const kafka = createClient({
  logLevel: logLevel.INFO,
  brokers: ['localhost:9092'],
  clientId: 'example-consumer',
  ssl: { servername: 'localhost', rejectUnauthorized: false },
  sasl: { mechanism: 'plain', username: 'test', password: 'testtest' },
});

const topic = 'topic-test';
const consumer = kafka.consumer({ groupId: 'test-group' });

const run = async () => {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) break;
        console.log({
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          timestamp: message.timestamp,
          headers: Object.keys(message.headers).reduce(
            (headers, key) => ({ ...headers, [key]: message.headers[key].toString() }),
            {},
          ),
          key: message.key.toString(),
          value: message.value.toString(),
        });
        resolveOffset(message.offset);
        await heartbeat();
      }
    },
  });
};

run().catch((e) => console.error(`[example/consumer] ${e.message}`, e));

const errorTypes = ['unhandledRejection', 'uncaughtException'];
const signalTraps = ['SIGTERM', 'SIGINT', 'SIGUSR2'];

errorTypes.forEach((type) => {
  process.on(type, async (e) => {
    try {
      console.log(`process.on ${type}`);
      console.error(e);
      await consumer.disconnect();
      process.exit(0);
    } catch (_) {
      process.exit(1);
    }
  });
});

signalTraps.forEach((type) => {
  process.once(type, async () => {
    try {
      await consumer.disconnect();
    } finally {
      process.kill(process.pid, type);
    }
  });
});
