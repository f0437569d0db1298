// The JetStream store against a real 3-node nats-server cluster on loopback, through the real
// HTTP server: dense offsets and exactly-once with two replica servers racing, then one node
// stopped while devices keep pushing (issue 8, Must show 3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamStore } from '../../src/replica/stores/jetstream-store.js';
import type { PushBatch } from '../../src/protocol/replica-wire.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'nats';
import { join } from 'node:path';
import { mintToken } from '../../src/replica/auth.js';
import { deviceBatch, exited, push, readAll, ROOT, SECRET, spawnServer, startServer, tempDir, texts } from './helpers.js';
import { startNatsCluster, type NatsCluster } from './nats-cluster.js';

let cluster: NatsCluster;
const servers: Awaited<ReturnType<typeof startServer>>[] = [];

beforeAll(async () => {
  cluster = await startNatsCluster(tempDir('lanes-nats-'));
  for (let i = 0; i < 2; i++) {
    // Each replica server has its own connection, listing the nodes in a different order.
    const urls = i === 0 ? cluster.urls : [...cluster.urls].reverse();
    servers.push(await startServer({ store: await JetStreamStore.connect({ servers: urls, retryForMs: 60_000 }) }));
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.http.close()));
  await cluster?.close();
});

/** Pushes until acknowledged (a device's sync loop): network errors and 5xx are retried, alternating servers. */
async function pushUntilAcked(token: string, device: string, batches: PushBatch[], start: number) {
  for (let attempt = 0; ; attempt++) {
    const s = servers[(start + attempt) % servers.length]!;
    try {
      const r = await push(s.url, token, device, batches, { gzip: attempt % 2 === 1 });
      if (r.status === 200) return r.body.results;
      if (r.status < 500) throw new Error(`refused ${r.status}: ${JSON.stringify(r.body)}`);
    } catch (e) {
      if ((e as Error).message.startsWith('refused')) throw e;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}

describe('JetStream store on a 3-node cluster', () => {
  it('two servers racing the same batches: dense offsets, each batch once, original offsets on retry', async () => {
    const token = await servers[0]!.token('race');
    const batches = Array.from({ length: 20 }, (_, i) => deviceBatch(texts('r', i * 5, 5), { topic: 'race', baseOffset: i * 5, baseSequence: i * 5 }));
    // The same device frame sent to both servers at once, twice.
    const answers = await Promise.all([0, 1, 0, 1].map((s) => push(servers[s]!.url, token, 'dev-r', batches)));
    for (const a of answers) expect(a.status).toBe(200);
    const offsets = answers.map((a) => a.body.results.map((r) => r.replicaBaseOffset));
    for (const o of offsets) expect(o).toEqual(offsets[0]);
    expect(offsets[0]).toEqual(Array.from({ length: 20 }, (_, i) => i * 5));
    expect(answers.flatMap((a) => a.body.results).filter((r) => !r.duplicate)).toHaveLength(20);
    const all = await readAll(servers[1]!.url, token, 'race', 0, 7);
    expect(all.map((r) => r.value)).toEqual(Array.from({ length: 100 }, (_, i) => `r-${i}`));
    expect(all.map((r) => Number(r.offset))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // the same batch twice in one frame is stored once
    const twice = deviceBatch(texts('t', 0, 2), { topic: 'race', baseOffset: 500, baseSequence: 500 });
    const tw = await push(servers[0]!.url, token, 'dev-r', [twice, twice]);
    expect(tw.body.results.map((r) => [r.replicaBaseOffset, r.duplicate])).toEqual([[100, false], [100, true]]);
    // groups, producer ids and topics live in JetStream
    const store = servers[0]!.store;
    await store.commitOffsets('race', 'g1', [{ topic: 'race', partition: 0, offset: 42, metadata: 'm' }]);
    expect(await servers[1]!.store.fetchOffsets('race', 'g1', null)).toEqual([{ topic: 'race', partition: 0, offset: 42, metadata: 'm' }]);
    expect(await servers[1]!.store.listGroups('race')).toEqual(['g1']);
    const ids = await Promise.all([store.allocateProducerId('race'), servers[1]!.store.allocateProducerId('race'), store.allocateProducerId('race')]);
    expect([...ids].sort()).toEqual([0, 1, 2]);
    expect(await store.lastSequence('race', 'device:dev-r', 0, 0, 'race', 0)).toBe(501);
  }, 120_000);

  it('a node stopped while devices push: nothing acknowledged is lost or doubled', async () => {
    const token = await servers[0]!.token('failover');
    const devices = 4, rounds = 24, per = 50, partitions = 3;
    // Create the topic's streams while every node is up.
    await pushUntilAcked(token, 'setup', Array.from({ length: partitions }, (_, p) => deviceBatch(texts('setup', p, 1), { topic: 'events', partition: p, baseOffset: p })), 0);
    const acked: { device: number; round: number; partition: number; replicaBaseOffset: number; duplicate: boolean }[] = [];
    let stopped = false;
    let stoppedNode = -1;
    const runDevice = async (d: number) => {
      for (let r = 0; r < rounds; r++) {
        const partition = (d + r) % partitions;
        const b = deviceBatch(texts(`d${d}`, r * per, per), { topic: 'events', partition, baseOffset: r * per, baseSequence: r * per, producerId: 7 });
        const [res] = await pushUntilAcked(token, `dev-${d}`, [b], d + r);
        acked.push({ device: d, round: r, partition, replicaBaseOffset: res!.replicaBaseOffset, duplicate: res!.duplicate });
        if (d === 0 && r === Math.floor(rounds / 3) && !stopped) {
          // Stop the node leading partition 0's stream (leader failover while devices push).
          stopped = true;
          const stream = `LANES_${createHash('sha256').update('failover\u0000events').digest('hex').slice(0, 20)}_0`;
          const nc = await connect({ servers: cluster.urls });
          const info = await (await nc.jetstreamManager()).streams.info(stream);
          await nc.close();
          stoppedNode = Number(info.cluster!.leader!.slice(1));
          await cluster.stop(stoppedNode, true);
        }
      }
    };
    await Promise.all(Array.from({ length: devices }, (_, d) => runDevice(d)));
    expect(stopped).toBe(true);
    expect(acked).toHaveLength(devices * rounds);

    let total = 0;
    for (let p = 0; p < partitions; p++) {
      const all = await readAll(servers[p % 2]!.url, token, 'events', p, 500);
      total += all.length;
      // dense
      expect(all.map((r) => Number(r.offset))).toEqual(all.map((_, i) => i));
      // each device's records in order, none twice
      for (let d = 0; d < devices; d++) {
        const mine = all.filter((r) => r.value!.startsWith(`d${d}-`)).map((r) => Number(r.value!.slice(`d${d}-`.length)));
        const expected = Array.from({ length: rounds }, (_, r) => r).filter((r) => (d + r) % partitions === p).flatMap((r) => Array.from({ length: per }, (_, i) => r * per + i));
        expect(mine).toEqual(expected);
      }
      // every acknowledged batch sits at its acknowledged offsets
      for (const a of acked.filter((x) => x.partition === p)) {
        const at = all.slice(a.replicaBaseOffset, a.replicaBaseOffset + per).map((r) => r.value);
        expect(at).toEqual(Array.from({ length: per }, (_, i) => `d${a.device}-${a.round * per + i}`));
      }
    }
    expect(total).toBe(partitions + devices * rounds * per);
    await cluster.start(stoppedNode);
  }, 240_000);

  it.skipIf(!existsSync(join(ROOT, 'dist', 'node', 'replica', 'cli.js')))('lanes-replica serve --store jetstream: a stateless server sees what the others wrote', async () => {
    const { child, url } = await spawnServer(['--secret', SECRET, '--store', 'jetstream', '--nats', cluster.urls.join(',')]);
    try {
      const token = await mintToken(SECRET, 'race');
      // the topic written through the in-process servers above
      const before = await readAll(url, token, 'race', 0);
      expect(before.length).toBe(102);
      const r = await push(url, token, 'dev-cli', [deviceBatch(texts('cli', 0, 3), { topic: 'race', baseOffset: 0 })]);
      expect(r.body.results[0]).toMatchObject({ replicaBaseOffset: 102, count: 3, duplicate: false });
      expect((await readAll(servers[0]!.url, token, 'race', 0)).slice(-3).map((x) => x.value)).toEqual(['cli-0', 'cli-1', 'cli-2']);
      expect(await (await fetch(`${url}/v1/health`)).json()).toEqual({ status: 'ok', store: 'jetstream' });
    } finally {
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
    }
  }, 60_000);
});
