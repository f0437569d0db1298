import { it } from 'vitest';
import { deviceBatch, push, startServer } from '../replica/helpers.js';
it('probe replica partition', async () => {
  const s = await startServer();
  const t = await s.token();
  for (const partition of [1000, 1_000_000]) {
    const t0 = Date.now();
    const r = await push(s.url, t, 'dev', [deviceBatch([{ value: 'x', timestamp: 1 }], { topic: `p${partition}`, partition, baseOffset: 0 })]);
    const res = await fetch(`${s.url}/v1/topics`, { headers: { Authorization: `Bearer ${t}` } });
    const body = await res.text();
    console.log('PUSH', partition, r.status, Date.now() - t0, 'ms', body.length, 'bytes of /v1/topics');
  }
  await s.http.close();
}, 120000);
