// The sync agent against the real replica server (in-process, SQLite), with the broker in-page
// on fake-indexeddb: exactly once, per partition in order, resumed after a restart, mirror,
// isolation 'replicated', tokens, retention.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { CompressionTypes, createClient, type Client, type SyncStatus } from '../../src/index.js';
import { deviceBatch, push, readAll, startServer } from '../replica/helpers.js';
import { clients, servers, until } from './helpers.js';
import { acquireInPageBroker } from '../../src/broker/in-page.js';
import { InvalidArgumentError, QuotaExceededError } from '../../src/errors.js';


function device(factory: IDBFactory, url: string, token: string | (() => Promise<string>), database = 'dev') {
  const client = createClient({ clientId: 'd', database, broker: 'in-page', indexedDB: factory, IDBKeyRange, logCleanerIntervalMs: 0, sync: { url, token, lingerMs: 5, mirrorIntervalMs: 20 } });
  const admin = client.admin();
  const producer = client.producer();
  clients.push(producer, admin);
  return { client, admin, producer };
}

/** A replica server, closed after the test, and a token for it. */
async function replica() {
  const server = await startServer();
  servers.push(server);
  return { server, token: await server.token() };
}

/** A device on a fresh database of its own, with its admin and producer connected. */
async function connectedDevice(url: string, token: string) {
  const d = device(new IDBFactory(), url, token);
  await d.admin.connect();
  await d.producer.connect();
  return d;
}

async function idle(client: Client, pending = 0): Promise<SyncStatus> {
  return until('sync idle', async () => { const s = await client.sync.status(); return s.state === 'idle' && s.pendingRecords === pending ? s : false; });
}

describe('sync agent against the replica server', () => {
  it('uploads every record once, per partition in order, and reports replicated offsets and status', async () => {
    const { server, token } = await replica();
    const { client, admin, producer } = await connectedDevice(server.url, token);
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3, configEntries: [{ name: 'segment.bytes', value: '2000' }] }] });
    const statuses: SyncStatus[] = [];
    client.sync.on('status', (s) => statuses.push(s));
    for (let i = 0; i < 30; i++) {
      await producer.send({ topic: 'orders', messages: Array.from({ length: 10 }, (_, j) => ({ value: `v${i * 10 + j}`, partition: (i * 10 + j) % 3 })) });
    }
    const s = await idle(client);
    expect(s).toMatchObject({ configured: true, uploader: 'broker', pendingRecords: 0, pendingBytes: 0, lastError: null });
    expect(s.deviceId).toMatch(/.+/);
    expect(s.lastSuccessAt).toBeGreaterThan(0);
    expect(statuses.some((x) => x.state === 'uploading' || x.pendingRecords > 0)).toBe(true);
    const offsets = await admin.fetchTopicOffsets('orders');
    for (const o of offsets) expect(o.replicated).toBe(o.high);
    const all: string[] = [];
    for (let p = 0; p < 3; p++) {
      const recs = await readAll(server.url, token, 'orders', p);
      expect(recs.map((r) => Number(r.offset))).toEqual(recs.map((_, i) => i));
      const values = recs.map((r) => r.value!);
      expect(values).toEqual([...values].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
      for (const v of values) expect(Number(v.slice(1)) % 3).toBe(p);
      all.push(...values);
    }
    expect(all.sort()).toEqual(Array.from({ length: 300 }, (_, i) => `v${i}`).sort());
  });

  it('GZIP-compressed batches reach the replica as their records', async () => {
    const { server, token } = await replica();
    const { client, admin, producer } = await connectedDevice(server.url, token);
    const values = Array.from({ length: 40 }, (_, i) => `zipped ${i} `.repeat(20));
    await producer.send({ topic: 'zipped', compression: CompressionTypes.GZIP, messages: values.slice(0, 20).map((value, i) => ({ key: `k${i}`, value })) });
    await producer.send({ topic: 'zipped', messages: values.slice(20).map((value, i) => ({ key: `k${20 + i}`, value })) });
    const s = await idle(client);
    expect(s.lastError).toBeNull();
    const recs = await readAll(server.url, token, 'zipped', 0);
    expect(recs.map((r) => r.value)).toEqual(values);
    expect(recs.map((r) => r.key)).toEqual(values.map((_, i) => `k${i}`));
  });

  it('resumes from the persisted replicated offsets after a restart: nothing twice, nothing lost', async () => {
    const { server, token } = await replica();
    const factory = new IDBFactory();
    let d = device(factory, server.url, token);
    await d.producer.connect();
    await d.producer.send({ topic: 'notes', messages: Array.from({ length: 50 }, (_, i) => ({ value: `a${i}` })) });
    await idle(d.client);
    await d.producer.disconnect();
    d = device(factory, server.url, token);
    await d.producer.connect();
    await d.producer.send({ topic: 'notes', messages: Array.from({ length: 20 }, (_, i) => ({ value: `b${i}` })) });
    await idle(d.client);
    const recs = await readAll(server.url, token, 'notes', 0);
    expect(recs.map((r) => r.value)).toEqual([...Array.from({ length: 50 }, (_, i) => `a${i}`), ...Array.from({ length: 20 }, (_, i) => `b${i}`)]);
  });

  it('a topic deleted and created again uploads its new records: the replica does not take them for the old ones', async () => {
    const { server, token } = await replica();
    const { client, admin } = await connectedDevice(server.url, token);
    const plain = client.producer({ idempotent: false });
    await plain.connect();
    clients.push(plain);
    const producer = client.producer();
    await producer.connect();
    clients.push(producer);
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] });
    await plain.send({ topic: 'orders', messages: [{ value: 'old-1' }, { value: 'old-2' }] });
    await producer.send({ topic: 'orders', messages: [{ value: 'old-3' }] });
    await idle(client);
    await admin.deleteTopics({ topics: ['orders'] });
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] });
    // Local offsets 0-1 (no producer id) and sequence 0 of the same producer again.
    await plain.send({ topic: 'orders', messages: [{ value: 'new-1' }, { value: 'new-2' }] });
    await producer.send({ topic: 'orders', messages: [{ value: 'new-3' }] });
    await idle(client);
    const recs = await readAll(server.url, token, 'orders', 0);
    expect(recs.map((r) => r.value)).toEqual(['old-1', 'old-2', 'old-3', 'new-1', 'new-2', 'new-3']);
  });

  it("a consumer with isolation 'replicated' reads only what the replica holds", async () => {
    const { server, token } = await replica();
    const { client, admin, producer } = await connectedDevice(server.url, token);
    await producer.send({ topic: 'iso', messages: Array.from({ length: 5 }, (_, i) => ({ value: `x${i}` })) });
    await idle(client);
    await server.http.close();
    servers.pop();
    await producer.send({ topic: 'iso', messages: Array.from({ length: 5 }, (_, i) => ({ value: `y${i}` })) });
    const s = await until('a failed push', async () => { const x = await client.sync.status(); return x.lastError ? x : false; });
    expect(s).toMatchObject({ pendingRecords: 5, lastError: { kind: 'network' } });
    const [o] = await admin.fetchTopicOffsets('iso');
    expect(o).toMatchObject({ high: '10', replicated: '5' });
    const seen: string[] = [];
    const consumer = client.consumer({ isolation: 'replicated', maxWaitTimeInMs: 50 });
    clients.push(consumer);
    await consumer.connect();
    consumer.assign([{ topic: 'iso', partition: 0, offset: 'earliest' }]);
    await consumer.run({ eachMessage: async ({ message }) => { seen.push(String(message.value)); } });
    await until('replicated records consumed', () => seen.length >= 5);
    const all = client.consumer({ maxWaitTimeInMs: 50 });
    clients.push(all);
    const seenAll: string[] = [];
    await all.connect();
    all.assign([{ topic: 'iso', partition: 0, offset: 'earliest' }]);
    await all.run({ eachMessage: async ({ message }) => { seenAll.push(String(message.value)); } });
    await until('all records consumed', () => seenAll.length >= 10);
    expect(seen).toEqual(['x0', 'x1', 'x2', 'x3', 'x4']);
  });

  it('an expired token parks the upload until getToken gives a fresh one', async () => {
    const { server } = await replica();
    let calls = 0;
    const getToken = async () => (++calls === 1 ? server.token('acme', -10) : server.token('acme'));
    const { client, producer } = device(new IDBFactory(), server.url, getToken);
    const states: string[] = [];
    client.sync.on('status', (s) => states.push(s.state));
    await producer.connect();
    await producer.send({ topic: 'tok', messages: [{ value: 'one' }] });
    await idle(client);
    expect(states).toContain('unauthorized');
    expect(calls).toBeGreaterThanOrEqual(2);
    expect((await readAll(server.url, await server.token(), 'tok', 0)).map((r) => r.value)).toEqual(['one']);
  });

  it('a getToken that fails (the sign-in server unreachable) neither fails connect nor parks sync: records are written, and uploaded once a token comes', async () => {
    const { server } = await replica();
    let calls = 0;
    const expired = await server.token('acme', -10);
    const getToken = async () => {
      if (++calls <= 2) throw new Error('sign-in server unreachable');
      // Then a stale cached token twice (refused: asked again later, not in a loop), then a fresh one.
      return calls <= 4 ? expired : server.token('acme');
    };
    const { client, producer } = device(new IDBFactory(), server.url, getToken);
    await producer.connect();
    await producer.send({ topic: 'tok', messages: [{ value: 'written offline' }] });
    await idle(client);
    expect(calls).toBe(5);
    expect((await readAll(server.url, await server.token(), 'tok', 0)).map((r) => r.value)).toEqual(['written offline']);
  });

  it('mirror: two devices see the same replica topic in the same order, and mirrored topics are not pushed back', async () => {
    const { server, token } = await replica();
    const a = device(new IDBFactory(), server.url, token, 'a');
    const b = device(new IDBFactory(), server.url, token, 'b');
    for (const d of [a, b]) { await d.admin.connect(); await d.producer.connect(); }
    await a.producer.send({ topic: 'chat', messages: Array.from({ length: 7 }, (_, i) => ({ key: 'a', value: `a${i}`, headers: { h: 'x' } })) });
    await b.producer.send({ topic: 'chat', messages: Array.from({ length: 5 }, (_, i) => ({ key: 'b', value: { n: i } })) });
    await a.client.sync.mirror({ topic: 'chat', into: 'chat-all' });
    await b.client.sync.mirror({ topic: 'chat', into: 'chat-all' });
    const read = async (d: typeof a) => {
      const out: { v: unknown; ro: unknown; h: unknown }[] = [];
      await until('the mirror to hold 12 records', async () => (await d.admin.fetchTopicOffsets('chat-all').catch(() => []))[0]?.high === '12');
      const c = d.client.consumer({ maxWaitTimeInMs: 50 });
      clients.push(c);
      await c.connect();
      c.assign([{ topic: 'chat-all', partition: 0, offset: 'earliest' }]);
      await c.run({ eachMessage: async ({ message }) => { out.push({ v: message.value, ro: message.headers['lanes-replica-offset'], h: message.headers.h }); } });
      await until('12 mirrored records consumed', () => out.length >= 12);
      await c.disconnect();
      return out;
    };
    const [ra, rb] = [await read(a), await read(b)];
    expect(ra).toEqual(rb);
    expect(ra.map((r) => r.ro)).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    expect(ra.filter((r) => r.h === 'x')).toHaveLength(7);
    expect(ra.some((r) => JSON.stringify(r.v) === JSON.stringify({ n: 4 }))).toBe(true);
    await idle(a.client);
    const topics = (await (await fetch(`${server.url}/v1/topics`, { headers: { authorization: `Bearer ${token}` } })).json()) as { topics: { topic: string }[] };
    expect(topics.topics.map((t) => t.topic)).toEqual(['chat']);
  });

  it('a mirror that cannot write says why in the status (a replica record over the local topic\'s max.message.bytes), and clears it once it writes again', async () => {
    const { server, token } = await replica();
    const { client, admin } = await connectedDevice(server.url, token);
    await admin.createTopics({ topics: [{ topic: 'big-all', numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '1000' }] }] });
    expect((await push(server.url, token, 'other-device', [deviceBatch([{ value: 'x'.repeat(2000) }], { topic: 'big', baseOffset: 0 })])).status).toBe(200);
    const statuses: SyncStatus[] = [];
    client.sync.on('status', (s) => statuses.push(s));
    await client.sync.mirror({ topic: 'big', into: 'big-all' });
    const failing = await until('the mirror error in the status', async () => (await client.sync.status()).mirrors.find((m) => m.lastError) ?? false);
    expect(failing).toMatchObject({ topic: 'big', into: 'big-all', lastError: { message: expect.stringMatching(/max\.message\.bytes/) } });
    expect(failing.lastError!.at).toBeGreaterThan(0);
    await until('a status event with the mirror error', () => statuses.some((s) => s.mirrors.some((m) => m.lastError)));
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: 'big-all', configEntries: [{ name: 'max.message.bytes', value: '100000' }] }] });
    await until('the mirror to write the record', async () => (await admin.fetchTopicOffsets('big-all'))[0]?.high === '1');
    await until('the mirror error to clear', async () => (await client.sync.status()).mirrors.every((m) => !m.lastError));
  });

  it('mirror refuses an `into` topic that holds records of its own (they would never be uploaded), naming the field', async () => {
    const { server, token } = await replica();
    const { client, admin, producer } = await connectedDevice(server.url, token);
    await producer.send({ topic: 'notes', messages: [{ value: 'mine' }] });
    const err = await client.sync.mirror({ topic: 'chat', into: 'notes' }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).details.field).toBe('into');
    expect((await client.sync.status()).mirrors).toEqual([]);
    await idle(client);
    expect((await readAll(server.url, token, 'notes', 0)).map((r) => r.value)).toEqual(['mine']);
    // An empty topic (created for it) is fine.
    await admin.createTopics({ topics: [{ topic: 'chat-all', numPartitions: 1 }] });
    await client.sync.mirror({ topic: 'chat', into: 'chat-all' });
    expect((await client.sync.status()).mirrors).toEqual([{ topic: 'chat', into: 'chat-all' }]);
  });

  it('mirror() and stopMirror() each send a status event with the mirror list (stopped: true after stopMirror)', async () => {
    const { server, token } = await replica();
    const { client } = await connectedDevice(server.url, token);
    await idle(client);
    const statuses: SyncStatus[] = [];
    client.sync.on('status', (s) => statuses.push(s));
    await client.sync.mirror({ topic: 'prices', into: 'prices-here' });
    await until('a status event listing the mirror', async () => statuses.some((s) => s.mirrors.some((m) => m.into === 'prices-here' && !m.stopped)));
    expect((await client.sync.status()).mirrors).toEqual([{ topic: 'prices', into: 'prices-here' }]);
    await client.sync.stopMirror('prices-here');
    await until('a status event listing the mirror as stopped', async () => statuses.some((s) => s.mirrors.some((m) => m.into === 'prices-here' && m.stopped)));
    expect((await client.sync.status()).mirrors).toEqual([{ topic: 'prices', into: 'prices-here', stopped: true }]);
  });

  it('retention keeps segments the replica has not acknowledged', async () => {
    const { server, token } = await replica();
    const { client, admin, producer } = device(new IDBFactory(), server.url, token);
    await admin.connect();
    await server.http.close();
    servers.pop();
    await admin.createTopics({ topics: [{ topic: 'keep', configEntries: [{ name: 'segment.bytes', value: '200' }, { name: 'retention.bytes', value: '0' }] }, { topic: 'drop', configEntries: [{ name: 'segment.bytes', value: '200' }, { name: 'retention.bytes', value: '0' }, { name: 'sync.retention.unreplicated', value: 'delete' }] }] });
    await producer.connect();
    for (let i = 0; i < 10; i++) {
      await producer.send({ topic: 'keep', messages: [{ value: 'x'.repeat(150) }] });
      await producer.send({ topic: 'drop', messages: [{ value: 'x'.repeat(150) }] });
    }
    await admin.runLogCleaner();
    const [k] = await admin.fetchTopicOffsets('keep');
    const [d] = await admin.fetchTopicOffsets('drop');
    expect(k).toMatchObject({ low: '0', replicated: '0' });
    expect(Number(d!.low)).toBeGreaterThan(0);
    // The agent learns of appends after they are acknowledged: its count settles at all ten.
    await until('10 records of keep pending', async () => (await client.sync.status()).topics.keep?.records === 10);
  });

  it('under quota pressure replicated segments go first; the QuotaExceeded error says what is pending', async () => {
    const { server, token } = await replica();
    const factory = new IDBFactory();
    const { client, admin, producer } = device(factory, server.url, token, 'quota');
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'q', configEntries: [{ name: 'segment.bytes', value: '300' }] }] });
    await producer.connect();
    for (let i = 0; i < 6; i++) await producer.send({ topic: 'q', messages: [{ value: 'x'.repeat(200) }] });
    await idle(client);
    await server.http.close();
    servers.pop();
    for (let i = 0; i < 3; i++) await producer.send({ topic: 'q', messages: [{ value: 'y'.repeat(200) }] });
    // The agent learns of appends after they are acknowledged: wait until its status counts all three.
    await until('3 records pending', async () => (await client.sync.status()).pendingRecords === 3);
    const { broker, release } = await acquireInPageBroker({ database: 'quota', indexedDB: factory, IDBKeyRange });
    try {
      // The device is full: the log refuses every append with the storage's quota error.
      const append = broker.appender.append.bind(broker.appender);
      let refusals = 0;
      broker.appender.append = async () => { refusals++; throw new QuotaExceededError('storage quota exceeded during produce; nothing of it was written'); };
      const before = (await admin.describeSegments({ topic: 'q', partition: 0 })).filter((x) => x.sealed).length;
      const err = await producer.send({ topic: 'q', messages: [{ value: 'z' }] }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(QuotaExceededError);
      expect((err as QuotaExceededError).message).toMatch(/3 records \(\d+ bytes\) are waiting to reach the sync replica/);
      expect((err as QuotaExceededError).details).toMatchObject({ pendingRecords: 3 });
      expect(refusals).toBeGreaterThanOrEqual(2); // tried again after freeing space
      const [o] = await admin.fetchTopicOffsets('q');
      // Every replicated sealed segment went; nothing the replica does not hold.
      expect(Number(o!.low)).toBe(6);
      expect(o!.replicated).toBe('6');
      expect((await admin.describeSegments({ topic: 'q', partition: 0 })).filter((x) => x.sealed).length).toBeLessThan(before);
      broker.appender.append = append;
    } finally {
      release();
    }
  });
});
