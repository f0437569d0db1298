/*
 * Recipe: a dead-letter topic, so one record that a handler cannot process (a "poison" record)
 * does not stop its partition. The handler's error is caught; the record goes to
 * `<topic>.dlq` with its key, value and headers, plus headers saying where it came from and
 * why it failed; then the consumer moves on (the offset is committed as for any record).
 *
 * Create `<topic>.dlq` with the topic. Use it around eachMessage:
 *
 *   await consumer.run({ eachMessage: deadLetter(producer, async ({ message }) => handle(message)) });
 *
 * Delivery is at least once, as for the records themselves: a tab that crashes after the
 * dead-letter send and before its commit sends the record again on redelivery; readers of the
 * DLQ can drop repeats by `dlq.topic`/`dlq.partition`/`dlq.offset`.
 *
 * Run the demo: `npm run build && node --import fake-indexeddb/auto examples/dead-letter.mjs`.
 */

/** Wraps an eachMessage handler: records it throws on are produced to `<topic><suffix>`. */
export function deadLetter(producer, eachMessage, { suffix = '.dlq' } = {}) {
  return async (payload) => {
    try {
      await eachMessage(payload);
    } catch (error) {
      const { topic, partition, message } = payload;
      await producer.send({
        topic: `${topic}${suffix}`,
        messages: [{
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            'dlq.topic': topic,
            'dlq.partition': String(partition),
            'dlq.offset': message.offset,
            'dlq.error': String(error?.message ?? error),
            'dlq.error.name': String(error?.name ?? typeof error),
          },
        }],
      });
    }
  };
}

async function demo() {
  const { createClient } = await import('lanes');
  const lanes = createClient({ clientId: 'dlq-demo', database: 'dlq-demo' });
  const admin = lanes.admin();
  const producer = lanes.producer();
  const consumer = lanes.consumer({ groupId: 'billing' });
  await admin.connect();
  await producer.connect();
  await consumer.connect();
  // The DLQ exists before anything reads it (a free consumer refuses a partition that does not).
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }, { topic: 'orders.dlq' }] });
  await producer.send({ topic: 'orders', messages: [1, 2, 3, 4, 5].map((id) => ({ key: `o${id}`, value: { id, total: id === 3 ? 'not a number' : id * 10 } })) });
  let processed = 0;
  await consumer.subscribe({ topics: ['orders'], fromBeginning: true });
  await consumer.run({
    eachMessage: deadLetter(producer, async ({ message }) => {
      if (typeof message.value.total !== 'number') throw new TypeError(`order ${message.value.id}: total is not a number`);
      processed++;
    }),
  });
  const dlq = lanes.consumer();
  await dlq.connect();
  dlq.assign([{ topic: 'orders.dlq', partition: 0, offset: 'earliest' }]);
  await new Promise((resolve) => {
    void dlq.run({
      eachMessage: async ({ message }) => {
        console.log('dead letter:', message.value, message.headers['dlq.error']);
        resolve();
      },
    });
  });
  console.log(`processed ${processed} of 5; the poison record is in orders.dlq`);
  await dlq.disconnect();
  await consumer.disconnect();
  await producer.disconnect();
  await admin.disconnect();
}

if (typeof process !== 'undefined' && process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) await demo();
