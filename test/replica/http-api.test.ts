import { afterEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../src/protocol/crc32c.js';
import { decodeBatchesFrame, type TopicsResponse } from '../../src/protocol/replica-wire.js';
import { rebuildPayload } from '../../src/protocol/record-batch.js';
import { scanRecords, type RecordView } from '../../src/protocol/record-scan.js';
import { deviceBatch, push, readAll, startServer, texts } from './helpers.js';

let servers: Awaited<ReturnType<typeof startServer>>[] = [];
afterEach(async () => { await Promise.all(servers.map((s) => s.http.close())); servers = []; });
async function server(o: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(o);
  servers.push(s);
  return s;
}

describe('replica HTTP API (SQLite store)', () => {
  it('health answers without a token', async () => {
    const { url } = await server();
    const res = await fetch(`${url}/v1/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', store: 'sqlite' });
  });

  it('push then read: the records route answers the Contract shape', async () => {
    const { url, token } = await server();
    const t = await token();
    const bytes = new Uint8Array([0xff, 0x00, 0xfe]);
    const b = deviceBatch([
      { key: 'a', value: 'hello', headers: { h: 'x', bin: new Uint8Array([0xc3, 0x28]) }, timestamp: 5 },
      { key: bytes, value: bytes, timestamp: 6 },
      { key: null, value: { n: 1, s: 'é' }, timestamp: 7 },
      { key: 'tomb', value: null, timestamp: 8 },
    ], { baseOffset: 40 });
    const r = await push(url, t, 'dev-1', [b]);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ results: [{ topic: 'orders', partition: 0, baseOffset: 40, replicaBaseOffset: 0, count: 4, duplicate: false }] });
    const res = await fetch(`${url}/v1/topics/orders/partitions/0/records?offset=0&limit=10`, { headers: { Authorization: `Bearer ${t}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      records: [
        { offset: '0', key: 'a', value: 'hello', headers: { h: 'x', bin: { base64: Buffer.from([0xc3, 0x28]).toString('base64') } }, timestamp: '5' },
        { offset: '1', key: Buffer.from(bytes).toString('base64'), keyEncoding: 'base64', value: Buffer.from(bytes).toString('base64'), valueEncoding: 'base64', headers: {}, timestamp: '6' },
        { offset: '2', key: null, value: '{"n":1,"s":"é"}', headers: {}, timestamp: '7' },
        { offset: '3', key: 'tomb', value: null, headers: {}, timestamp: '8' },
      ],
      nextOffset: '4',
    });
    // offset and limit in the middle
    const mid = await (await fetch(`${url}/v1/topics/orders/partitions/0/records?offset=1&limit=2`, { headers: { Authorization: `Bearer ${t}` } })).json();
    expect(mid.records.map((x: { offset: string }) => x.offset)).toEqual(['1', '2']);
    expect(mid.nextOffset).toBe('3');
    // at the end: empty, nextOffset stays
    const end = await (await fetch(`${url}/v1/topics/orders/partitions/0/records?offset=4`, { headers: { Authorization: `Bearer ${t}` } })).json();
    expect(end).toEqual({ records: [], nextOffset: '4' });
  });

  it('a push keeps array headers (one item, several, empty) and the records route answers them as sent', async () => {
    const { url, token } = await server();
    const t = await token();
    const headers = JSON.parse('{"__proto__": "p", "constructor": ["c1", "c2"], "one": ["x"], "none": [], "toString": "t"}') as Record<string, string | string[]>;
    const pushed = await push(url, t, 'dev-1', [deviceBatch([{ key: 'k', value: 'v', headers, timestamp: 5 }], { baseOffset: 0 })]);
    expect(pushed.body).toMatchObject({ results: [{ count: 1 }] });
    const res = await fetch(`${url}/v1/topics/orders/partitions/0/records?offset=0`, { headers: { Authorization: `Bearer ${t}` } });
    const text = await res.text();
    expect(Object.entries(JSON.parse(text).records[0].headers)).toEqual([['__proto__', 'p'], ['constructor', ['c1', 'c2']], ['one', ['x']], ['none', []], ['toString', 't']]);
  });

  it('topics named __proto__ and constructor are pushed, listed and read like any other', async () => {
    const { url, token } = await server();
    const t = await token();
    const pushed = await push(url, t, 'dev-1', ['__proto__', 'constructor'].map((topic) => deviceBatch(texts(topic, 0, 2), { topic, baseOffset: 0 })));
    expect(pushed.status).toBe(200);
    expect(pushed.body.results.map((r) => [r.topic, r.replicaBaseOffset, r.count])).toEqual([['__proto__', 0, 2], ['constructor', 0, 2]]);
    for (const topic of ['__proto__', 'constructor']) expect((await readAll(url, t, topic, 0)).map((r) => r.value)).toEqual(texts(topic, 0, 2).map((m) => m.value));
    const list = (await (await fetch(`${url}/v1/topics`, { headers: { Authorization: `Bearer ${t}` } })).json()) as TopicsResponse;
    expect(list.topics.map((x) => x.topic).sort()).toEqual(['__proto__', 'constructor']);
  });

  it('a retried push answers the original offsets, duplicate, and stores nothing twice', async () => {
    const { url, token } = await server();
    const t = await token();
    const a = deviceBatch(texts('a', 0, 3), { baseOffset: 0, baseSequence: 0 });
    const b = deviceBatch(texts('a', 3, 2), { baseOffset: 3, baseSequence: 3 });
    const first = await push(url, t, 'dev-1', [a, b], { gzip: true });
    expect(first.body.results.map((r) => [r.replicaBaseOffset, r.duplicate])).toEqual([[0, false], [3, false]]);
    // another device writes in between
    await push(url, t, 'dev-2', [deviceBatch(texts('z', 0, 2), { baseOffset: 0, baseSequence: 0 })]);
    const c = deviceBatch(texts('a', 5, 1), { baseOffset: 5, baseSequence: 5 });
    const retry = await push(url, t, 'dev-1', [a, b, c]);
    expect(retry.body.results).toEqual([
      { topic: 'orders', partition: 0, baseOffset: 0, replicaBaseOffset: 0, count: 3, duplicate: true },
      { topic: 'orders', partition: 0, baseOffset: 3, replicaBaseOffset: 3, count: 2, duplicate: true },
      { topic: 'orders', partition: 0, baseOffset: 5, replicaBaseOffset: 7, count: 1, duplicate: false },
    ]);
    const twice = deviceBatch(texts('a', 6, 1), { baseOffset: 6, baseSequence: 6 });
    expect((await push(url, t, 'dev-1', [twice, twice])).body.results.map((r) => [r.replicaBaseOffset, r.duplicate])).toEqual([[8, false], [8, true]]);
    const all = await readAll(url, t, 'orders', 0);
    expect(all.map((r) => r.value)).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'z-0', 'z-1', 'a-5', 'a-6']);
    expect(all.map((r) => r.offset)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8']);
  });

  it('the same sequence from another device or producer epoch is a different batch', async () => {
    const { url, token } = await server();
    const t = await token();
    const a = deviceBatch(texts('a', 0, 1), { baseOffset: 0, baseSequence: 0 });
    expect((await push(url, t, 'dev-1', [a])).body.results[0]!.duplicate).toBe(false);
    expect((await push(url, t, 'dev-2', [a])).body.results[0]!.duplicate).toBe(false);
    expect((await push(url, t, 'dev-1', [{ ...a, producerEpoch: 1 }])).body.results[0]!.duplicate).toBe(false);
    expect((await push(url, t, 'dev-1', [a])).body.results[0]).toMatchObject({ duplicate: true, replicaBaseOffset: 0 });
    // without a producer id the device offset is the sequence
    const np = { ...deviceBatch(texts('n', 0, 2), { baseOffset: 100 }), producerId: -1, producerEpoch: -1, baseSequence: -1 };
    expect((await push(url, t, 'dev-1', [np])).body.results[0]!.duplicate).toBe(false);
    expect((await push(url, t, 'dev-1', [np])).body.results[0]).toMatchObject({ duplicate: true, replicaBaseOffset: 3 });
  });

  it('the same sequence of another generation of the topic (deleted and created again on the device) is a different batch', async () => {
    const { url, token } = await server();
    const t = await token();
    const a = { ...deviceBatch(texts('a', 0, 1), { baseOffset: 0, baseSequence: 0 }), topicGeneration: 1000 };
    const np = { ...deviceBatch(texts('n', 0, 1), { baseOffset: 1 }), producerId: -1, producerEpoch: -1, baseSequence: -1, topicGeneration: 1000 };
    expect((await push(url, t, 'dev-1', [a, np])).body.results.map((r) => r.duplicate)).toEqual([false, false]);
    // The topic again, from offset 0 and sequence 0: stored, not taken for a retry.
    const again = [{ ...a, topicGeneration: 2000 }, { ...np, topicGeneration: 2000 }];
    expect((await push(url, t, 'dev-1', again)).body.results.map((r) => [r.duplicate, r.replicaBaseOffset])).toEqual([[false, 2], [false, 3]]);
    // Retries of either generation answer their own offsets.
    expect((await push(url, t, 'dev-1', [a, ...again])).body.results.map((r) => [r.duplicate, r.replicaBaseOffset])).toEqual([[true, 0], [true, 2], [true, 3]]);
    expect((await readAll(url, t, 'orders', 0)).map((r) => r.value)).toEqual(['a-0', 'n-0', 'a-0', 'n-0']);
    // The device id and the generation do not run together: device "d@7" (no generation) is
    // not device "d" at generation 7.
    const b = deviceBatch(texts('b', 0, 1), { baseOffset: 0, baseSequence: 0, producerId: 9 });
    expect((await push(url, t, 'd', [{ ...b, topicGeneration: 7 }])).body.results[0]!.duplicate).toBe(false);
    expect((await push(url, t, 'd@7', [{ ...b, topicGeneration: 0 }])).body.results[0]!.duplicate).toBe(false);
  });

  it('a compacted device batch gets dense replica offsets', async () => {
    const { url, token } = await server();
    const t = await token();
    const full = deviceBatch(texts('c', 0, 4), { baseOffset: 10 });
    const kept: RecordView[] = [];
    scanRecords(full.payload, 10, (r) => { if (r.offset % 2 === 1) kept.push(r); });
    const payload = rebuildPayload(full.payload, 10, kept);
    const compacted = { ...full, payload, count: 2, crc: crc32c(payload) };
    const r = await push(url, t, 'dev-1', [compacted]);
    expect(r.body.results[0]).toMatchObject({ replicaBaseOffset: 0, count: 2 });
    const all = await readAll(url, t, 'orders', 0);
    expect(all.map((x) => [x.offset, x.value])).toEqual([['0', 'c-1'], ['1', 'c-3']]);
  });

  it('topics grow with pushed partitions; watermarks; binary batches route', async () => {
    const { url, token } = await server();
    const t = await token();
    await push(url, t, 'd', [deviceBatch(texts('p', 0, 2), { baseOffset: 0, partition: 2 }), deviceBatch(texts('q', 0, 3), { baseOffset: 0, topic: 'clicks' })]);
    const auth = { headers: { Authorization: `Bearer ${t}` } };
    const topics = (await (await fetch(`${url}/v1/topics`, auth)).json()) as TopicsResponse;
    expect(topics).toEqual({ topics: [
      { topic: 'clicks', partitions: [{ partition: 0, low: '0', high: '3' }] },
      { topic: 'orders', partitions: [{ partition: 0, low: '0', high: '0' }, { partition: 1, low: '0', high: '0' }, { partition: 2, low: '0', high: '2' }] },
    ] });
    expect(await (await fetch(`${url}/v1/topics/clicks`, auth)).json()).toEqual(topics.topics[0]);
    expect((await fetch(`${url}/v1/topics/nope`, auth)).status).toBe(404);
    expect((await fetch(`${url}/v1/topics/orders/partitions/7/records`, auth)).status).toBe(404);
    expect((await fetch(`${url}/v1/topics/orders/partitions/2/records?offset=9`, auth)).status).toBe(416);
    const res = await fetch(`${url}/v1/topics/clicks/partitions/0/batches?offset=1`, auth);
    expect(res.headers.get('content-type')).toBe('application/vnd.lanes.batches');
    const frame = decodeBatchesFrame(new Uint8Array(await res.arrayBuffer()));
    expect(frame).toMatchObject({ low: 0, high: 3, nextOffset: 3 });
    expect(frame.batches.map((b) => [b.baseOffset, b.count, crc32c(b.payload) === b.crc])).toEqual([[0, 3, true]]);
  });

  it('tokens: 401 missing, expired, forged; 403 another tenant; tenants are apart', async () => {
    const { url, token } = await server();
    const acme = await token('acme');
    const other = await token('globex');
    await push(url, acme, 'd', [deviceBatch(texts('a', 0, 1), { baseOffset: 0 })]);
    const get = (path: string, t?: string) => fetch(`${url}${path}`, t ? { headers: { Authorization: `Bearer ${t}` } } : {});
    const missing = await get('/v1/topics');
    expect(missing.status).toBe(401);
    expect((await missing.json()).error.message).toMatch(/missing Authorization/);
    const expired = await get('/v1/topics', await token('acme', -10));
    expect(expired.status).toBe(401);
    expect((await expired.json()).error.message).toMatch(/expired/);
    const [h, p] = acme.split('.');
    const forged = await get('/v1/topics', `${h}.${p}.${Buffer.from('nope').toString('base64url')}`);
    expect(forged.status).toBe(401);
    expect((await forged.json()).error.message).toMatch(/signature/);
    const cross = await get('/v1/tenants/acme/topics/orders/partitions/0/records', other);
    expect(cross.status).toBe(403);
    expect((await cross.json()).error.code).toBe('FORBIDDEN');
    expect((await get('/v1/tenants/acme/topics/orders/partitions/0/records', acme)).status).toBe(200);
    expect(await (await get('/v1/topics', other)).json()).toEqual({ topics: [] });
    const crossPush = await push(url, other, 'd', [deviceBatch(texts('x', 0, 1), { baseOffset: 0 })], { tenantPath: 'acme' });
    expect(crossPush.status).toBe(403);
    expect(await readAll(url, acme, 'orders', 0)).toHaveLength(1);
  });

  it('CORS: allowlisted origins get headers and preflight; others none', async () => {
    const { url, token } = await server({ allowOrigins: ['http://app.example'] });
    const pre = await fetch(`${url}/v1/push`, { method: 'OPTIONS', headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-encoding, content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization.*Content-Type.*Content-Encoding/);
    const got = await fetch(`${url}/v1/topics`, { headers: { Origin: 'http://app.example', Authorization: `Bearer ${await token()}` } });
    expect(got.headers.get('access-control-allow-origin')).toBe('http://app.example');
    const evil = await fetch(`${url}/v1/push`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const any = await server({ allowOrigins: ['*'] });
    const anyRes = await fetch(`${any.url}/v1/health`, { headers: { Origin: 'http://x.example' } });
    expect(anyRes.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('metrics: Prometheus text with batches, records, bytes, rejects and latencies', async () => {
    const { url, token } = await server();
    const t = await token();
    await push(url, t, 'd', [deviceBatch(texts('m', 0, 5), { baseOffset: 0 })]);
    await push(url, t, 'd', [deviceBatch(texts('m', 0, 5), { baseOffset: 0 })]);
    await fetch(`${url}/v1/topics`);
    const text = await (await fetch(`${url}/v1/metrics`, { headers: { Authorization: `Bearer ${t}` } })).text();
    expect(text).toMatch(/lanes_replica_batches_total\{outcome="stored"\} 1/);
    expect(text).toMatch(/lanes_replica_batches_total\{outcome="duplicate"\} 1/);
    expect(text).toMatch(/lanes_replica_records_total 5/);
    expect(text).toMatch(/lanes_replica_rejects_total\{reason="unauthorized_missing"\} 1/);
    expect(text).toMatch(/lanes_replica_request_duration_seconds_count\{route="push"\} 2/);
    expect(text).toMatch(/lanes_replica_bytes_total \d+/);
  });
});
