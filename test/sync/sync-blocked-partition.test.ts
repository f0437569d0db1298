// A batch the replica refuses for good (a record over the replica's record limit: 413 on every
// try) holds back its own partition only. The other partitions keep uploading without backing
// off, the status names the held partition, and the held batch is sent again only on a trigger
// that could change the answer (here `client.sync.retry()` after the replica's limit was raised).
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/index.js';
import { readAll, startServer } from '../replica/helpers.js';
import { clients, servers, until } from './helpers.js';

/** A pass-through proxy to `target()` that counts push requests by the status the replica answered. */
function countingProxy(target: () => string) {
  const answered = new Map<number, number>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url!, target());
    const out = request(u, { method: req.method, headers: { ...req.headers, host: u.host } }, (r) => {
      const body: Buffer[] = [];
      r.on('data', (c: Buffer) => body.push(c));
      r.on('end', () => {
        if (req.url!.startsWith('/v1/push')) answered.set(r.statusCode!, (answered.get(r.statusCode!) ?? 0) + 1);
        res.writeHead(r.statusCode!, { 'content-type': String(r.headers['content-type'] ?? '') }).end(Buffer.concat(body));
      });
    });
    out.on('error', () => res.writeHead(502).end());
    out.end(Buffer.concat(chunks));
  });
  return new Promise<{ url: string; answered: Map<number, number>; close(): Promise<void> }>((resolve) => server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as { port: number }).port;
    resolve({ url: `http://127.0.0.1:${port}`, answered, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) });
  }));
}

/** The records of a replica partition; none while the replica has no such topic yet. */
async function atReplica(url: string, token: string, topic: string, partition: number) {
  try {
    return await readAll(url, token, topic, partition);
  } catch (e) {
    if (String(e).includes('records 404')) return [];
    throw e;
  }
}

describe('sync agent: a batch the replica refuses for good', () => {
  it('holds back only its partition: the other partition uploads at full pace, the status names the held one, retry() sends it again', async () => {
    const server = await startServer();
    servers.push(server);
    const token = await server.token();
    let target = server.url;
    const proxy = await countingProxy(() => target);
    servers.push({ http: { close: () => proxy.close() } });
    const factory = new IDBFactory();
    const database = `held-${Math.random().toString(36).slice(2)}`;
    const client = createClient({
      clientId: 'd', database, broker: 'in-page', indexedDB: factory, IDBKeyRange, logCleanerIntervalMs: 0,
      sync: { url: proxy.url, token, lingerMs: 0 },
    });
    const admin = client.admin();
    const producer = client.producer();
    clients.push(admin, producer);
    await admin.connect();
    await producer.connect();
    // Locally a record may take 4 MiB; the replica takes 1 MiB per record.
    await admin.createTopics({ topics: [{ topic: 'mixed', numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: String(4 << 20) }] }] });
    const big = 'x'.repeat(2 << 20);
    await producer.send({ topic: 'mixed', messages: [{ partition: 0, value: big }] });
    await producer.send({ topic: 'mixed', messages: [{ partition: 1, value: 'a0' }, { partition: 1, value: 'a1' }] });

    const held = await until('partition 0 held', async () => {
      const s = await client.sync.status();
      return s.blocked.find((b) => b.topic === 'mixed' && b.partition === 0);
    });
    expect(held).toMatchObject({ topic: 'mixed', partition: 0, baseOffset: 0, code: 'RECORD_TOO_LARGE' });
    expect(held.message).toMatch(/1048576/);
    await until('partition 1 at the replica', async () => (await atReplica(server.url, token, 'mixed', 1)).length === 2);

    // Later records of partition 1 go at once, one after another; the held batch is not sent again.
    for (let i = 2; i < 8; i++) {
      await producer.send({ topic: 'mixed', messages: [{ partition: 1, value: `a${i}` }] });
      await until(`a${i} at the replica`, async () => (await atReplica(server.url, token, 'mixed', 1)).length === i + 1);
      const s = await client.sync.status();
      expect(s.retryAt).toBeNull();
    }
    expect(proxy.answered.get(413)).toBe(1);
    expect((await atReplica(server.url, token, 'mixed', 1)).map((r) => r.value)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']);
    expect(await atReplica(server.url, token, 'mixed', 0)).toEqual([]);
    const s = await client.sync.status();
    expect(s.topics.mixed).toMatchObject({ records: 1 });
    expect(s.blocked).toHaveLength(1);
    expect(s.lastError).toMatchObject({ kind: 'rejected', code: 'RECORD_TOO_LARGE' });
    const offsets = await admin.fetchTopicOffsets('mixed');
    expect(String(offsets.find((o) => o.partition === 0)!.replicated)).toBe('0');
    expect(String(offsets.find((o) => o.partition === 1)!.replicated)).toBe('8');

    // The replica's operator raises the limit (same store, new server); an explicit retry sends the held batch again.
    const raised = await startServer({ store: server.store, limits: { maxRecordBytes: 4 << 20 } });
    servers.push(raised);
    target = raised.url;
    await client.sync.retry();
    await until('partition 0 at the replica', async () => (await atReplica(raised.url, token, 'mixed', 0)).length === 1);
    await until('nothing held', async () => {
      const st = await client.sync.status();
      return st.blocked.length === 0 && st.pendingRecords === 0;
    });
    expect(proxy.answered.get(413)).toBe(1);
  });
});
