import { describe, expect, it } from 'vitest';
import { nodeClient } from '../../helpers/node-client.js';
import { createClient } from '../../../src/index.js';

describe('consumer groups in one process (in-page broker)', () => {
  it('splits partitions between two members and moves them when one stops', async () => {
    const { client, config } = nodeClient();
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'g', numPartitions: 4 }] });
    const producer = client.producer();
    await producer.connect();
    const seen: Record<string, string[]> = { a: [], b: [] };
    const mk = (name: string) => {
      const c = createClient({ ...config, clientId: name }).consumer({ groupId: 'grp', heartbeatInterval: 100, sessionTimeout: 1000, maxWaitTimeInMs: 200 });
      return c;
    };
    const a = mk('a');
    await a.connect();
    await a.subscribe({ topics: ['g'], fromBeginning: true });
    await a.run({ eachMessage: async ({ partition, message }) => { seen.a!.push(`${partition}:${message.offset}`); } });
    expect(a.assignment().length).toBe(4);
    const b = mk('b');
    await b.connect();
    await b.subscribe({ topics: ['g'], fromBeginning: true });
    await b.run({ eachMessage: async ({ partition, message }) => { seen.b!.push(`${partition}:${message.offset}`); } });
    // wait until balanced
    for (let i = 0; i < 100 && !(a.assignment().length === 2 && b.assignment().length === 2); i++) await new Promise((r) => setTimeout(r, 20));
    expect(a.assignment().length).toBe(2);
    expect(b.assignment().length).toBe(2);
    await producer.send({ topic: 'g', messages: [0, 1, 2, 3].map((p) => ({ value: `v${p}`, partition: p })) });
    for (let i = 0; i < 100 && seen.a!.length + seen.b!.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen.a!.length + seen.b!.length).toBe(4);
    await b.disconnect();
    for (let i = 0; i < 100 && a.assignment().length !== 4; i++) await new Promise((r) => setTimeout(r, 20));
    expect(a.assignment().length).toBe(4);
    const offsets = await admin.describeGroups?.(['grp']).catch(() => null);
    void offsets;
    await a.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  });
});
