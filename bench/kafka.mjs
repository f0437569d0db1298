#!/usr/bin/env node
// Kafka listener benchmark (Node, no browser): starts the real replica server
// (`bin/lanes-replica.mjs serve --kafka-port 0 --kafka-auth none`, SQLite store in a temp dir),
// pushes N records through the HTTP push API as devices do, then, in each round, reads all of
// them with kcat (librdkafka) through the Kafka listener and with the HTTP records route (the
// baseline: the replica's own read API), and writes a section into bench/RESULTS.md between
// `<!-- kafka -->` markers (bench/run.mjs rewrites the rest of that file; run this after it).
//
//   node bench/kafka.mjs [--records N] [--rounds R] [--no-write]
//
// Needs `npm run build` (dist/node/) and kcat (/usr/bin/kcat or KCAT_PATH).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KCAT = process.env.KCAT_PATH || '/usr/bin/kcat';
const SECRET = 'bench-secret-0123456789';

function args(argv) {
  const o = { records: 1_000_000, rounds: 3, write: true, partitions: 4 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--records') o.records = Number(argv[++i]);
    else if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a === '--no-write') o.write = false;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

const mod = (p) => import(pathToFileURL(join(ROOT, 'dist', 'node', p)).href);

/** Starts the replica server; resolves with its HTTP URL, Kafka port and a stop function. */
function startServer(dataDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'lanes-replica.mjs'), 'serve', '--host', '127.0.0.1', '--port', '0',
      '--data', dataDir, '--secret', SECRET, '--kafka-port', '0', '--kafka-auth', 'none'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let http = null, kafka = null;
    child.stdout.on('data', (d) => {
      out += d;
      http ??= /http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[0] ?? null;
      kafka ??= Number(/kafka:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]) || null;
      if (http && kafka) {
        resolve({ http, kafka, stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) });
        http = kafka = -1; // resolve once
      }
    });
    child.once('exit', (code) => reject(new Error(`replica server exited (${code}) before listening:\n${out}`)));
  });
}

async function pushAll(o, http, token) {
  const { encodeRecords } = await mod('protocol/record-batch.js');
  const { crc32c } = await mod('protocol/crc32c.js');
  const { encodePushFrame, PUSH_CONTENT_TYPE } = await mod('protocol/replica-wire.js');
  const perBatch = 1000;
  const perPush = 50;
  const batches = [];
  const next = Array(o.partitions).fill(0);
  let sent = 0;
  const flush = async () => {
    if (!batches.length) return;
    const body = encodePushFrame({ deviceId: 'bench-device', batches: batches.splice(0) });
    const res = await fetch(`${http}/v1/push`, { method: 'POST', headers: { 'Content-Type': PUSH_CONTENT_TYPE, Authorization: `Bearer ${token}` }, body });
    if (!res.ok) throw new Error(`push failed: ${res.status} ${await res.text()}`);
  };
  for (let i = 0; i < o.records; i += perBatch) {
    const n = Math.min(perBatch, o.records - i);
    const partition = (i / perBatch) % o.partitions;
    const messages = Array.from({ length: n }, (_, k) => ({ key: `user-${(i + k) % 977}`, value: { id: i + k, kind: 'order', amount: (i + k) % 1000, note: 'x'.repeat(40) } }));
    const enc = encodeRecords(messages, 1_700_000_000_000 + i);
    batches.push({ topic: 'bench', partition, baseOffset: next[partition], lastOffsetDelta: n - 1, producerId: 0, producerEpoch: 0, baseSequence: next[partition],
      count: n, firstTimestamp: enc.firstTimestamp, maxTimestamp: enc.maxTimestamp, crc: crc32c(enc.payload), payload: enc.payload });
    next[partition] += n;
    sent += n;
    if (batches.length >= perPush) await flush();
  }
  await flush();
  return sent;
}

/** kcat reads every record of the topic from the beginning and exits at the end. */
function kcatRead(port, expected) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(KCAT, ['-b', `127.0.0.1:${port}`, '-C', '-t', 'bench', '-o', 'beginning', '-e', '-q', '-f', '%o\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let err = '';
    child.stdout.on('data', (d) => { for (let i = 0; i < d.length; i++) if (d[i] === 10) lines++; });
    child.stderr.on('data', (d) => { err += d; });
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0 || lines !== expected) reject(new Error(`kcat exited ${code} after ${lines}/${expected} records: ${err.slice(0, 500)}`));
      else resolve(ms);
    });
  });
}

/** The HTTP records route reads every partition from 0 (partitions in parallel, pages of `limit`). */
async function httpRead(http, token, partitions, expected, limit = 10_000) {
  const t0 = performance.now();
  let total = 0;
  await Promise.all(Array.from({ length: partitions }, async (_, p) => {
    let offset = '0';
    for (;;) {
      const res = await fetch(`${http}/v1/topics/bench/partitions/${p}/records?offset=${offset}&limit=${limit}`, { headers: { Authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`records route: ${res.status} ${await res.text()}`);
      const body = await res.json();
      if (body.records.length === 0) break;
      total += body.records.length;
      offset = body.nextOffset;
    }
  }));
  if (total !== expected) throw new Error(`records route returned ${total}/${expected} records`);
  return performance.now() - t0;
}

/** "kcat 1.7.1, librdkafka 2.0.2" from `kcat -V`. */
function kcatVersion() {
  const out = spawnSync(KCAT, ['-V'], { encoding: 'utf8' }).stdout ?? '';
  const m = /Version (\S+) .*librdkafka (\S+)/.exec(out);
  return m ? `kcat ${m[1]}, librdkafka ${m[2]}` : 'kcat';
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US');

async function main() {
  const o = args(process.argv.slice(2));
  if (!existsSync(join(ROOT, 'dist', 'node', 'replica', 'cli.js'))) throw new Error('dist/node is missing: run npm run build');
  if (!existsSync(KCAT)) throw new Error(`kcat is missing at ${KCAT}: sudo apt-get install -y kcat`);
  const dataDir = mkdtempSync(join(tmpdir(), 'lanes-kafka-bench-'));
  const server = await startServer(dataDir);
  const loadBefore = loadavg()[0];
  try {
    const { mintToken } = await mod('replica/auth.js');
    const token = await mintToken(SECRET, 'default', 3600);
    console.log(`[kafka-bench] pushing ${fmt(o.records)} records over HTTP ...`);
    const tp = performance.now();
    await pushAll(o, server.http, token);
    console.log(`[kafka-bench]   pushed in ${((performance.now() - tp) / 1000).toFixed(1)} s`);
    const kafka = [], http = [];
    for (let r = 0; r < o.rounds; r++) {
      const k = await kcatRead(server.kafka, o.records);
      const h = await httpRead(server.http, token, o.partitions, o.records);
      kafka.push(o.records / (k / 1000));
      http.push(o.records / (h / 1000));
      console.log(`[kafka-bench]   round ${r + 1}: kcat ${fmt(kafka[r])} records/s, records route ${fmt(http[r])} records/s`);
    }
    const km = median(kafka), hm = median(http);
    const section = [
      '<!-- kafka -->',
      '## Kafka listener: kcat consuming from the replica',
      '',
      `\`node bench/kafka.mjs\` (run by \`npm run bench\`), ${new Date().toISOString()}; ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}); load ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after; ${o.rounds} rounds, medians.`,
      `${fmt(o.records)} records (~100-byte JSON values, string keys) pushed by a device over HTTP into ${o.partitions} partitions of one topic on the SQLite store; each round reads all of them from offset 0.`,
      '',
      '| what | records/s | vs records route |',
      '|---|---:|---:|',
      `| kcat -C -o beginning -e (${kcatVersion()}; Fetch v11, RecordBatch v2) | ${fmt(km)} | ${(km / hm).toFixed(2)}x |`,
      `| HTTP records route, pages of 10,000, partitions in parallel (baseline) | ${fmt(hm)} | 1.00x |`,
      '',
      `Rounds: kcat ${kafka.map(fmt).join(', ')}; records route ${http.map(fmt).join(', ')}. kcat's time includes its start, metadata and offset lookups; records are counted on its stdout (one offset per line).`,
      '<!-- /kafka -->',
    ].join('\n');
    console.log(`\n${section}\n`);
    if (o.write) {
      const file = join(ROOT, 'bench', 'RESULTS.md');
      const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
      const re = /<!-- kafka -->[\s\S]*<!-- \/kafka -->/;
      writeFileSync(file, re.test(old) ? old.replace(re, section) : `${old.trimEnd()}\n\n${section}\n`);
      console.log(`[kafka-bench] wrote ${file}`);
    }
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
