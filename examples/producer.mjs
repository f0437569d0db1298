/*
 * lanes port of KafkaJS's example producer (examples/producer.js in the KafkaJS repository):
 * every 3 s it sends a random number (0 to 1,000) of keyed records with a header, GZIP
 * compressed, logging through its own logCreator; SIGTERM, SIGINT or SIGUSR2 stop it.
 * The differences from the KafkaJS program: the import, createClient in place of new Kafka
 * (its config as KafkaJS takes it; brokers, ssl and sasl mean nothing in a browser and are ignored).
 */
import { createClient, CompressionTypes, logLevel } from 'lanes';

// A one-line console writer, as the pretty logger the KafkaJS example passes as logCreator.
const PrettyConsoleLogger = () => ({ namespace, level, label, log }) => {
  const { timestamp, logger, message, ...extra } = log;
  const line = `${timestamp} ${label} [${namespace || logger}] ${message}`;
  const write = level === logLevel.ERROR ? console.error : console.info;
  write(Object.keys(extra).length > 0 ? `${line} ${JSON.stringify(extra)}` : line);
};

const kafka = createClient({
  logLevel: logLevel.INFO,
  logCreator: PrettyConsoleLogger,
  brokers: ['localhost:9092'],
  clientId: 'example-producer',
  ssl: { servername: 'localhost', rejectUnauthorized: false },
  sasl: { mechanism: 'plain', username: 'test', password: 'testtest' },
});

const topic = 'topic-test';
const producer = kafka.producer();

const getRandomNumber = () => Math.round(Math.random() * 1000);
const createMessage = (num) => ({
  key: `key-${num}`,
  value: `value-${num}-${new Date().toISOString()}`,
  headers: { 'correlation-id': `${num}-${Date.now()}` },
});

let msgNumber = 0;
let requestNumber = 0;
const sendMessage = () => {
  const messages = Array.from({ length: getRandomNumber() }, () => createMessage(getRandomNumber()));
  const requestId = requestNumber++;
  msgNumber += messages.length;
  kafka.logger().info(`Sending ${messages.length} messages #${requestId}...`);
  return producer
    .send({ topic, compression: CompressionTypes.GZIP, messages })
    .then((response) => kafka.logger().info(`Messages sent #${requestId}`, { response, msgNumber }))
    .catch((e) => kafka.logger().error(`[example/producer] ${e.message}`, { stack: e.stack }));
};

let intervalId;
const run = async () => {
  await producer.connect();
  intervalId = setInterval(sendMessage, 3000);
};

run().catch((e) => kafka.logger().error(`[example/producer] ${e.message}`, { stack: e.stack }));

const errorTypes = ['unhandledRejection', 'uncaughtException'];
const signalTraps = ['SIGTERM', 'SIGINT', 'SIGUSR2'];

errorTypes.forEach((type) => {
  process.on(type, async (e) => {
    try {
      kafka.logger().info(`process.on ${type}`);
      kafka.logger().error(e.message, { stack: e.stack });
      await producer.disconnect();
      process.exit(0);
    } catch (_) {
      process.exit(1);
    }
  });
});

signalTraps.forEach((type) => {
  process.once(type, async () => {
    console.log('');
    kafka.logger().info('[example/producer] disconnecting');
    clearInterval(intervalId);
    await producer.disconnect();
  });
});
