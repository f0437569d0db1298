// The Kafka listener on the JetStream store: the replica server (`--store jetstream`) in front
// of a 3-node nats-server cluster on loopback; kcat produces and consumes, a consumer group's
// committed offsets live in JetStream.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsCluster, type NatsCluster } from '../nats-cluster.js';
import { kcat, readRecords, startReplica, type Replica } from './helpers.js';

describe('Kafka listener on the JetStream store', () => {
  let cluster: NatsCluster;
  let r: Replica;
  let broker: string;

  beforeAll(async () => {
    cluster = await startNatsCluster(mkdtempSync(join(tmpdir(), 'lanes-kafka-nats-')));
    r = await startReplica(['--kafka-auth', 'none', '--store', 'jetstream', '--nats', cluster.urls.join(',')]);
    broker = `127.0.0.1:${r.kafkaPort}`;
  }, 120_000);
  afterAll(async () => {
    await r?.stop();
    await cluster?.close();
  });

  it('kcat produces to a topic created over Kafka, reads it back, and a group commits its offsets', async () => {
    const { Kafka, logLevel } = await import('kafkajs');
    const admin = new Kafka({ brokers: [broker], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: 'js-orders', numPartitions: 2 }] })).toBe(true);
    await kcat(['-b', broker, '-P', '-t', 'js-orders', '-p', '1', '-K', ':'], 'a:1\nb:2\nc:3\n');
    expect(await kcat(['-b', broker, '-C', '-t', 'js-orders', '-o', 'beginning', '-e', '-q', '-f', '%p %o %k %s\\n'])).toBe('1 0 a 1\n1 1 b 2\n1 2 c 3\n');
    expect((await readRecords(r, await r.token(), 'js-orders', 1)).map((x) => x.value)).toEqual(['1', '2', '3']);
    const group = ['-b', broker, '-G', 'js-group', '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', '%k\\n', 'js-orders'];
    expect(await kcat(group)).toBe('a\nb\nc\n');
    expect(await admin.fetchOffsets({ groupId: 'js-group', topics: ['js-orders'] })).toEqual([
      { topic: 'js-orders', partitions: expect.arrayContaining([expect.objectContaining({ partition: 1, offset: '3' })]) },
    ]);
    expect(await kcat(group)).toBe('');
    await admin.disconnect();
  });
});
