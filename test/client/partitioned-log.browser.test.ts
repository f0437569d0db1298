/**
 * The partitioned log through the public API in real IndexedDB (Chromium and Firefox): produce and consume,
 * compaction, refused input, and persistence across clients.
 */
import { expect } from '@esm-bundle/chai';
import { createClient, InvalidRecordError, RecordTooLargeError, TopicNotFoundError, type Client, type KafkaMessage } from '../../src/index.js';
import { afterEach, describe, it } from '../log/mocha-globals.js';
import { consumeN } from './browser-consume.js';

type Closer = () => Promise<void>;
const closers: Closer[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); });

function client(database = `pl-${Date.now()}-${Math.random().toString(36).slice(2)}`): { lanes: Client; database: string } {
  return { lanes: createClient({ clientId: 'browser-test', database, broker: 'in-page', logCleanerIntervalMs: 0 }), database };
}

async function connected(lanes: Client) {
  const admin = lanes.admin();
  await admin.connect();
  const producer = lanes.producer();
  await producer.connect();
  const close = async () => { await producer.disconnect(); await admin.disconnect(); };
  closers.push(close);
  return { admin, producer, close };
}

/** Reads `n` records of one partition from `offset` with a free consumer, then stops it. */
function consume(lanes: Client, topic: string, partition: number, offset: string | number, n: number): Promise<KafkaMessage[]> {
  return consumeN(lanes, { topic, partition, offset, n });
}

async function expectRejects(p: Promise<unknown>, ctor: new (...a: never[]) => Error): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(ctor);
    return e as Error;
  }
  throw new Error(`expected a ${ctor.name}`);
}

describe('partitioned log in the browser', () => {
  it('produces and consumes keyed, keyless and typed records in order', async () => {
    const { lanes } = client();
    const { admin, producer } = await connected(lanes);
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] });
    const sent = await producer.send({ topic: 'orders', messages: [
      { key: 'o-1', value: { id: 1, total: 9.5 }, headers: { source: 'web', tag: ['a', 'b'] }, partition: 1 },
      { key: new Uint8Array([1, 2]), value: 'text 😀 '.repeat(10), partition: 1 },
      { value: new Uint8Array([9, 8, 7]), partition: 1, timestamp: 42 },
    ] });
    expect(sent).to.deep.equal([{ topicName: 'orders', partition: 1, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' }]);
    await producer.send({ topic: 'orders', messages: [{ key: 'o-2', value: null, partition: 1 }] });
    const got = await consume(lanes, 'orders', 1, 'earliest', 4);
    expect(got.map((m) => m.offset)).to.deep.equal(['0', '1', '2', '3']);
    expect(got[0]!.key).to.equal('o-1');
    expect(got[0]!.value).to.deep.equal({ id: 1, total: 9.5 });
    expect(got[0]!.headers).to.deep.equal({ source: 'web', tag: ['a', 'b'] });
    expect(Array.from(got[1]!.key as Uint8Array)).to.deep.equal([1, 2]);
    expect(got[1]!.value).to.equal('text 😀 '.repeat(10));
    expect(Array.from(got[2]!.value as Uint8Array)).to.deep.equal([9, 8, 7]);
    expect(got[2]!.timestamp).to.equal('42');
    expect(got[3]!.value).to.equal(null);
    const offsets = await admin.fetchTopicOffsets('orders');
    expect(offsets.map((o) => o.high)).to.deep.equal(['0', '4', '0']);
  });

  it('compacts keys 0,1,0,1,0 to offsets [3, 4]; a read at a removed offset starts at 3; high stays 5', async () => {
    const { lanes } = client();
    const { admin, producer } = await connected(lanes);
    await admin.createTopics({ topics: [{ topic: 'c', configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '1' }] }] });
    const keys = ['0', '1', '0', '1', '0'];
    for (let i = 0; i < keys.length; i++) {
      const [r] = await producer.send({ topic: 'c', messages: [{ key: keys[i]!, value: `v${i}` }] });
      expect(r!.baseOffset).to.equal(String(i));
    }
    const stats = await admin.runLogCleaner({ topics: ['c'] });
    expect(stats.recordsRemoved).to.equal(3);
    const offsets = await admin.fetchTopicOffsets('c');
    expect(offsets).to.have.length(1);
    expect(offsets[0]).to.include({ partition: 0, offset: '5', high: '5', low: '0' });
    // A marker after the survivors shows nothing else comes before it.
    await producer.send({ topic: 'c', messages: [{ key: 'marker', value: 'm' }] });
    const all = await consume(lanes, 'c', 0, '0', 3);
    expect(all.map((m) => [m.offset, m.key, m.value])).to.deep.equal([['3', '1', 'v3'], ['4', '0', 'v4'], ['5', 'marker', 'm']]);
    const fromOne = await consume(lanes, 'c', 0, '1', 1);
    expect(fromOne[0]!.offset).to.equal('3');
  });

  it('refuses bad input with typed errors and writes nothing', async () => {
    const { lanes } = client();
    const { admin, producer } = await connected(lanes);
    await admin.createTopics({ topics: [{ topic: 't', numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: '100' }] }] });
    await producer.send({ topic: 't', messages: [{ value: 'ok', partition: 0 }] });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad: [unknown[], new (...a: never[]) => Error][] = [
      [[{ value: 'fine' }, { value: undefined }], InvalidRecordError],
      [[{ value: () => 1 }], InvalidRecordError],
      [[{ value: new Date() }], InvalidRecordError],
      [[{ value: cyclic }], InvalidRecordError],
      [[{ key: 1, value: 'v' }], InvalidRecordError],
      [[{ value: 'v', headers: { h: 1 } }], InvalidRecordError],
      [[{ value: 'x'.repeat(200) }], RecordTooLargeError],
      [[{ value: 'v', partition: 0 }, { value: 'v', partition: 7 }], TopicNotFoundError],
    ];
    for (const [messages, ctor] of bad) {
      await expectRejects(producer.send({ topic: 't', messages: messages as never }), ctor);
    }
    const offsets = await admin.fetchTopicOffsets('t');
    expect(offsets.map((o) => [o.low, o.high])).to.deep.equal([['0', '1'], ['0', '0']]);
    expect((await producer.send({ topic: 't', messages: [{ value: 'next', partition: 0 }] }))[0]!.baseOffset).to.equal('1');
  });

  it('keeps the log across clients: a new client on the same database after disconnect reads it and appends after it', async () => {
    const { lanes, database } = client();
    const first = await connected(lanes);
    await first.admin.createTopics({ topics: [{ topic: 'p', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '123456' }] }] });
    await first.producer.send({ topic: 'p', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }] });
    await first.admin.deleteRecords({ topic: 'p', partitions: [{ partition: 0, offset: '1' }] });
    await first.close();
    closers.splice(closers.indexOf(first.close), 1);

    const { lanes: again } = client(database);
    const second = await connected(again);
    expect(await second.admin.listTopics()).to.deep.equal(['p']);
    expect((await second.admin.fetchTopicOffsets('p')).map((o) => [o.low, o.high])).to.deep.equal([['1', '2'], ['0', '1']]);
    const config = await second.admin.describeConfigs({ resources: [{ name: 'p', configNames: ['retention.ms'] }] });
    expect(config.resources[0]!.configEntries[0]!.value).to.equal('123456');
    const [r] = await second.producer.send({ topic: 'p', messages: [{ value: 'd', partition: 0 }] });
    expect(r!.baseOffset).to.equal('2');
    const got = await consume(again, 'p', 0, 'earliest', 2);
    expect(got.map((m) => [m.offset, m.value])).to.deep.equal([['1', 'b'], ['2', 'd']]);
  });
});
