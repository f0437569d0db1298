import { it } from 'vitest';
import { setup, readAll } from '../client/helpers.js';

it('probe headers read back', async () => {
  const s = await setup();
  await s.admin.createTopics({ topics: [{ topic: 'h' }] });
  await s.producer.send({ topic: 'h', messages: [
    { value: 'a', headers: { constructor: 'c', toString: 't', hasOwnProperty: 'x', valueOf: ['v1', 'v2'] } },
    { value: 'b', headers: JSON.parse('{"__proto__": "evil"}') },
    { value: 'c', headers: Object.defineProperty({}, '__proto__', { value: new TextEncoder().encode('bin'), enumerable: true }) as any },
  ] });
  const msgs = await readAll(s.broker, 'h', 0);
  for (const m of msgs) console.log('MSG', m.value?.toString(), Object.getPrototypeOf(m.headers) === Object.prototype, Object.keys(m.headers!), Object.entries(m.headers!).map(([k, v]) => [k, typeof v, Array.isArray(v) ? v.map(String) : String(v)]), (m.headers as any).length);
  await s.close();
});
