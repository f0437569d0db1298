import { it } from 'vitest';
import { setup } from '../client/helpers.js';

async function tryit(label: string, f: () => Promise<unknown>) {
  try { const r = await f(); console.log('OK   ', label, JSON.stringify(r, (k, v) => typeof v === 'bigint' ? v.toString() : v)?.slice(0, 200)); }
  catch (e: any) { console.log('ERR  ', label, e?.name, e?.code, String(e?.message).slice(0, 160)); }
}

it('probe admin', async () => {
  const s = await setup();
  const a = s.admin;
  for (const t of ['.', '..', 'a'.repeat(250), 'a'.repeat(249), 'a b', 'a/b', '', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'ü', 'a\u0000b', 'a.b_c-d']) {
    await tryit(`createTopics ${JSON.stringify(t).slice(0, 30)}`, () => a.createTopics({ topics: [{ topic: t }] }));
  }
  await tryit('dup topics', () => a.createTopics({ topics: [{ topic: 'dup' }, { topic: 'dup', numPartitions: 3 }] }));
  await tryit('meta dup', () => a.fetchTopicMetadata({ topics: ['dup'] }));
  for (const n of [NaN, Infinity, -1, 0, 1.5, '3']) {
    await tryit(`numPartitions ${n}`, () => a.createTopics({ topics: [{ topic: `np${String(n).replace(/\W/g, '')}`, numPartitions: n as any }] }));
  }
  for (const n of [NaN, Infinity, -1, 1.5, 1e9, '3', 2 ** 31, 0]) {
    await tryit(`replicationFactor ${n}`, () => a.createTopics({ topics: [{ topic: `rf${String(n).replace(/\W/g, '')}`, replicationFactor: n as any }] }));
  }
  await tryit('configEntries bad', () => a.createTopics({ topics: [{ topic: 'ce1', configEntries: [{ name: 'retention.ms', value: 'abc' }] }] }));
  await tryit('configEntries proto', () => a.createTopics({ topics: [{ topic: 'ce2', configEntries: [{ name: '__proto__', value: '1' }] }] }));
  await tryit('configEntries number', () => a.createTopics({ topics: [{ topic: 'ce3', configEntries: [{ name: 'retention.ms', value: 5 as any }] }] }));
  await tryit('configEntries NaN str', () => a.createTopics({ topics: [{ topic: 'ce4', configEntries: [{ name: 'retention.ms', value: 'NaN' }] }] }));
  await tryit('configEntries 1e3', () => a.createTopics({ topics: [{ topic: 'ce5', configEntries: [{ name: 'retention.ms', value: '1e3' }] }] }));
  await tryit('configEntries -5', () => a.createTopics({ topics: [{ topic: 'ce6', configEntries: [{ name: 'retention.ms', value: '-5' }] }] }));
  await tryit('configEntries huge', () => a.createTopics({ topics: [{ topic: 'ce7', configEntries: [{ name: 'retention.ms', value: '99999999999999999999999' }] }] }));
  await tryit('configEntries " 5"', () => a.createTopics({ topics: [{ topic: 'ce8', configEntries: [{ name: 'segment.bytes', value: ' 5 ' }] }] }));
  await tryit('configEntries 0x10', () => a.createTopics({ topics: [{ topic: 'ce9', configEntries: [{ name: 'max.message.bytes', value: '0x10' }] }] }));
  await tryit('configEntries cleanup', () => a.createTopics({ topics: [{ topic: 'ce10', configEntries: [{ name: 'cleanup.policy', value: 'compact,delete,foo' }] }] }));
  await tryit('describeConfigs ce9', () => a.describeConfigs({ resources: [{ type: 2, name: 'ce9' }] } as any));
  await tryit('describeConfigs ce8', () => a.describeConfigs({ resources: [{ type: 2, name: 'ce8' }] } as any));
  await tryit('describeConfigs ce5', () => a.describeConfigs({ resources: [{ type: 2, name: 'ce5' }] } as any));
  await tryit('createTopics null', () => a.createTopics(null as any));
  await tryit('createTopics topics obj', () => a.createTopics({ topics: { topic: 'x' } as any }));
  await tryit('createTopics topic num', () => a.createTopics({ topics: [{ topic: 5 as any }] }));
  await tryit('createTopics empty', () => a.createTopics({ topics: [] }));
  await a.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
  await tryit('deleteTopics dup', () => a.deleteTopics({ topics: ['t2x', 't2x'] }));
  await tryit('deleteTopics proto', () => a.deleteTopics({ topics: ['__proto__'] }));
  await tryit('deleteTopics num', () => a.deleteTopics({ topics: [5 as any] }));
  await tryit('deleteTopics str', () => a.deleteTopics({ topics: 'abc' as any }));
  for (const c of [NaN, Infinity, -1, 1.5, 2, 3, '4']) {
    await tryit(`createPartitions ${c}`, () => a.createPartitions({ topicPartitions: [{ topic: 't', count: c as any }] }));
  }
  await tryit('createPartitions dup', () => a.createPartitions({ topicPartitions: [{ topic: 't', count: 5 }, { topic: 't', count: 6 }] }));
  await tryit('meta t', () => a.fetchTopicMetadata({ topics: ['t'] }));
  await s.producer.send({ topic: 't', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }] });
  for (const off of ['abc', '-5', '1.5', '100', 'NaN', '', ' 1', '1e1', '0x1', 5 as any, -1 as any, '99999999999999999999999', '-1']) {
    await tryit(`deleteRecords ${JSON.stringify(off)}`, () => a.deleteRecords({ topic: 't', partitions: [{ partition: 0, offset: off }] }));
  }
  await tryit('offsets after', () => a.fetchTopicOffsets('t'));
  for (const p of [NaN, -1, 99, 1.5, '0']) {
    await tryit(`deleteRecords partition ${p}`, () => a.deleteRecords({ topic: 't', partitions: [{ partition: p as any, offset: '1' }] }));
  }
  await tryit('fetchTopicOffsetsByTimestamp NaN', () => a.fetchTopicOffsetsByTimestamp('t', NaN));
  await tryit('fetchTopicOffsetsByTimestamp str', () => a.fetchTopicOffsetsByTimestamp('t', 'abc' as any));
  await tryit('fetchTopicOffsetsByTimestamp -5', () => a.fetchTopicOffsetsByTimestamp('t', -5));
  await tryit('fetchTopicOffsets proto', () => a.fetchTopicOffsets('__proto__'));
  await tryit('fetchTopicOffsets num', () => a.fetchTopicOffsets(5 as any));
  await tryit('fetchOffsets proto', () => a.fetchOffsets({ groupId: '__proto__', topics: ['t'] }));
  await tryit('fetchOffsets empty grp', () => a.fetchOffsets({ groupId: '', topics: ['t'] }));
  await tryit('setOffsets bad', () => a.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: 'abc' }] }));
  await tryit('setOffsets NaN part', () => a.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: NaN, offset: '1' }] }));
  await tryit('setOffsets part 99', () => a.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 99, offset: '1' }] }));
  await tryit('setOffsets -5', () => a.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '-5' }] }));
  await tryit('setOffsets 1.5', () => a.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '1.5' }] }));
  await tryit('setOffsets huge', () => a.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '99999999999999999999999' }] }));
  await tryit('setOffsets proto group', () => a.setOffsets({ groupId: '__proto__', topic: 't', partitions: [{ partition: 0, offset: '1' }] }));
  await tryit('fetchOffsets g', () => a.fetchOffsets({ groupId: 'g', topics: ['t'] }));
  await tryit('fetchOffsets proto after', () => a.fetchOffsets({ groupId: '__proto__', topics: ['t'] }));
  await tryit('resetOffsets', () => a.resetOffsets({ groupId: 'g', topic: 't', earliest: 'yes' as any }));
  await tryit('listGroups', () => a.listGroups());
  await tryit('describeGroups proto', () => a.describeGroups(['__proto__', 'constructor']));
  await tryit('deleteGroups proto', () => a.deleteGroups(['__proto__']));
  await tryit('deleteGroups dup', () => a.deleteGroups(['g', 'g']));
  await tryit('listTopics', () => a.listTopics());
  await s.admin.disconnect();
  await tryit('after disconnect listTopics', () => a.listTopics());
  await tryit('after disconnect create', () => a.createTopics({ topics: [{ topic: 'zz' }] }));
  await s.producer.disconnect();
});
