// Several push requests in flight, against the real replica server (in-process, SQLite) behind a
// proxy that answers out of order and fails some requests: some before the replica saw them,
// some after it stored them. In the end every record is at the replica once, per partition in
// order, and the device's replicated offsets are the log ends.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/index.js';
import { dbName } from '../../src/broker/in-page.js';
import { LogStore } from '../../src/log/log-store.js';
import { loadReplicated } from '../../src/log/sync-meta.js';
import { SyncAgent } from '../../src/sync/sync-agent.js';
import { readAll, startServer } from '../replica/helpers.js';
import { clients, servers, until } from './helpers.js';

/** A proxy to `target` that holds, reorders and fails push requests as `plan(n)` says (n counts pushes from 0). */
function pushProxy(target: string, plan: (n: number) => 'pass' | 'fail-before' | 'fail-after' | 'reject') {
  const seen = { pushes: 0, open: 0, maxOpen: 0, failedBefore: 0, failedAfter: 0, rejected: 0, batches: 0, duplicates: 0 };
  // The first push is held until a second one arrives: requests overlap only if the agent pipelines.
  let releaseFirst: () => void = () => undefined;
  const secondArrived = new Promise<void>((r) => { releaseFirst = r; });
  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> => new Promise((resolve, reject) => {
    const u = new URL(req.url!, target);
    const out = request(u, { method: req.method, headers: { ...req.headers, host: u.host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: { 'content-type': String(res.headers['content-type'] ?? '') }, body: Buffer.concat(chunks) }));
    });
    out.on('error', reject);
    out.end(body);
  });
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (!req.url!.startsWith('/v1/push')) {
      const r = await forward(req, body);
      res.writeHead(r.status, r.headers).end(r.body);
      return;
    }
    const n = seen.pushes++;
    seen.open++;
    seen.maxOpen = Math.max(seen.maxOpen, seen.open);
    if (n === 1) releaseFirst();
    try {
      if (n === 0) await Promise.race([secondArrived, new Promise((r) => setTimeout(r, 3000))]);
      const what = plan(n);
      if (what === 'reject') { seen.rejected++; res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"INVALID_ARGUMENT","message":"proxy: refused","field":"body"}}'); return; }
      if (what === 'fail-before') { seen.failedBefore++; res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"UNAVAILABLE","message":"proxy: not forwarded"}}'); return; }
      const r = await forward(req, body);
      if (what === 'fail-after') { seen.failedAfter++; res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"UNAVAILABLE","message":"proxy: answer lost"}}'); return; }
      if (r.status === 200) {
        const results = (JSON.parse(r.body.toString()) as { results: { duplicate: boolean }[] }).results;
        seen.batches += results.length;
        seen.duplicates += results.filter((x) => x.duplicate).length;
      }
      res.writeHead(r.status, r.headers).end(r.body);
    } finally {
      seen.open--;
    }
  });
  return new Promise<{ url: string; seen: typeof seen; close(): Promise<void> }>((resolve) => server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as { port: number }).port;
    resolve({ url: `http://127.0.0.1:${port}`, seen, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) });
  }));
}

/**
 * Writes `total` records `v0`, `v1`... to a new 3-partition `topic` (record i to partition i % 3,
 * `perSend` per send, small segments) of `database`, without sync.
 */
async function writeBacklog(factory: IDBFactory, database: string, topic: string, total: number, perSend: number): Promise<void> {
  const writer = createClient({ clientId: 'w', database, broker: 'in-page', indexedDB: factory, IDBKeyRange, logCleanerIntervalMs: 0 });
  const admin = writer.admin();
  const producer = writer.producer();
  await admin.connect();
  await producer.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'segment.bytes', value: '4000' }] }] });
  for (let i = 0; i < total; i += perSend) {
    await producer.send({ topic, messages: Array.from({ length: perSend }, (_, j) => ({ value: `v${i + j}`, partition: (i + j) % 3 })) });
  }
  await producer.disconnect();
  await admin.disconnect();
}

describe('sync agent: several requests in flight', () => {
  it('a backlog uploads with requests overlapping; 5xx before and after the replica stored a request and a 4xx leave every record there once, per partition in order', async () => {
    const server = await startServer();
    servers.push(server);
    const token = await server.token();
    // Every fifth push fails (503) before reaching the replica, every seventh after it stored
    // it; the eleventh is refused with a 400 (a 4xx mid-pipeline backs off the same way).
    const proxy = await pushProxy(server.url, (n) => (n === 11 ? 'reject' : n % 5 === 2 ? 'fail-before' : n % 7 === 3 ? 'fail-after' : 'pass'));
    servers.push({ http: { close: () => proxy.close() } });
    const factory = new IDBFactory();
    const database = 'pipelined';
    // The backlog is written before sync is on, so the upload starts with every partition pending.
    const total = 1200;
    await writeBacklog(factory, database, 'backlog', total, 40);
    const client = createClient({
      clientId: 'd', database, broker: 'in-page', indexedDB: factory, IDBKeyRange, logCleanerIntervalMs: 0,
      sync: { url: proxy.url, token, lingerMs: 0, maxRequestBytes: 2048 },
    });
    const syncAdmin = client.admin();
    clients.push(syncAdmin);
    await syncAdmin.connect();
    // Failures back off; retry at once whenever the agent waits, so the test does not sleep through backoffs.
    await until('everything replicated', async () => {
      const s = await client.sync.status();
      if (s.state === 'waiting') await client.sync.retry();
      return s.state === 'idle' && s.pendingRecords === 0;
    }, 60_000);
    expect(proxy.seen.maxOpen).toBeGreaterThan(1);
    expect(proxy.seen.failedBefore).toBeGreaterThan(0);
    expect(proxy.seen.failedAfter).toBeGreaterThan(0);
    expect(proxy.seen.rejected).toBe(1);
    const offsets = await syncAdmin.fetchTopicOffsets('backlog');
    for (const o of offsets) expect(o.replicated).toBe(o.high);
    const all: string[] = [];
    for (let p = 0; p < 3; p++) {
      const recs = await readAll(server.url, token, 'backlog', p);
      expect(recs.map((r) => Number(r.offset))).toEqual(recs.map((_, i) => i));
      const seq = recs.map((r) => Number(r.value!.slice(1)));
      for (const v of seq) expect(v % 3).toBe(p);
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
      all.push(...recs.map((r) => r.value!));
    }
    expect(all).toHaveLength(total);
    expect(new Set(all).size).toBe(total);
  });

  it('service-worker mode (drainHeld) uploads a backlog with requests overlapping and sends no batch twice', async () => {
    const server = await startServer();
    servers.push(server);
    const token = await server.token();
    const proxy = await pushProxy(server.url, () => 'pass');
    servers.push({ http: { close: () => proxy.close() } });
    const factory = new IDBFactory();
    const database = 'drained';
    const total = 900;
    await writeBacklog(factory, database, 'drained', total, 30);
    // As the service worker runs it (sw/lanes-sync.ts): the log opened directly, the agent drained while holding the lock.
    const store = await LogStore.open({ indexedDB: factory as unknown as IDBFactory, IDBKeyRange, name: dbName(database) });
    try {
      store.syncEnabled = true;
      await loadReplicated(store);
      const agent = new SyncAgent({ store, database, url: proxy.url, deviceId: 'sw-device', role: 'service-worker', token: () => token, config: { maxRequestBytes: 2048 } });
      try {
        expect(await agent.drainHeld()).toBe('done');
      } finally {
        agent.stop();
      }
    } finally {
      store.close();
    }
    expect(proxy.seen.maxOpen).toBeGreaterThan(1);
    // Every batch went once: no pump beside the drain pushing the same range again.
    expect(proxy.seen.duplicates).toBe(0);
    const all: string[] = [];
    for (let p = 0; p < 3; p++) {
      const recs = await readAll(server.url, token, 'drained', p);
      const seq = recs.map((r) => Number(r.value!.slice(1)));
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
      all.push(...recs.map((r) => r.value!));
    }
    expect(new Set(all).size).toBe(total);
    expect(all).toHaveLength(total);
  });
});
