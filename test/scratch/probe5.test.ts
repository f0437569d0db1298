import { it } from 'vitest';
import { setup } from '../client/helpers.js';
it('probe np', async () => {
  const s = await setup();
  for (const n of [1000, 10000, 100000]) {
    const t0 = Date.now();
    const m0 = process.memoryUsage().heapUsed;
    await s.admin.createTopics({ topics: [{ topic: `n${n}`, numPartitions: n }] });
    console.log('NP', n, Date.now() - t0, 'ms', Math.round((process.memoryUsage().heapUsed - m0) / 1e6), 'MB');
  }
}, 300000);
