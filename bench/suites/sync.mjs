// The sync suite: uploading a backlog from the browser to the replica server on loopback, beside
// the same bytes POSTed raw with fetch in the same round. Uses the built bundle (dist/) and the
// built server (dist/node/).
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../../dist/node/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);
const RECORDS = 100_000;
const SECRET = 'bench-sync-secret';
let seq = 0;

/** A sink that reads request bodies and answers 204 (CORS open), for the raw baseline. */
function startSink() {
  const server = createServer((req, res) => {
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type', 'access-control-allow-methods': 'POST' };
    if (req.method === 'OPTIONS') { res.writeHead(204, cors).end(); return; }
    req.on('data', () => undefined);
    req.on('end', () => res.writeHead(204, cors).end());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}/sink`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) })));
}

async function startReplica() {
  const { createReplicaHttpServer } = await load('replica/http-server.js');
  const { createAuthenticator, mintToken } = await load('replica/auth.js');
  const { createLogger } = await load('replica/log.js');
  const { SqliteStore } = await load('replica/stores/sqlite-store.js');
  const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-sync-'));
  const store = new SqliteStore({ dataDir: dir });
  const http = createReplicaHttpServer({ store, auth: createAuthenticator({ secret: SECRET }), logger: createLogger('error'), allowOrigins: ['*'] });
  const url = await http.listen('127.0.0.1', 0);
  return { url, token: await mintToken(SECRET, 'bench'), close: async () => { await http.close(); rmSync(dir, { recursive: true, force: true }); } };
}

/** (s) upload of a 100k-record backlog vs the same bytes POSTed raw. */
async function uploadBacklog(env, { rounds }) {
  const replica = await startReplica();
  const sink = await startSink();
  const page = await env.openPage('/bench/sync.html');
  const call = (fn, ...args) => page.evaluate(([f, a]) => window.syncBench[f](...a), [fn, args]);
  const out = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const database = `bench-sync-${Date.now()}-${seq++}`;
      const { bytes } = await call('backlog', database, RECORDS);
      // Alternate which side goes first.
      const runLanes = () => call('upload', database, replica.url, replica.token, RECORDS);
      const runRaw = () => call('rawPost', sink.url, bytes, 1024 * 1024);
      let lanes, raw;
      if (r % 2 === 0) { lanes = await runLanes(); raw = await runRaw(); } else { raw = await runRaw(); lanes = await runLanes(); }
      out.push({
        lanes: RECORDS / (lanes.ms / 1000), raw: RECORDS / (raw.ms / 1000),
        lanesMBps: bytes / 1e6 / (lanes.ms / 1000), rawMBps: bytes / 1e6 / (raw.ms / 1000),
        bytes, lanesMs: lanes.ms, rawMs: raw.ms,
      });
    }
  } finally {
    await page.close();
    await sink.close();
    await replica.close();
  }
  return out;
}

/** @type {import('../lib/harness.mjs').Suite} */
export const syncSuite = {
  name: 'sync',
  title: 'Sync to the replica server, on loopback',
  page: '/bench/sync.html',
  cases: [
    {
      id: 's',
      name: 'upload',
      title: '(s) upload of a 100k-record backlog to the replica',
      description:
        '100k ~100-byte JSON records (3 partitions, 1,000 per send) written to a fresh database without sync; then a client with ' +
        '`sync: { url, token }` connects (broker in the page) and the time runs until the replica (SQLite store, in the bench process, ' +
        'loopback) acknowledged every record: the agent reads the stored batches, frames them (1 MiB requests), gzips them with ' +
        'CompressionStream and POSTs them with up to 4 requests open (`maxInFlightRequests`; per partition one on the wire and the next ' +
        'one read and gzipped meanwhile, different partitions in parallel); the replica checks CRCs and records and stores them. Baseline: the same number of ' +
        'bytes (the stored size of the backlog) POSTed raw with fetch in 1 MiB bodies, one at a time, to a Node sink that discards them.',
      run: (env, o) => uploadBacklog(env, o),
      maxRounds: 5,
      rows: [
        { label: '(s) backlog upload', metric: 'lanes', baseline: 'raw', unit: 'records/s', goal: { kind: 'ratio', min: 0.7 } },
        { label: '(s) same, MB/s of stored bytes', metric: 'lanesMBps', baseline: 'rawMBps', unit: 'MB/s' },
      ],
    },
  ],
};
