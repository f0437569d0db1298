import { expect } from '@esm-bundle/chai';
import { createClient } from '../../src/index.js';

describe('in-page broker in Chromium', () => {
  it('produces and reads back', async () => {
    const client = createClient({ database: `smoke-${Math.random()}`, broker: 'in-page', logCleanerIntervalMs: 0 });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const p = client.producer();
    await p.connect();
    const [r] = await p.send({ topic: 't', messages: [{ value: 'hello', partition: 1 }] });
    expect(r!.baseOffset).to.equal('0');
    const offsets = await admin.fetchTopicOffsets('t');
    expect(offsets[1]!.high).to.equal('1');
    await p.disconnect();
    await admin.disconnect();
  });
});
