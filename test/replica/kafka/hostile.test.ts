// Hostile requests to the replica's Kafka listener (real listener and SQLite store, in process):
// a gzip bomb in a Produce, oversized frames before authentication, timestamps inside a batch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KafkaGroups } from '../../../src/replica/kafka/groups.js';
import { crc32c } from '../../../src/protocol/crc32c.js';
import * as M from '../../../src/replica/kafka/messages.js';
import { startKafkaListener, type KafkaListener } from '../../../src/replica/kafka/listener.js';
import { encodeBatch, type KafkaRecord } from '../../../src/replica/kafka/record-batch.js';
import { encodeMessage } from '../../../src/replica/kafka/schema.js';
import { Writer } from '../../../src/replica/kafka/wire.js';
import { SqliteStore } from '../../../src/replica/stores/sqlite-store.js';
import { connect } from 'node:net';
import { call, RawKafkaConnection, requestFrame } from './raw-client.js';

const produce = (c: RawKafkaConnection, topic: string, records: Uint8Array, id: number) => call(c, M.ProduceRequest, M.ProduceResponse, 7,
  { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] }, id);

/** A Kafka batch of `records`, as a producer sends it. */
function batch(records: KafkaRecord[]): Uint8Array {
  const w = new Writer();
  encodeBatch(w, records);
  return w.finish().slice();
}

/** A gzip batch whose records section is `plain` (any bytes) compressed. */
function gzipBatch(plain: Uint8Array): Uint8Array {
  const head = Buffer.from(batch([{ offset: 0, timestamp: 1, key: null, value: null, headers: [] }]).subarray(0, 61));
  const out = Buffer.concat([head, gzipSync(plain)]);
  out.writeInt16BE(1, 21); // attributes: gzip
  out.writeInt32BE(out.length - 12, 8);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}

describe('Kafka listener against hostile requests', () => {
  let dir: string;
  let store: SqliteStore;
  let open: KafkaListener;
  let sasl: KafkaListener;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lanes-kafka-hostile-'));
    store = new SqliteStore({ dataDir: dir });
    open = await startKafkaListener({ store, auth: 'none', maxFrameBytes: 4 << 20 });
    sasl = await startKafkaListener({ store, auth: { verify: async (tenant, token) => tenant === 'default' && token === 'good' }, maxFrameBytes: 4 << 20 });
    await store.ensureTopic('default', 'bombs', 1);
    await store.ensureTopic('default', 'times', 1);
    await store.ensureTopic('default', 'sizes', 1);
  });
  afterAll(async () => {
    await open?.close();
    await sasl?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a gzip batch that inflates beyond the frame limit with MESSAGE_TOO_LARGE, stores nothing and keeps serving', async () => {
    const c = await RawKafkaConnection.open(open.port);
    // 64 MiB of zeros gzip to ~64 KiB: well inside the 4 MiB frame limit.
    const bomb = gzipBatch(new Uint8Array(64 << 20));
    expect(bomb.length).toBeLessThan(4 << 20);
    const res = await produce(c, 'bombs', bomb, 1);
    expect(res.responses[0].partitionResponses[0]).toMatchObject({ index: 0, errorCode: 10, baseOffset: -1 });
    expect((await store.watermarks('default', 'bombs'))[0]!.high).toBe(0);
    // A gzip batch of real records inside the limit is still taken.
    const plain = batch([{ offset: 0, timestamp: 5, key: null, value: new TextEncoder().encode('ok'), headers: [] }]).subarray(61);
    const ok = await produce(c, 'bombs', gzipBatch(plain), 2);
    expect(ok.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0 });
    c.close();
  });

  it('before SASL authentication, closes a connection whose frame is over 512 KiB; after it, the frame limit applies', async () => {
    // An ApiVersions request (allowed before authentication) padded to 600 KiB.
    const padded = requestFrame(18, 0, 1, new Uint8Array(600 << 10));
    const pre = await RawKafkaConnection.open(sasl.port);
    pre.write(padded);
    expect(await pre.next()).toEqual({ kind: 'closed' });
    // The same request small is answered before authentication.
    const small = await RawKafkaConnection.open(sasl.port);
    expect(await call(small, M.ApiVersionsRequest, M.ApiVersionsResponse, 0, {}, 1)).toMatchObject({ errorCode: 0 });
    // Authenticated, the connection takes frames up to --kafka-max-frame-bytes.
    expect(await call(small, M.SaslHandshakeRequest, M.SaslHandshakeResponse, 1, { mechanism: 'PLAIN' }, 2)).toMatchObject({ errorCode: 0 });
    const auth = await call(small, M.SaslAuthenticateRequest, M.SaslAuthenticateResponse, 1, { authBytes: new TextEncoder().encode('\u0000default\u0000good') }, 3);
    expect(auth.errorCode).toBe(0);
    small.write(requestFrame(18, 0, 4, new Uint8Array(600 << 10)));
    expect(await small.next()).toMatchObject({ kind: 'response', correlationId: 4 });
    small.close();
  });

  it('ListOffsets by timestamp answers the first record at or after it, inside a batch, with its timestamp', async () => {
    const c = await RawKafkaConnection.open(open.port);
    const rec = (offset: number, timestamp: number): KafkaRecord => ({ offset, timestamp, key: null, value: new Uint8Array([offset]), headers: [] });
    // Two batches: offsets 0-3 at 1000, 1100, 1200, 1300; offsets 4-5 at 2000, 1900 (out of order, as Kafka allows).
    expect((await produce(c, 'times', batch([rec(0, 1000), rec(1, 1100), rec(2, 1200), rec(3, 1300)]), 1)).responses[0].partitionResponses[0].errorCode).toBe(0);
    expect((await produce(c, 'times', batch([rec(0, 2000), rec(1, 1900)]), 2)).responses[0].partitionResponses[0].errorCode).toBe(0);
    const at = async (timestamp: number, id: number) => (await call(c, M.ListOffsetsRequest, M.ListOffsetsResponse, 1,
      { replicaId: -1, topics: [{ name: 'times', partitions: [{ partitionIndex: 0, timestamp }] }] }, id)).topics[0].partitions[0];
    expect(await at(0, 3)).toMatchObject({ errorCode: 0, offset: 0, timestamp: 1000 });
    expect(await at(1100, 4)).toMatchObject({ errorCode: 0, offset: 1, timestamp: 1100 });
    expect(await at(1250, 5)).toMatchObject({ errorCode: 0, offset: 3, timestamp: 1300 });
    expect(await at(1950, 6)).toMatchObject({ errorCode: 0, offset: 4, timestamp: 2000 });
    expect(await at(2001, 7)).toMatchObject({ errorCode: 0, offset: -1, timestamp: -1 });
    c.close();
  });

  it('Produce keeps the limits of a device push: a record over 1 MiB, a key over 4 KiB or 65 headers answer MESSAGE_TOO_LARGE and store nothing', async () => {
    const c = await RawKafkaConnection.open(open.port);
    const bytes = (n: number) => new Uint8Array(n).fill(120);
    const one = (r: Partial<KafkaRecord>) => batch([{ offset: 0, timestamp: 1, key: null, value: null, headers: [], ...r }]);
    let id = 0;
    for (const records of [
      one({ value: bytes((1 << 20) + 1) }),
      one({ key: bytes(4097), value: bytes(1) }),
      one({ value: bytes(1), headers: Array.from({ length: 65 }, (_, i) => ({ key: `h${i}`, value: bytes(1) })) }),
    ]) {
      const res = await produce(c, 'sizes', records, ++id);
      expect(res.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 10, baseOffset: -1 });
    }
    expect((await store.watermarks('default', 'sizes'))[0]!.high).toBe(0);
    // At the limits, taken.
    const ok = await produce(c, 'sizes', one({ key: bytes(4096), value: bytes(1 << 19), headers: [{ key: 'h', value: bytes(10) }] }), ++id);
    expect(ok.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0 });
    c.close();
  });

  it('an authenticated client pipelining requests behind a long poll is read about one frame ahead, not 64 frames; every request is answered in order', async () => {
    const small = await startKafkaListener({ store, auth: 'none', maxFrameBytes: 1 << 20 });
    try {
      await store.ensureTopic('default', 'piped', 1);
      const fetchBody = new Writer();
      encodeMessage(M.FetchRequest, 11, { maxWaitMs: 1000, minBytes: 1, maxBytes: 1 << 20, topics: [{ topic: 'piped', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' }, fetchBody);
      const produceBody = new Writer();
      encodeMessage(M.ProduceRequest, 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'other', partitionData: [{ index: 0, records: batch([{ offset: 0, timestamp: 1, key: null, value: new Uint8Array(1000 << 10), headers: [] }]) }] }] }, produceBody);
      const produceFrame = requestFrame(0, 7, 0, produceBody.finish());
      const socket = connect(small.port, '127.0.0.1');
      await new Promise<void>((r) => socket.once('connect', () => r()));
      const answers: number[] = [];
      let buf = Buffer.alloc(0);
      let fetched: () => void;
      const fetchAnswered = new Promise<void>((r) => { fetched = r; });
      let allAnswered: () => void;
      const all = new Promise<void>((r) => { allAnswered = r; });
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 8 && buf.length >= 4 + buf.readInt32BE(0)) {
          answers.push(buf.readInt32BE(4));
          buf = buf.subarray(4 + buf.readInt32BE(0));
          if (answers.length === 1) fetched();
          if (answers.length === 41) allAnswered();
        }
      });
      // A fetch that waits a second at the log end, then 40 produce requests of 1 MB each.
      socket.write(requestFrame(1, 11, 1, fetchBody.finish()));
      for (let i = 0; i < 40; i++) {
        const f = Buffer.from(produceFrame);
        f.writeInt32BE(100 + i, 8);
        socket.write(f);
      }
      await fetchAnswered;
      // While the fetch waited, the listener read about one frame ahead: most of the 40 MB is
      // still in this client's socket (and the kernel's buffers), not in the server's memory.
      expect(socket.writableLength).toBeGreaterThan(16 << 20);
      await all;
      expect(answers).toEqual([1, ...Array.from({ length: 40 }, (_, i) => 100 + i)]);
      socket.destroy();
      // A frame of exactly the limit, sent in small pieces, is read whole and answered.
      const c = await RawKafkaConnection.open(small.port);
      const whole = requestFrame(18, 0, 7, new Uint8Array((1 << 20) - 10 - 4));
      expect(whole.length).toBe(4 + (1 << 20));
      for (let at = 0; at < whole.length; at += 64 << 10) c.write(whole.subarray(at, at + (64 << 10)));
      expect(await c.next()).toMatchObject({ kind: 'response', correlationId: 7 });
      c.close();
    } finally {
      await small.close();
    }
  });

  it('a SASL session ends when its token expires (sessionLifetimeMs says when); re-authenticating with a fresh token of the same tenant keeps the connection', async () => {
    const tokens: Record<string, number> = { short: 600, long: 60_000 };
    const expiring = await startKafkaListener({
      store, auth: { verify: async (tenant, token) => (tenant === 'default' && token in tokens ? { expiresAt: Date.now() + tokens[token]! } : false) },
    });
    const plain = (token: string, tenant = 'default') => new TextEncoder().encode(`\u0000${tenant}\u0000${token}`);
    const login = async (c: RawKafkaConnection, token: string, id: number, tenant?: string) => {
      expect(await call(c, M.SaslHandshakeRequest, M.SaslHandshakeResponse, 1, { mechanism: 'PLAIN' }, id)).toMatchObject({ errorCode: 0 });
      return call(c, M.SaslAuthenticateRequest, M.SaslAuthenticateResponse, 1, { authBytes: plain(token, tenant) }, id + 1);
    };
    try {
      const renewed = await RawKafkaConnection.open(expiring.port);
      const first = await login(renewed, 'short', 1);
      expect(first.errorCode).toBe(0);
      expect(first.sessionLifetimeMs).toBeGreaterThan(0);
      expect(first.sessionLifetimeMs).toBeLessThanOrEqual(600);
      const lapsed = await RawKafkaConnection.open(expiring.port);
      expect((await login(lapsed, 'short', 1)).errorCode).toBe(0);
      expect(await call(lapsed, M.MetadataRequest, M.MetadataResponse, 1, { topics: null }, 3)).toMatchObject({ brokers: [{ nodeId: 1 }] });
      // Re-authentication (KIP-368) with a fresh token: a new lifetime.
      const again = await login(renewed, 'long', 3);
      expect(again.errorCode).toBe(0);
      expect(again.sessionLifetimeMs).toBeGreaterThan(1000);
      // The session that was not renewed is closed once its token expires...
      expect(await lapsed.next()).toEqual({ kind: 'closed' });
      // ...which is after the renewed connection's first token expired: it is still served.
      expect(await call(renewed, M.MetadataRequest, M.MetadataResponse, 1, { topics: null }, 5)).toMatchObject({ brokers: [{ nodeId: 1 }] });
      // A re-authentication may not switch tenants.
      const other = await login(renewed, 'long', 6, 'globex');
      expect(other.errorCode).toBe(58);
      expect(await renewed.next()).toEqual({ kind: 'closed' });
    } finally {
      await expiring.close();
    }
  });

  it('a wall clock set back an hour neither stretches a Fetch long poll nor keeps a member whose session timed out', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const groups = new KafkaGroups();
    try {
      await store.ensureTopic('default', 'quiet', 1);
      const c = await RawKafkaConnection.open(open.port);
      const w = new Writer();
      encodeMessage(M.FetchRequest, 11, { maxWaitMs: 300, minBytes: 1, maxBytes: 1 << 20, topics: [{ topic: 'quiet', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' }, w);
      c.write(requestFrame(1, 11, 1, w.finish()));
      vi.setSystemTime(Date.now() - 3_600_000);
      // Answered empty after its 300 ms, not an hour later.
      expect(await c.next()).toMatchObject({ kind: 'response', correlationId: 1 });
      c.close();
      // A member that stops heartbeating is removed after its session timeout, whatever the clock did.
      groups.setTopics('acme', [{ topic: 'orders', partitions: 2 }]);
      const sub = new Writer().int16(0).int32(1).string('orders').bytes(null).finish().slice();
      const join = (memberId: string, sessionTimeoutMs: number) => groups.join('acme', {
        groupId: 'g', memberId, groupInstanceId: null, clientId: 'c', clientHost: '127.0.0.1', protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: sub }], sessionTimeoutMs, rebalanceTimeoutMs: 60_000,
      });
      const a = await join('', 300);
      expect(a.errorCode).toBe(0);
      vi.setSystemTime(Date.now() - 3_600_000);
      // b's round waits for a to rejoin (up to 60 s) or to be removed: its session ends first.
      const b = await join('member-b', 30_000);
      expect(b).toMatchObject({ errorCode: 0, generationId: 2 });
      expect(groups.describe('acme', 'g').members.map((m) => m.memberId)).toEqual(['member-b']);
    } finally {
      groups.close();
      vi.useRealTimers();
    }
  });
});
