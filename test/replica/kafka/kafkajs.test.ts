// KafkaJS 2.2.4 against the real replica server's Kafka listener (`--kafka-auth none`, SQLite):
// a consumer group of three reads every record exactly once with commits, survives a member
// leaving, resumes from committed offsets after a server restart; an idempotent producer
// writes records the HTTP records route (what devices mirror) serves.
import { Kafka, logLevel, type Consumer, type EachMessagePayload } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../../src/types.js';
import { pushRecords, readRecords, startReplica, type Replica } from './helpers.js';

const TOPIC = 'events';
const GROUP = 'kafkajs-group';

function kafkaFor(port: number): Kafka {
  return new Kafka({ clientId: 'kafkajs-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
}

const msgs = (from: number, n: number): Message[] => Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}`, timestamp: 1_700_000_000_000 + from + i }));

/** Pushes `n` records per partition as a device, from `from`; device offsets follow on. */
async function pushRound(r: Replica, from: number, n: number, device = 'device-k'): Promise<void> {
  const token = await r.token();
  await pushRecords(r, token, device, [0, 1, 2].map((p) => ({ topic: TOPIC, partition: p, baseOffset: from, messages: msgs(p * 1000 + from, n) })));
}

/** Waits until `pred()` holds, checking after every consumed message (and every 50 ms). */
async function until(pred: () => boolean, what: string, ms = 45_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('KafkaJS against the replica Kafka listener', () => {
  let r: Replica;
  const seen: { member: number; key: string; partition: number; offset: string }[] = [];
  const consumers: Consumer[] = [];

  async function startConsumer(kafka: Kafka, member: number): Promise<Consumer> {
    const c = kafka.consumer({ groupId: GROUP, sessionTimeout: 10_000, rebalanceTimeout: 15_000, heartbeatInterval: 300, maxWaitTimeInMs: 100 });
    await c.connect();
    await c.subscribe({ topic: TOPIC, fromBeginning: true });
    await c.run({
      autoCommitThreshold: 1,
      eachMessage: async ({ partition, message }: EachMessagePayload) => {
        seen.push({ member, key: message.key!.toString(), partition, offset: message.offset });
      },
    });
    return c;
  }

  beforeAll(async () => {
    r = await startReplica(['--kafka-auth', 'none']);
    const admin = kafkaFor(r.kafkaPort).admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }] })).toBe(true);
    await admin.disconnect();
  });
  afterAll(async () => {
    for (const c of consumers) await c.disconnect().catch(() => {});
    await r?.stop();
  });

  it('createTopics refuses more than 10,000 partitions (INVALID_PARTITIONS) and creates nothing', async () => {
    const admin = kafkaFor(r.kafkaPort).admin();
    await admin.connect();
    try {
      const e = await admin.createTopics({ topics: [{ topic: 'huge', numPartitions: 2 ** 31 - 1 }] }).then(() => null, (err: unknown) => err as { type?: string; errors?: { type?: string }[] });
      expect(e?.type ?? e?.errors?.[0]?.type).toBe('INVALID_PARTITIONS');
      expect(await admin.listTopics()).not.toContain('huge');
    } finally {
      await admin.disconnect();
    }
  });

  it('three consumers of one group read every record exactly once, with commits', async () => {

    const kafka = kafkaFor(r.kafkaPort);
    for (let m = 0; m < 3; m++) consumers.push(await startConsumer(kafka, m));
    const admin = kafka.admin();
    await admin.connect();
    // Records arrive once the group is stable with its three members (no rebalance mid-read).
    for (;;) {
      const { groups } = await admin.describeGroups([GROUP]);
      if (groups[0]!.state === 'Stable' && groups[0]!.members.length === 3) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    await pushRound(r, 0, 20);
    await until(() => seen.length >= 60, '60 records');
    const keys = seen.map((s) => s.key);
    expect(new Set(keys).size).toBe(60);
    expect(keys).toHaveLength(60);
    expect(new Set(seen.map((s) => s.member)).size).toBe(3); // each member owns one partition
    for (let p = 0; p < 3; p++) {
      expect(seen.filter((s) => s.partition === p).map((s) => s.key)).toEqual(msgs(p * 1000, 20).map((m) => m.key));
    }
    const committed = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    expect(committed[0]!.partitions.map((p) => p.offset).sort()).toEqual(['20', '20', '20']);
    await admin.disconnect();
  });

  it('survives a consumer leaving: the other two take over its partition from its committed offset', async () => {
    const leaving = consumers.shift()!;
    await leaving.disconnect();
    await pushRound(r, 20, 10);
    await until(() => seen.length >= 90, '90 records');
    const later = seen.slice(60);
    expect(later.map((s) => s.key).sort()).toEqual([0, 1, 2].flatMap((p) => msgs(p * 1000 + 20, 10).map((m) => m.key as string)).sort());
    expect(later.every((s) => s.member !== 0)).toBe(true);
    expect(new Set(seen.map((s) => s.key)).size).toBe(90);
  });

  it('resumes from the committed offsets after the server restarts', async () => {
    for (const c of consumers.splice(0)) await c.disconnect();
    await r.stop(false);
    r = await startReplica(['--kafka-auth', 'none'], r.dataDir);
    await pushRound(r, 30, 5);
    const before = seen.length;
    const kafka = kafkaFor(r.kafkaPort);
    consumers.push(await startConsumer(kafka, 3));
    await until(() => seen.length >= before + 15, '15 new records');
    // Per partition records arrive in offset order: had the group restarted below its
    // committed offsets, older records would come first.
    const fresh = seen.slice(before, before + 15);
    expect(fresh.map((s) => s.key).sort()).toEqual([0, 1, 2].flatMap((p) => msgs(p * 1000 + 30, 5).map((m) => m.key as string)).sort());
    expect(fresh.map((s) => Number(s.offset)).every((o) => o >= 30)).toBe(true);
  });

  it('an idempotent producer writes records the HTTP records route serves, once each', async () => {
    const producer = kafkaFor(r.kafkaPort).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = Array.from({ length: 25 }, (_, i) => ({ key: `p${i}`, value: JSON.stringify({ i }), headers: { origin: 'kafkajs' }, partition: 2 }));
    const result = await producer.send({ topic: TOPIC, messages: sent, acks: -1 });
    await producer.send({ topic: TOPIC, messages: [{ key: 'bin', value: Buffer.from([0xff, 0x00, 0x7f]), partition: 2 }] });
    await producer.disconnect();
    expect(result[0]!.baseOffset).toBe('35');
    const records = await readRecords(r, await r.token(), TOPIC, 2);
    const tail = records.slice(35);
    expect(tail.map((x) => [x.offset, x.key, x.value, x.headers])).toEqual([
      ...sent.map((m, i) => [String(35 + i), m.key, m.value, { origin: 'kafkajs' }]),
      ['60', 'bin', Buffer.from([0xff, 0x00, 0x7f]).toString('base64'), {}],
    ]);
    expect(tail[25]!.valueEncoding).toBe('base64');
  });
});
