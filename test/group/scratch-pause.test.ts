import { expect, it } from 'vitest';
import { assigners, createClient } from '../../src/index.js';
import { nodeClient } from '../helpers/node-client.js';
async function waitFor(cond: () => boolean, what: string, ms = 5000) {
  const d = Date.now() + ms;
  while (!cond()) { if (Date.now() > d) throw new Error(what); await new Promise((r) => setTimeout(r, 10)); }
}
it('pause survives an eager rebalance', async () => {
  const { client, config } = nodeClient();
  const admin = client.admin(); await admin.connect();
  await admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }, { topic: 'u', numPartitions: 2 }] });
  const producer = client.producer(); await producer.connect();
  const mk = (id: string) => createClient({ ...config, clientId: id }).consumer({ groupId: 'g', heartbeatInterval: 50, sessionTimeout: 1000, maxWaitTimeInMs: 100, partitionAssigners: [assigners.range] });
  const seen: string[] = [];
  const a = mk('a'); await a.connect(); await a.subscribe({ topics: ['t', 'u'], fromBeginning: true });
  await a.run({ eachMessage: async ({ topic, partition }) => { seen.push(`a ${topic}:${partition}`); } });
  a.pause([{ topic: 't' }]);
  const b = mk('b'); await b.connect(); await b.subscribe({ topics: ['u'], fromBeginning: true });
  await b.run({ eachMessage: async ({ topic, partition }) => { seen.push(`b ${topic}:${partition}`); } });
  await waitFor(() => a.assignment().length === 3, 'rebalanced');
  console.log(a.assignment(), a.paused());
  await producer.send({ topic: 't', messages: [{ value: 'x', partition: 0 }, { value: 'x', partition: 1 }] });
  await new Promise((r) => setTimeout(r, 300));
  console.log(seen);
  await b.disconnect(); await a.disconnect(); await producer.disconnect(); await admin.disconnect();
  expect(seen).toEqual([]);
});
