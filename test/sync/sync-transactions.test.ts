// Sync and transactions, against the real replica server (in-process, SQLite) with the broker
// in-page on fake-indexeddb: the replica gets committed transactions only. An open
// transaction's records wait for its marker (nothing at or past the last stable offset is
// pushed), aborted records and markers arrive emptied, so no replica reader ever sees them.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { createClient, type Client, type SyncStatus } from '../../src/index.js';
import { readAll, startServer } from '../replica/helpers.js';
import { clients, servers, until } from './helpers.js';

const idle = (client: Client, pending = 0): Promise<SyncStatus> =>
  until('sync idle', async () => { const s = await client.sync.status(); return s.state === 'idle' && s.pendingRecords === pending ? s : false; });

describe('sync ships committed transactions only', () => {
  it('aborted records and markers never reach the replica as records; an open transaction waits for its commit', async () => {
    const server = await startServer();
    servers.push(server);
    const token = await server.token();
    const client = createClient({ clientId: 'd', database: 'txn-sync', broker: 'in-page', indexedDB: new IDBFactory(), IDBKeyRange, logCleanerIntervalMs: 0, sync: { url: server.url, token, lingerMs: 5 } });
    const admin = client.admin();
    const plain = client.producer();
    const tp = client.producer({ transactionalId: 'sync-tx', idempotent: true, maxInFlightRequests: 1 });
    clients.push(admin, plain, tp);
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'invoices', numPartitions: 1 }] });
    await plain.connect();
    await tp.connect();
    const t1 = await tp.transaction();
    await t1.send({ topic: 'invoices', messages: [{ value: 'aborted' }] });
    await t1.abort();
    const t2 = await tp.transaction();
    await t2.send({ topic: 'invoices', messages: [{ value: 'committed' }] });
    await t2.commit();
    const t3 = await tp.transaction();
    await t3.send({ topic: 'invoices', messages: [{ value: 'open' }] });
    await plain.send({ topic: 'invoices', messages: [{ value: 'behind-open' }] });
    // Offsets 0 aborted, 1 ABORT, 2 committed, 3 COMMIT; 4 open and 5 behind it wait.
    await until('the stable part replicated', async () => (await admin.fetchTopicOffsets('invoices'))[0]!.replicated === '4');
    const before = await readAll(server.url, token, 'invoices', 0);
    expect(before.map((r) => r.value)).toEqual(['committed']);
    await t3.commit();
    await idle(client);
    const after = await readAll(server.url, token, 'invoices', 0);
    // The replica numbers records its own way; what matters is which records it holds, in order.
    expect(after.map((r) => r.value)).toEqual(['committed', 'open', 'behind-open']);
  });

  it('a log compacted before its upload ships the same committed records: no aborted one, the last committed value of each key kept', async () => {
    const server = await startServer();
    servers.push(server);
    const token = await server.token();
    const indexedDB = new IDBFactory();
    const base = { clientId: 'd', database: 'txn-sync-compacted', broker: 'in-page' as const, indexedDB, IDBKeyRange, logCleanerIntervalMs: 0 };
    // Written and cleaned before sync is configured.
    const offline = createClient(base);
    const admin = offline.admin();
    const plain = offline.producer();
    const tp = offline.producer({ transactionalId: 'sync-tx', idempotent: true, maxInFlightRequests: 1 });
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kv', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '1' }] }] });
    await plain.connect();
    await tp.connect();
    await plain.send({ topic: 'kv', messages: [{ key: 'k', value: 'v1' }] }); // 0
    const t1 = await tp.transaction();
    await t1.send({ topic: 'kv', messages: [{ key: 'k', value: 'aborted' }] }); // 1
    await t1.abort(); // ABORT 2
    const t2 = await tp.transaction();
    await t2.send({ topic: 'kv', messages: [{ key: 'k', value: 'open' }] }); // 3, left open
    await plain.send({ topic: 'kv', messages: [{ key: 'z', value: 'z' }] }); // 4
    await admin.runLogCleaner({ topics: ['kv'] });
    await tp.disconnect();
    await plain.disconnect();
    await admin.disconnect();

    const client = createClient({ ...base, sync: { url: server.url, token, lingerMs: 5 } });
    const admin2 = client.admin();
    clients.push(admin2);
    await admin2.connect();
    // The stable part (below the open transaction at 3) goes up; k=v1 with it.
    await until('the stable part replicated', async () => (await admin2.fetchTopicOffsets('kv'))[0]!.replicated === '3');
    expect((await readAll(server.url, token, 'kv', 0)).map((r) => r.value)).toEqual(['v1']);
  });
});
