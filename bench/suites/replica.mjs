// The replica server suite (Node, no browser; run by bench/replica.mjs): ingest of pushed device batches over HTTP on
// loopback into the SQLite store and into a 3-node JetStream cluster, each beside the store's
// raw write of the same rows in the same round. Uses the built server in dist/node/.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { connect, StorageType } from 'nats';
import { startNatsCluster } from '../lib/nats-cluster.mjs';

const dist = new URL('../../dist/node/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);

const RECORDS = 100_000;
const PER_BATCH = 1000;
const BATCHES_PER_PUSH = 5;
const PARTITIONS = 3;
const DEVICES_PER_PARTITION = 2;
const SECRET = 'bench-secret';

/** The device side: 100 batches of 1,000 ~100-byte JSON records, round-robin over partitions. */
async function deviceBatches(topic) {
  const { encodeRecords } = await load('protocol/record-batch.js');
  const { crc32c } = await load('protocol/crc32c.js');
  const out = [];
  for (let b = 0; b < RECORDS / PER_BATCH; b++) {
    const messages = Array.from({ length: PER_BATCH }, (_, i) => ({
      key: `user-${(b * PER_BATCH + i) % 997}`,
      value: { id: b * PER_BATCH + i, kind: 'click', path: '/products/42', at: 1_700_000_000_000 + i, ok: true },
    }));
    const enc = encodeRecords(messages, 1_700_000_000_000);
    out.push({
      topic, partition: b % PARTITIONS, baseOffset: b * PER_BATCH, lastOffsetDelta: PER_BATCH - 1, producerId: 0, producerEpoch: 0,
      baseSequence: b * PER_BATCH, count: enc.count, firstTimestamp: enc.firstTimestamp, maxTimestamp: enc.maxTimestamp,
      crc: crc32c(enc.payload), payload: enc.payload,
    });
  }
  return out;
}

/**
 * Push frames (gzip) as devices' sync agents send them: DEVICES_PER_PARTITION devices write to
 * each partition, each device's frames in order; returns one list of frames per device.
 */
async function frames(batches, deviceId) {
  const { encodePushFrame } = await load('protocol/replica-wire.js');
  const byDevice = Array.from({ length: PARTITIONS * DEVICES_PER_PARTITION }, () => []);
  batches.forEach((b, i) => byDevice[b.partition * DEVICES_PER_PARTITION + (Math.floor(i / PARTITIONS) % DEVICES_PER_PARTITION)].push(b));
  return byDevice.map((list, d) => {
    const out = [];
    for (let i = 0; i < list.length; i += BATCHES_PER_PUSH) out.push(gzipSync(encodePushFrame({ deviceId: `${deviceId}-${d}`, batches: list.slice(i, i + BATCHES_PER_PUSH) }), { level: 1 }));
    return out;
  });
}

async function startHttp(store) {
  const { createReplicaHttpServer } = await load('replica/http-server.js');
  const { createAuthenticator, mintToken } = await load('replica/auth.js');
  const { createLogger } = await load('replica/log.js');
  const http = createReplicaHttpServer({ store, auth: createAuthenticator({ secret: SECRET }), logger: createLogger('error') });
  const url = await http.listen('127.0.0.1', 0);
  return { http, url, token: await mintToken(SECRET, 'bench') };
}

/** Pushes every device's frames, one request in flight per device; returns elapsed ms and bytes sent. */
async function pushAll(url, token, perPartition) {
  const { PUSH_CONTENT_TYPE } = await load('protocol/replica-wire.js');
  let bytes = 0;
  const t0 = performance.now();
  await Promise.all(perPartition.map(async (list) => {
    for (const body of list) {
      bytes += body.length;
      const res = await fetch(`${url}/v1/push`, { method: 'POST', body, headers: { 'Content-Type': PUSH_CONTENT_TYPE, 'Content-Encoding': 'gzip', Authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`push answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  }));
  return { ms: performance.now() - t0, bytes };
}

/** (h) SQLite: HTTP push into a fresh store vs rawInsert of the same rows in the same transaction sizes. */
async function sqliteIngest(_env, { rounds }) {
  const { SqliteStore } = await load('replica/stores/sqlite-store.js');
  const out = [];
  for (let r = 0; r < rounds; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-sqlite-'));
    const batches = await deviceBatches('clicks');
    const perPartition = await frames(batches, `bench-${r}`);
    const store = new SqliteStore({ dataDir: join(dir, 'replica') });
    const { http, url, token } = await startHttp(store);
    const { ms, bytes } = await pushAll(url, token, perPartition);
    await http.close();

    const raw = new SqliteStore({ dataDir: join(dir, 'raw') });
    const rows = batches.map((b, i) => ({ tenant: 'bench', topic: b.topic, partition: b.partition, baseOffset: i * PER_BATCH, batch: { ...b, dedupe: null } }));
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += BATCHES_PER_PUSH) raw.rawInsert(rows.slice(i, i + BATCHES_PER_PUSH));
    const rawMs = performance.now() - t0;
    await raw.close();
    rmSync(dir, { recursive: true, force: true });
    out.push({ ingest: RECORDS / (ms / 1000), raw: RECORDS / (rawMs / 1000), mbps: bytes / (ms / 1000) / 1e6 });
  }
  return out;
}

/** (i) JetStream (3-node cluster, R3): HTTP push vs raw publishes of the same payloads, one in flight per partition. */
async function jetstreamIngest(_env, { rounds }) {
  const { JetStreamStore } = await load('replica/stores/jetstream-store.js');
  const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-nats-'));
  const cluster = await startNatsCluster(dir);
  const out = [];
  try {
    const store = await JetStreamStore.connect({ servers: cluster.urls });
    const { http, url, token } = await startHttp(store);
    const nc = await connect({ servers: cluster.urls });
    const jsm = await nc.jetstreamManager({ timeout: 20_000 });
    const js = nc.jetstream({ timeout: 20_000 });
    try {
      for (let r = 0; r < rounds; r++) {
        const topic = `clicks-${r}`;
        const batches = await deviceBatches(topic);
        // Topic streams exist before timing (as for a topic in use).
        await store.ensureTopic('bench', topic, PARTITIONS);
        const perPartition = await frames(batches, `bench-${r}`);
        const { ms, bytes } = await pushAll(url, token, perPartition);

        for (let p = 0; p < PARTITIONS; p++) await jsm.streams.add({ name: `RAW_${r}_${p}`, subjects: [`raw.${r}.${p}`], num_replicas: 3, storage: StorageType.File });
        const byPartition = Array.from({ length: PARTITIONS }, (_, p) => batches.filter((b) => b.partition === p));
        const t0 = performance.now();
        await Promise.all(byPartition.map(async (list, p) => { for (const b of list) await js.publish(`raw.${r}.${p}`, b.payload); }));
        const rawMs = performance.now() - t0;
        out.push({ ingest: RECORDS / (ms / 1000), raw: RECORDS / (rawMs / 1000), mbps: bytes / (ms / 1000) / 1e6 });
      }
    } finally {
      await nc.close();
      await http.close();
    }
  } finally {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export const replicaSuite = {
  name: 'replica',
  title: 'Replica server (Node): ingest of pushed device batches',
  cases: [
    {
      id: 'h',
      name: 'replica-sqlite',
      title: '(h) replica ingest on SQLite: 100k records pushed over HTTP',
      description:
        `100,000 ~100-byte JSON records in ${RECORDS / PER_BATCH} device batches of ${PER_BATCH}, encoded by the record-batch codec, pushed as gzip push frames ` +
        `of ${BATCHES_PER_PUSH} batches (${DEVICES_PER_PARTITION} devices per partition, one request in flight per device, ${PARTITIONS} partitions) to the replica server on loopback: decode, CRC-32C, record checks, ` +
        'dedupe lookup, dense offsets, WAL + synchronous=FULL commit. Baseline: the same rows written straight into the same schema (SqliteStore.rawInsert), ' +
        `${BATCHES_PER_PUSH} batches per transaction, in the same round.`,
      run: (env, o) => sqliteIngest(env, o),
      maxRounds: 5,
      rows: [
        { label: '(h) replica ingest, SQLite', metric: 'ingest', baseline: 'raw', unit: 'records/s', goal: { kind: 'min', value: 50_000 } },
        { label: '(h) replica ingest, SQLite (request bytes)', metric: 'mbps', unit: 'MB/s' },
      ],
    },
    {
      id: 'i',
      name: 'replica-jetstream',
      title: '(i) replica ingest on a 3-node JetStream cluster: 100k records pushed over HTTP',
      description:
        'The same pushes into the JetStream store (nats-server cluster of 3 on loopback, R3 file streams, one stream per partition; each batch is a dedupe lookup ' +
        'on the stream leader plus a publish with Nats-Expected-Last-Sequence). Baseline: the same payloads published raw to R3 streams, one publish in flight per ' +
        'partition, in the same round.',
      run: (env, o) => jetstreamIngest(env, o),
      maxRounds: 3,
      rows: [
        { label: '(i) replica ingest, JetStream R3', metric: 'ingest', baseline: 'raw', unit: 'records/s', goal: { kind: 'min', value: 100_000 } },
        { label: '(i) replica ingest, JetStream (request bytes)', metric: 'mbps', unit: 'MB/s' },
      ],
    },
  ],
};
