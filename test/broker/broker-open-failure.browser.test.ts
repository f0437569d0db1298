/**
 * A broker whose log fails to open (inside its Web Lock callback) must not leave calls waiting
 * forever: pending and later calls reject with BrokerUnavailableError carrying the cause.
 * Real Chromium and Firefox, leader-tab host, an IDBFactory whose open() fails.
 */
import { expect } from '@esm-bundle/chai';
import { BrokerUnavailableError, createClient } from '../../src/index.js';
import { describe, it } from '../log/mocha-globals.js';

/** An IDBFactory whose every open fails the way a broken or blocked storage does. */
const brokenFactory = {
  open() { throw new DOMException('storage is broken for this test', 'UnknownError'); },
  deleteDatabase() { throw new Error('unused'); },
  databases: async () => [],
  cmp: (a: unknown, b: unknown) => indexedDB.cmp(a, b),
} as unknown as IDBFactory;

describe('broker that fails to open', () => {
  it('rejects pending and later calls with BrokerUnavailableError and the cause', async () => {
    const database = `open-fail-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const lanes = createClient({ database, broker: 'leader-tab', indexedDB: brokenFactory, IDBKeyRange, logCleanerIntervalMs: 0 });
    const admin = lanes.admin();
    await admin.connect();
    try {
      const first = await admin.listTopics().then(() => null, (e: unknown) => e);
      expect(first).to.be.instanceOf(BrokerUnavailableError);
      expect((first as Error).message).to.contain('failed to open');
      expect(((first as Error).cause as Error).message).to.contain('storage is broken');
      const later = await admin.createTopics({ topics: [{ topic: 't' }] }).then(() => null, (e: unknown) => e);
      expect(later).to.be.instanceOf(BrokerUnavailableError);
      expect(((later as Error).cause as Error).message).to.contain('storage is broken');
    } finally {
      await admin.disconnect();
    }
  });
});
