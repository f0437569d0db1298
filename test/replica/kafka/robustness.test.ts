// Robustness of the replica's Kafka listener (real server, SQLite): 10,000 fuzzed frames, an
// oversized frame, a stalled client, unsupported versions, a retried idempotent batch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as M from '../../../src/replica/kafka/messages.js';
import { encodeBatch } from '../../../src/replica/kafka/record-batch.js';
import { decodeMessage, encodeMessage } from '../../../src/replica/kafka/schema.js';
import { Reader, Writer } from '../../../src/replica/kafka/wire.js';
import { fuzzFrames, runFuzz } from './fuzz.js';
import { kcat, pushRecords, readRecords, startReplica, topicsOf, type Replica } from './helpers.js';
import { call, RawKafkaConnection, requestFrame } from './raw-client.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261128);

describe('Kafka listener robustness', () => {
  let r: Replica;
  let token: string;

  beforeAll(async () => {
    r = await startReplica(['--kafka-auth', 'none', '--kafka-request-timeout-ms', '300', '--kafka-max-pending-bytes', '65536']);
    token = await r.token();
    await pushRecords(r, token, 'device-f', [0, 1].map((p) => ({ topic: 'orders', partition: p, baseOffset: 0, messages: [{ key: `k${p}`, value: `v${p}` }] })));
  });
  afterAll(async () => { await r?.stop(); });

  it(`answers 10,000 fuzzed frames (seed ${SEED}) with an error or a closed connection; the listener stays up and the store is unchanged`, async () => {
    const before = JSON.stringify([await topicsOf(r, token), await readRecords(r, token, 'orders', 0), await readRecords(r, token, 'orders', 1)]);
    const report = await runFuzz(r.kafkaPort, fuzzFrames(SEED, 10_000));
    expect(report.violations).toEqual([]);
    expect(report.answered + report.closed + report.silent.length).toBe(10_000);
    expect(report.answered).toBeGreaterThan(1000);
    expect(report.closed).toBeGreaterThan(1000);
    // Only Produce with acks=0 may legitimately go unanswered.
    expect(report.silent.filter((k) => k !== 0)).toEqual([]);
    const after = JSON.stringify([await topicsOf(r, token), await readRecords(r, token, 'orders', 0), await readRecords(r, token, 'orders', 1)]);
    expect(after).toBe(before);
    expect(await kcat(['-b', `127.0.0.1:${r.kafkaPort}`, '-L'])).toContain('topic "orders" with 2 partitions');
    const metrics = await (await fetch(`${r.http}/v1/metrics`, { headers: { Authorization: `Bearer ${token}` } })).text();
    expect(metrics).toMatch(/lanes_replica_kafka_requests_total\{api="18"\} \d+/);
    expect(metrics).toMatch(/lanes_replica_kafka_connections_closed_total\{reason="frame size"\} \d+/);
  });

  it('answers an ApiVersions of an unknown version with its v0 error body, and an unknown API with UNSUPPORTED_VERSION', async () => {
    const c = await RawKafkaConnection.open(r.kafkaPort);
    c.write(requestFrame(18, 9, 7, new Uint8Array(0)));
    const av = await c.next();
    expect(av.kind).toBe('response');
    const body = decodeMessage(M.ApiVersionsResponse, 0, new Reader((av as { body: Buffer }).body));
    expect(body).toMatchObject({ errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] });
    c.write(requestFrame(57, 0, 8, new Uint8Array(12)));
    const un = await c.next();
    expect(un).toMatchObject({ kind: 'response', correlationId: 8 });
    expect((un as { body: Buffer }).body.readInt16BE(0)).toBe(35);
    // The connection is still usable.
    expect(await call(c, M.ApiVersionsRequest, M.ApiVersionsResponse, 2, {}, 9)).toMatchObject({ errorCode: 0 });
    c.close();
  });

  it('closes a connection whose frame is over the size limit, and one that stalls mid-frame, while others are served', async () => {
    const big = await RawKafkaConnection.open(r.kafkaPort);
    const head = Buffer.alloc(4);
    head.writeInt32BE(64 * 1024 * 1024 + 1);
    big.write(head);
    expect(await big.next()).toEqual({ kind: 'closed' });
    const slow = await RawKafkaConnection.open(r.kafkaPort);
    slow.write(requestFrame(18, 0, 1, new Uint8Array(0)).subarray(0, 9)); // 9 of its 18 bytes, then nothing
    const other = await RawKafkaConnection.open(r.kafkaPort);
    expect(await call(other, M.MetadataRequest, M.MetadataResponse, 1, { topics: null }, 1)).toMatchObject({ topics: [{ name: 'orders' }] });
    expect(await slow.next()).toEqual({ kind: 'closed' }); // after --kafka-request-timeout-ms
    expect(await call(other, M.ApiVersionsRequest, M.ApiVersionsResponse, 0, {}, 2)).toMatchObject({ errorCode: 0 });
    other.close();
  });

  it('a client that does not read its responses is held back, others are served, and it gets every answer in order once it reads', async () => {
    const big = Array.from({ length: 2000 }, (_, i) => ({ key: `b${i}`, value: 'x'.repeat(200) }));
    await pushRecords(r, token, 'device-big', [{ topic: 'big', partition: 0, baseOffset: 0, messages: big }]);
    const slow = await RawKafkaConnection.open(r.kafkaPort);
    const w = new Writer();
    encodeMessage(M.FetchRequest, 11, { maxWaitMs: 0, minBytes: 0, topics: [{ topic: 'big', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' }, w);
    const body = w.finish().slice();
    slow.pause();
    for (let i = 1; i <= 200; i++) slow.write(requestFrame(1, 11, i, body)); // ~90 MB of answers
    const other = await RawKafkaConnection.open(r.kafkaPort);
    expect(await call(other, M.MetadataRequest, M.MetadataResponse, 1, { topics: [{ name: 'big' }] }, 1)).toMatchObject({ topics: [{ name: 'big', errorCode: 0 }] });
    other.close();
    slow.resume();
    for (let i = 1; i <= 200; i++) {
      const res = await slow.next();
      expect(res).toMatchObject({ kind: 'response', correlationId: i });
    }
    slow.close();
  });

  it('stores a retried idempotent batch once and answers the retry with its original offset', async () => {
    const c = await RawKafkaConnection.open(r.kafkaPort);
    const init = await call(c, M.InitProducerIdRequest, M.InitProducerIdResponse, 1, { transactionalId: null, transactionTimeoutMs: 60_000 }, 1);
    expect(init.errorCode).toBe(0);
    const batch = (seq: number, value: string) => {
      const w = new Writer();
      encodeBatch(w, [{ offset: 0, timestamp: Date.now(), key: null, value: new TextEncoder().encode(value), headers: [] }],
        { producerId: init.producerId, producerEpoch: init.producerEpoch, baseSequence: seq });
      return w.finish().slice();
    };
    const produce = (records: Uint8Array, id: number) => call(c, M.ProduceRequest, M.ProduceResponse, 7,
      { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'orders', partitionData: [{ index: 1, records }] }] }, id);
    const first = await produce(batch(0, 'once'), 2);
    const retry = await produce(batch(0, 'once'), 3);
    const gap = await produce(batch(5, 'gap'), 4);
    expect(first.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 1 });
    expect(retry.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 1 });
    expect(gap.responses[0].partitionResponses[0].errorCode).toBe(45); // OUT_OF_ORDER_SEQUENCE_NUMBER
    expect((await readRecords(r, token, 'orders', 1)).map((x) => x.value)).toEqual(['v1', 'once']);
    c.close();
  });
});
