/*
 * lanes port of KafkaJS's example admin (examples/admin.js in the KafkaJS repository): deletes
 * the three example topics if they exist, creates them again, grows them to 3, 4 and 5
 * partitions, prints what it finds and disconnects.
 * The differences from the KafkaJS program: the import, createClient in place of new Kafka
 * (its config as KafkaJS takes it; brokers, ssl and sasl mean nothing in a browser and are
 * ignored), and no fixed waits for deletions and new partitions to spread through a cluster
 * (lanes' admin calls resolve once they took effect).
 */
import { createClient, logLevel } from 'lanes';

const kafka = createClient({
  logLevel: logLevel.INFO,
  brokers: ['localhost:9092'],
  clientId: 'test-admin-id',
  ssl: { servername: 'localhost', rejectUnauthorized: false },
  sasl: { mechanism: 'plain', username: 'test', password: 'testtest' },
});

const topic1 = 'topic-test1';
const topic2 = 'topic-test2';
const topic3 = 'topic-test3';
const expectedTopics = [topic1, topic2, topic3];

const filterTopics = ({ name }) => expectedTopics.includes(name);
const sortTopics = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const admin = kafka.admin();

const getMyTopics = async () => {
  const md = await admin.fetchTopicMetadata({});
  return md.topics.filter(filterTopics).sort(sortTopics);
};

const run = async () => {
  await admin.connect();
  let myTopics = await getMyTopics();
  if (myTopics.length > 0) {
    const topicNames = myTopics.map(({ name }) => name);
    console.log('We have topics to delete: %s', topicNames.join(', '));
    try {
      await admin.deleteTopics({ topics: topicNames });
    } catch (err) {
      console.log('Error deleting topic: ', err);
    }
  }
  myTopics = await getMyTopics();
  if (myTopics.length !== 0) console.log('We should not have any topics here? %j', myTopics);
  else console.log('We have now 0 topics');
  console.log('(Re)creating topics');
  try {
    console.log('Creating topics');
    await admin.createTopics({ topics: expectedTopics.map((topic) => ({ topic })), waitForLeaders: true });
  } catch (err) {
    console.log('Error creating topics: ', err);
  }
  myTopics = await getMyTopics();
  if (myTopics.length !== expectedTopics.length) {
    console.log('We are missing the %s topics: %j', expectedTopics.length, myTopics);
  }
  console.log('Add new partitions');
  try {
    await admin.createPartitions({
      topicPartitions: [
        { topic: topic1, count: 3 },
        { topic: topic2, count: 4, assignments: [[1], [0], [2]] },
        { topic: topic3, count: 5, assignments: [[1], [0], [2], [1]] },
      ],
    });
  } catch (err) {
    console.log('Error: ', err);
    throw err;
  }
  myTopics = await getMyTopics();
  console.log('Topics: %s', myTopics.map((t) => `${t.name} => ${t.partitions.length} part`).join(', '));
  await admin.disconnect();
};

run().catch((e) => console.error(`[example/admin] ${e.message}`, e));

const errorTypes = ['unhandledRejection', 'uncaughtException'];
const signalTraps = ['SIGTERM', 'SIGINT', 'SIGUSR2'];

errorTypes.forEach((type) => {
  process.on(type, async (e) => {
    try {
      console.log(`process.on ${type}`);
      console.error(e);
      await admin.disconnect();
      process.exit(0);
    } catch (_) {
      process.exit(1);
    }
  });
});

signalTraps.forEach((type) => {
  process.once(type, async () => {
    try {
      await admin.disconnect();
    } finally {
      process.kill(process.pid, type);
    }
  });
});
