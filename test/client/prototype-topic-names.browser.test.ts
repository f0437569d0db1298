/**
 * In real IndexedDB (Chromium and Firefox), with the broker in the page and in the SharedWorker
 * (the built `dist/lanes-broker.js`, so `npm run build` first): topics named `constructor` and
 * `__proto__` are created, produced to, consumed by a group, committed, described and deleted.
 * Assignments keyed by topic cross the worker boundary by structured clone with the topic as an
 * own property.
 */
import { expect } from '@esm-bundle/chai';
import { createClient, type ClientConfig } from '../../src/index.js';
import { describe, it } from '../log/mocha-globals.js';

const NAMES = ['constructor', '__proto__'];
const fresh = () => `proto-topics-${Date.now()}-${Math.random().toString(36).slice(2)}`;

/** Polls `cond` until it holds; fails naming `what` after 20 s. */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const broker of ['in-page', 'shared-worker'] as const) {
  describe(`topics named constructor and __proto__ (${broker} broker)`, () => {
    it('are created, produced to, consumed by a group, committed, described and deleted', async () => {
      const config: ClientConfig = { clientId: 'proto', database: fresh(), broker, logCleanerIntervalMs: 0, ...(broker === 'shared-worker' ? { workerUrl: '/dist/lanes-broker.js' } : {}) };
      const lanes = createClient(config);
      const admin = lanes.admin();
      const producer = lanes.producer();
      const consumer = lanes.consumer({ groupId: 'g', heartbeatInterval: 50, sessionTimeout: 2000, maxWaitTimeInMs: 100 });
      await admin.connect();
      await producer.connect();
      await consumer.connect();
      try {
        expect(await admin.createTopics({ topics: NAMES.map((topic) => ({ topic, numPartitions: 2 })) })).to.equal(true);
        expect((await admin.listTopics()).sort()).to.deep.equal([...NAMES].sort());
        await producer.sendBatch({ topicMessages: NAMES.map((topic) => ({ topic, messages: [0, 1].map((partition) => ({ partition, value: `${topic}/${partition}` })) })) });
        for (const topic of NAMES) expect((await admin.fetchTopicOffsets(topic)).map((o) => o.high)).to.deep.equal(['1', '1']);

        const got: string[] = [];
        const crashes: unknown[] = [];
        let heartbeats = 0;
        consumer.on(consumer.events.CRASH, (e) => crashes.push(e.payload));
        consumer.on(consumer.events.HEARTBEAT, () => { heartbeats++; });
        await consumer.subscribe({ topics: NAMES, fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => { got.push(String(message.value)); } });
        await until(() => got.length === 4, 'the four records');
        expect(got.sort()).to.deep.equal(['__proto__/0', '__proto__/1', 'constructor/0', 'constructor/1']);
        expect(consumer.assignment().map((a) => `${a.topic}-${a.partition}`).sort()).to.deep.equal(['__proto__-0', '__proto__-1', 'constructor-0', 'constructor-1']);
        // Heartbeats report the owned partitions by topic: the member stays in the group.
        const seen = heartbeats;
        await until(() => heartbeats >= seen + 3 || crashes.length > 0, 'three more heartbeats');
        expect(crashes).to.deep.equal([]);

        const { groups: [group] } = await admin.describeGroups(['g']);
        const assignment = group!.members[0]!.memberAssignment;
        expect(Object.getPrototypeOf(assignment)).to.equal(Object.prototype);
        expect(Object.keys(assignment).sort()).to.deep.equal([...NAMES].sort());
        for (const t of NAMES) expect(Object.getOwnPropertyDescriptor(assignment, t)!.value).to.deep.equal([0, 1]);

        await until(async () => (await admin.fetchOffsets({ groupId: 'g', topics: NAMES })).every((o) => o.partitions.every((p) => p.offset === '1')), 'committed offsets');
        await consumer.disconnect();
        await admin.deleteTopics({ topics: NAMES });
        expect(await admin.listTopics()).to.deep.equal([]);
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
        await admin.disconnect();
      }
    });
  });
}
