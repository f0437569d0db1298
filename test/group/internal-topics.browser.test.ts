/**
 * In real IndexedDB (Chromium and Firefox): a database whose `__consumer_offsets` holds records that are not
 * committed offsets (written by a buggy version, or by a user send before internal topics were
 * protected) still opens, with the broker in the page and in the SharedWorker (the built
 * `dist/lanes-broker.js`, so `npm run build` first); and a user send there is refused.
 */
import { expect } from '@esm-bundle/chai';
import { createClient, InvalidTopicError, type ClientConfig } from '../../src/index.js';
import { appendRawOffsetRecords } from '../helpers/raw-offsets.js';
import { describe, it } from '../log/mocha-globals.js';

const fresh = () => `internal-${Date.now()}-${Math.random().toString(36).slice(2)}`;

async function prepare(database: string): Promise<void> {
  const lanes = createClient({ clientId: 'prep', database, broker: 'in-page', logCleanerIntervalMs: 0 });
  const admin = lanes.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 't' }] });
  await admin.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '0' }] });
  await admin.disconnect();
  await appendRawOffsetRecords({ indexedDB, IDBKeyRange, database });
  await appendRawOffsetRecords({ indexedDB, IDBKeyRange, database }, [{ key: JSON.stringify(['g', 't', 0]), value: { offset: 3, metadata: null, commitTimestamp: 1 } }]);
}

for (const broker of ['in-page', 'shared-worker'] as const) {
  describe(`__consumer_offsets with unreadable records (${broker} broker)`, () => {
    it('the broker opens, keeps the valid offsets and refuses a user send to the internal topic', async () => {
      const database = fresh();
      await prepare(database);
      const config: ClientConfig = { clientId: 'reader', database, broker, logCleanerIntervalMs: 0, ...(broker === 'shared-worker' ? { workerUrl: '/dist/lanes-broker.js' } : {}) };
      const lanes = createClient(config);
      const admin = lanes.admin();
      await admin.connect();
      const producer = lanes.producer();
      await producer.connect();
      try {
        const [off] = await admin.fetchOffsets({ groupId: 'g', topics: ['t'] });
        expect(off!.partitions).to.deep.equal([{ partition: 0, offset: '3', metadata: null }]);
        let refused: unknown;
        try { await producer.send({ topic: '__consumer_offsets', messages: [{ value: 'x' }] }); } catch (e) { refused = e; }
        expect(refused).to.be.instanceOf(InvalidTopicError);
        // The log still takes writes and commits.
        await producer.send({ topic: 't', messages: [{ value: 'ok' }] });
        await admin.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '1' }] });
        const [after] = await admin.fetchOffsets({ groupId: 'g', topics: ['t'] });
        expect(after!.partitions[0]!.offset).to.equal('1');
      } finally {
        await producer.disconnect();
        await admin.disconnect();
      }
    });
  });
}
