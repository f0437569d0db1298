import { it } from 'vitest';
import { setup } from '../client/helpers.js';

async function tryit(label: string, f: () => Promise<unknown>) {
  try { const r = await f(); console.log('OK   ', label, JSON.stringify(r, (k, v) => typeof v === 'bigint' ? v.toString() : v)?.slice(0, 200)); }
  catch (e: any) { console.log('ERR  ', label, e?.name, e?.code, String(e?.message).slice(0, 160)); }
}

it('probe producer', async () => {
  const s = await setup();
  const p = s.producer;
  await s.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
  const send = (m: any, topic = 't') => p.send({ topic, messages: [m] });
  await tryit('value undefined', () => send({ value: undefined }));
  await tryit('no value', () => send({}));
  await tryit('value number', () => send({ value: 5 }));
  await tryit('value bigint', () => send({ value: 5n }));
  await tryit('value symbol', () => send({ value: Symbol('x') }));
  await tryit('value fn', () => send({ value: () => 1 }));
  const cyc: any = {}; cyc.self = cyc;
  await tryit('value cyclic', () => send({ value: cyc }));
  await tryit('value Date', () => send({ value: new Date(0) }));
  await tryit('value ArrayBuffer', () => send({ value: new ArrayBuffer(4) }));
  await tryit('value Buffer', () => send({ value: Buffer.from('hi') }));
  await tryit('value DataView', () => send({ value: new DataView(new ArrayBuffer(2)) }));
  await tryit('value Int16Array', () => send({ value: new Int16Array(2) }));
  await tryit('value lone surrogate', () => send({ value: 'a\uD800b' }));
  await tryit('key number', () => send({ key: 5, value: 'x' }));
  await tryit('key obj', () => send({ key: { a: 1 }, value: 'x' }));
  await tryit('key lone surrogate', () => send({ key: '\uDFFF', value: 'x' }));
  await tryit('key huge', () => send({ key: 'k'.repeat(2_000_000), value: 'x' }));
  await tryit('headers proto key', () => send({ value: 'x', headers: JSON.parse('{"__proto__": "evil"}') }));
  await tryit('headers constructor', () => send({ value: 'x', headers: { constructor: 'c', toString: 't' } }));
  await tryit('headers number val', () => send({ value: 'x', headers: { a: 5 } }));
  await tryit('headers bool val', () => send({ value: 'x', headers: { a: true } }));
  await tryit('headers obj val', () => send({ value: 'x', headers: { a: { b: 1 } } }));
  await tryit('headers bigint val', () => send({ value: 'x', headers: { a: 1n } }));
  await tryit('headers symbol val', () => send({ value: 'x', headers: { a: Symbol() } }));
  await tryit('headers nested arr', () => send({ value: 'x', headers: { a: [['x']] } }));
  await tryit('headers arr with null', () => send({ value: 'x', headers: { a: ['x', null] } }));
  await tryit('headers Buffer', () => send({ value: 'x', headers: { a: Buffer.from('x') } }));
  await tryit('headers string', () => send({ value: 'x', headers: 'abc' }));
  await tryit('headers null', () => send({ value: 'x', headers: null }));
  await tryit('headers Map', () => send({ value: 'x', headers: new Map([['a', 'b']]) }));
  await tryit('headers symbol key', () => send({ value: 'x', headers: { [Symbol('s')]: 'v' } }));
  await tryit('header empty key', () => send({ value: 'x', headers: { '': 'v' } }));
  await tryit('header surrogate key', () => send({ value: 'x', headers: { '\uD800': 'v' } }));
  await tryit('header obj null proto', () => send({ value: 'x', headers: Object.assign(Object.create(null), { a: 'b' }) }));
  for (const part of [NaN, -1, 99, 1.5, '0', Infinity, null]) await tryit(`partition ${part}`, () => send({ value: 'x', partition: part }));
  for (const ts of [NaN, -1, 1.5, 'abc', '123', 'NaN', '', 1e20, '1e3', Infinity, null, new Date(), 123, '-5', 2 ** 63]) await tryit(`timestamp ${JSON.stringify(ts)}`, () => send({ value: 'x', timestamp: ts }));
  await tryit('topic proto', () => send({ value: 'x' }, '__proto__'));
  await tryit('topic constructor', () => send({ value: 'x' }, 'constructor'));
  await tryit('topic .', () => send({ value: 'x' }, '.'));
  await tryit('topic bad', () => send({ value: 'x' }, 'a b'));
  await tryit('topic num', () => send({ value: 'x' }, 5 as any));
  await tryit('send null', () => p.send(null as any));
  await tryit('send no messages', () => p.send({ topic: 't' } as any));
  await tryit('send messages obj', () => p.send({ topic: 't', messages: { value: 'x' } } as any));
  await tryit('send message null', () => p.send({ topic: 't', messages: [null] } as any));
  await tryit('send message string', () => p.send({ topic: 't', messages: ['abc'] } as any));
  await tryit('acks', () => p.send({ topic: 't', acks: 0, messages: [{ value: 'x' }] }));
  await tryit('acks bad', () => p.send({ topic: 't', acks: 'all' as any, messages: [{ value: 'x' }] }));
  await tryit('timeout bad', () => p.send({ topic: 't', timeout: -1, messages: [{ value: 'x' }] }));
  await tryit('compression bad', () => p.send({ topic: 't', compression: 99 as any, messages: [{ value: 'x' }] }));
  await tryit('compression str', () => p.send({ topic: 't', compression: 'gzip' as any, messages: [{ value: 'x' }] }));
  await tryit('sendBatch null', () => p.sendBatch(null as any));
  await tryit('sendBatch dup topic', () => p.sendBatch({ topicMessages: [{ topic: 't', messages: [{ value: 'a' }] }, { topic: 't', messages: [{ value: 'b' }] }] }));
  await tryit('sendBatch one bad', () => p.sendBatch({ topicMessages: [{ topic: 't', messages: [{ value: 'a', partition: 0 }] }, { topic: 't', messages: [{ value: 'b', partition: 9 }] }] }));
  await tryit('offsets', () => s.admin.fetchTopicOffsets('t'));
  await tryit('topics list', () => s.admin.listTopics());
  await tryit('huge value', () => send({ value: 'v'.repeat(20_000_000) }));
  await tryit('many messages', () => p.send({ topic: 't', messages: Array.from({ length: 100000 }, () => ({ value: 'x' })) }));
  await p.disconnect();
  await tryit('send after disconnect', () => send({ value: 'x' }));
  await tryit('reconnect send', async () => { await p.connect(); return send({ value: 'x' }); });
  await tryit('transaction non-tx producer', () => p.transaction());
  await p.disconnect();
  await s.admin.disconnect();
});
