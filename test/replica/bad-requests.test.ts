// Issue 8, Must show 5: bad requests each get a 4xx with a clear JSON message, the server
// stays up, the store is unchanged: tokens, tenants, CRC, sizes, gzip, and 10,000 fuzzed bodies.
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c } from '../../src/protocol/crc32c.js';
import { decodePushFrame, encodePushFrame, PUSH_CONTENT_TYPE, type PushBatch } from '../../src/protocol/replica-wire.js';
import { checkBatch, DEFAULT_RECORD_LIMITS } from '../../src/replica/validate.js';
import { deviceBatch, push, readAll, SECRET, startServer, texts } from './helpers.js';

const LIMIT = 256 * 1024;
let s: Awaited<ReturnType<typeof startServer>>;
let token: string;
let before: string;

/** Every topic, watermark and record of tenant acme, as one string. */
async function snapshot(): Promise<string> {
  const topics = await (await fetch(`${s.url}/v1/topics`, { headers: { Authorization: `Bearer ${token}` } })).json();
  const records = [];
  for (const t of topics.topics) for (const p of t.partitions) records.push(await readAll(s.url, token, t.topic, p.partition));
  return JSON.stringify({ topics, records });
}

async function post(body: Uint8Array, headers: Record<string, string> = {}, path = '/v1/push') {
  const res = await fetch(`${s.url}${path}`, {
    method: 'POST', body: body as Uint8Array<ArrayBuffer>,
    headers: { 'Content-Type': PUSH_CONTENT_TYPE, Authorization: `Bearer ${token}`, ...headers },
  });
  return { status: res.status, body: await res.json() };
}

function expectClear(r: { status: number; body: { error?: { code: string; message: string } } }, status: number, pattern: RegExp) {
  expect(r.status).toBe(status);
  expect(r.body.error?.code).toBeTypeOf('string');
  expect(r.body.error?.message).toMatch(pattern);
}

beforeAll(async () => {
  s = await startServer({ limits: { maxBodyBytes: LIMIT, maxRecordsPerBatch: 1000, maxKeyBytes: 64, maxHeaderBytes: 128 } });
  token = await s.token('acme');
  const r = await push(s.url, token, 'seed', [deviceBatch(texts('seed', 0, 10), { baseOffset: 0 }), deviceBatch(texts('seed', 10, 5), { baseOffset: 10, partition: 1 })]);
  expect(r.status).toBe(200);
  before = await snapshot();
});

afterAll(async () => { await s?.http.close(); });

const valid = () => deviceBatch(texts('x', 0, 3), { baseOffset: 100, baseSequence: 100 });
const frame = (batches: PushBatch[] = [valid()]) => encodePushFrame({ deviceId: 'dev-bad', batches });

describe('bad requests', () => {
  it('tokens: missing, expired, forged, another secret, not a JWT', async () => {
    const { mintToken } = await import('../../src/replica/auth.js');
    expectClear(await post(frame(), { Authorization: '' }), 401, /missing Authorization/);
    expectClear(await post(frame(), { Authorization: `Bearer ${await mintToken(SECRET, 'acme', -1)}` }), 401, /expired/);
    const [h, p] = token.split('.');
    const claims = Buffer.from(JSON.stringify({ tenant: 'acme', exp: 9e9 })).toString('base64url');
    expectClear(await post(frame(), { Authorization: `Bearer ${h}.${claims}.${token.split('.')[2]}` }), 401, /signature/);
    expectClear(await post(frame(), { Authorization: `Bearer ${await mintToken('another-secret', 'acme')}` }), 401, /signature/);
    expectClear(await post(frame(), { Authorization: 'Bearer not-a-jwt' }), 401, /JWT|invalid/);
    expectClear(await post(frame(), { Authorization: `Basic ${p}` }), 401, /Bearer/);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${claims}.`;
    expectClear(await post(frame(), { Authorization: `Bearer ${none}` }), 401, /algorithm|invalid/);
  });

  it('another tenant: 403 on push and reads', async () => {
    const other = await s.token('globex');
    const r = await fetch(`${s.url}/v1/tenants/acme/push`, { method: 'POST', body: frame() as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': PUSH_CONTENT_TYPE, Authorization: `Bearer ${other}` } });
    expectClear({ status: r.status, body: await r.json() }, 403, /may not access tenant "acme"/);
    const g = await fetch(`${s.url}/v1/tenants/acme/topics/orders/partitions/0/records?offset=0`, { headers: { Authorization: `Bearer ${other}` } });
    expectClear({ status: g.status, body: await g.json() }, 403, /tenant/);
  });

  it('corrupt CRC, count mismatch, malformed records, limits', async () => {
    const b = valid();
    expectClear(await post(frame([{ ...b, crc: (b.crc + 1) >>> 0 }])), 400, /batches\[0\] fails its CRC-32C check/);
    const flipped = b.payload.slice();
    flipped[5] ^= 1;
    expectClear(await post(frame([{ ...b, payload: flipped }])), 400, /CRC-32C/);
    expectClear(await post(frame([{ ...b, count: 4 }])), 400, /batches\[0\]\.count says 4 records; the payload holds 3/);
    const junk = new Uint8Array([5, 99, 0, 0, 0, 0]);
    expectClear(await post(frame([{ ...b, payload: junk, count: 1, crc: crc32c(junk) }])), 400, /records\[0\] is malformed/);
    const bigKey = deviceBatch([{ key: 'k'.repeat(65), value: 'v' }], { baseOffset: 200 });
    expectClear(await post(frame([bigKey])), 413, /records\[0\]\.key is 65 bytes; at most 64/);
    const bigHeader = deviceBatch([{ value: 'v', headers: { h: 'x'.repeat(200) } }], { baseOffset: 201 });
    expectClear(await post(frame([bigHeader])), 413, /headers\[0\] is 201 bytes; at most 128/);
    const many = deviceBatch(texts('m', 0, 1001), { baseOffset: 300 });
    expectClear(await post(frame([many])), 413, /1001 records; at most 1000/);
    // one bad batch refuses the whole frame
    expectClear(await post(frame([valid(), { ...b, baseOffset: 500, crc: 0 }])), 400, /batches\[1\]/);
  });

  it('a partition at or above 10,000 (the store would make every partition below it first)', async () => {
    // The frame's first batch: magic, version, deviceId, batch count, topic, then its partition.
    const at = 4 + 1 + 2 + 'dev-bad'.length + 4 + 2 + 'orders'.length;
    for (const partition of [10_000, 0x7fffffff]) {
      const bytes = frame();
      new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, partition);
      expect(decodePushFrame(frame()).batches[0]!.partition).toBe(0);
      expectClear(await post(bytes), 400, new RegExp(`batches\\[0\\]\\.partition ${partition} is out of range`));
    }
    expect(() => encodePushFrame({ deviceId: 'd', batches: [{ ...valid(), partition: 10_000 }] })).toThrow(/partition/);
  });

  it('oversized body, gzip bomb, truncated gzip, unknown encoding, wrong type, bad frame', async () => {
    // declared too large: answered before the body is read
    const big = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = request(`${s.url}/v1/push`, { method: 'POST', headers: { 'Content-Type': PUSH_CONTENT_TYPE, Authorization: `Bearer ${token}`, 'Content-Length': String(LIMIT + 1) } }, (res) => {
        let d = '';
        res.on('data', (c) => { d += c; });
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(d) }));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(1024));
    });
    expectClear(big, 413, /exceeds the limit of 262144/);
    // too large without a declared length (chunked)
    const chunked = await fetch(`${s.url}/v1/push`, {
      method: 'POST', duplex: 'half', headers: { 'Content-Type': PUSH_CONTENT_TYPE, Authorization: `Bearer ${token}` },
      body: new ReadableStream({ start(c) { for (let i = 0; i < 6; i++) c.enqueue(new Uint8Array(64 * 1024)); c.close(); } }),
    } as RequestInit).then(async (r) => ({ status: r.status, body: await r.json() }), () => ({ status: 413, body: { error: { code: 'BODY_TOO_LARGE', message: 'connection closed after the limit' } } }));
    expectClear(chunked, 413, /limit/);
    expectClear(await post(gzipSync(Buffer.alloc(LIMIT * 4)), { 'Content-Encoding': 'gzip' }), 413, /gunzipped body exceeds/);
    const gz = gzipSync(frame());
    expectClear(await post(gz.subarray(0, gz.length - 9), { 'Content-Encoding': 'gzip' }), 400, /not valid gzip/);
    expectClear(await post(new Uint8Array([1, 2, 3]), { 'Content-Encoding': 'gzip' }), 400, /not valid gzip/);
    expectClear(await post(frame(), { 'Content-Encoding': 'br' }), 415, /Content-Encoding br/);
    expectClear(await post(frame(), { 'Content-Type': 'application/json' }), 415, /Content-Type must be application\/vnd\.lanes\.push/);
    expectClear(await post(new TextEncoder().encode('{"hello":1}')), 400, /bad magic/);
    expectClear(await post(frame().subarray(0, 30)), 400, /truncated/);
    const bad = await fetch(`${s.url}/v1/topics/bad%20name/partitions/0/records`, { headers: { Authorization: `Bearer ${token}` } });
    expectClear({ status: bad.status, body: await bad.json() }, 400, /not a valid topic name/);
    const off = await fetch(`${s.url}/v1/topics/orders/partitions/0/records?offset=-1`, { headers: { Authorization: `Bearer ${token}` } });
    expectClear({ status: off.status, body: await off.json() }, 400, /offset must be a decimal integer/);
    for (const path of ['/v1/tenants/%E0%A4%A/topics', '/v1/topics/%E0%A4%A', '/v1/topics/orders/partitions/x/records', '/v1/topics/orders/partitions/0/records?limit=999999', '/v1/topics/orders/partitions/0/batches?maxBytes=abc']) {
      const r = await fetch(`${s.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
      expect(r.status, path).toBeGreaterThanOrEqual(400);
      expect(r.status, path).toBeLessThan(500);
      expect((await r.json()).error.message, path).toBeTypeOf('string');
    }
    const nf = await fetch(`${s.url}/v2/push`, { headers: { Authorization: `Bearer ${token}` } });
    expect(nf.status).toBe(404);
  });

  it('10,000 fuzzed bodies: each a 4xx with a message; server up; store unchanged', async () => {
    let seed = 12345;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    const base = frame([valid(), deviceBatch([{ key: 'a', value: { j: 1 }, headers: { h: 'v' } }], { baseOffset: 103, partition: 1 })]);
    const mutate = (): Uint8Array => {
      const b = base.slice();
      switch (rnd(7)) {
        case 0: return b.subarray(0, rnd(b.length)); // truncation
        case 1: { const n = 1 + rnd(4); for (let i = 0; i < n; i++) b[rnd(b.length)] ^= 1 << rnd(8); return b; } // bit flips
        case 2: { const r = new Uint8Array(rnd(300)); for (let i = 0; i < r.length; i++) r[i] = rnd(256); return r; } // random bytes
        case 3: { const i = rnd(b.length); const r = new Uint8Array(b.length + 1 + rnd(8)); r.set(b.subarray(0, i)); r.set(b.subarray(i), r.length - (b.length - i)); return r; } // inserted bytes
        case 4: { const i = rnd(b.length); b[i] = rnd(256); b[(i + 1) % b.length] = rnd(256); return b; } // overwritten bytes
        case 5: { const r = new Uint8Array(b.length + 1 + rnd(16)); r.set(b); return r; } // trailing garbage
        default: { const v = new DataView(b.buffer); v.setUint32(4 + 1 + 2 + 7 + rnd(3) * 4, rnd(2 ** 32)); return b; } // wild length or count fields
      }
    };
    /** True when the server's own checks would accept the body (then it is not a bad request). */
    const acceptable = (body: Uint8Array) => {
      try {
        const f = decodePushFrame(body);
        f.batches.forEach((x, i) => checkBatch(x, { ...DEFAULT_RECORD_LIMITS, maxRecordsPerBatch: 1000, maxKeyBytes: 64, maxHeaderBytes: 128 }, `batches[${i}]`));
        return true;
      } catch { return false; }
    };
    const total = 10_000;
    let sent = 0, skipped = 0;
    const statuses = new Map<number, number>();
    const worker = async () => {
      while (sent < total) {
        let body = mutate();
        if (acceptable(body)) { skipped++; continue; }
        sent++;
        const gzip = rnd(5) === 0;
        if (gzip) body = rnd(3) === 0 ? gzipSync(body).subarray(0, rnd(body.length + 20)) : gzipSync(body);
        const r = await post(body, gzip ? { 'Content-Encoding': 'gzip' } : {});
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status < 400 || r.status >= 500 || typeof r.body?.error?.message !== 'string' || !r.body.error.message) {
          throw new Error(`fuzzed body answered ${r.status} ${JSON.stringify(r.body)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(sent).toBeGreaterThanOrEqual(total);
    expect([...statuses.keys()].every((c) => c >= 400 && c < 500)).toBe(true);
    // Mutations of ids, timestamps or sequences can still be valid frames: those are not sent.
    expect(skipped).toBeLessThan(total / 4);
    expect((await fetch(`${s.url}/v1/health`)).status).toBe(200);
    expect(await snapshot()).toBe(before);
  }, 180_000);

  it('after every refusal the store is unchanged and a good push still works', async () => {
    expect(await snapshot()).toBe(before);
    const r = await push(s.url, token, 'dev-ok', [valid()]);
    expect(r.status).toBe(200);
    expect(r.body.results[0]).toMatchObject({ replicaBaseOffset: 10, count: 3, duplicate: false });
  });
});
