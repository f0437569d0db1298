/**
 * Helpers for the Kafka listener's integration tests [test only]: the real replica server as
 * a child process (`bin/lanes-replica.mjs serve ... --kafka-port 0`, SQLite in a temp dir,
 * needs `npm run build`), device pushes over HTTP with the real codec, the records route,
 * and kcat.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../../../src/protocol/crc32c.js';
import { encodeRecords } from '../../../src/protocol/record-batch.js';
import { encodePushFrame, PUSH_CONTENT_TYPE, type PushBatch, type RecordsResponse } from '../../../src/protocol/replica-wire.js';
import { mintToken } from '../../../src/replica/auth.js';
import type { Message } from '../../../src/types.js';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const SECRET = 'kafka-test-secret-0123456789';
export const KCAT = process.env.KCAT_PATH || '/usr/bin/kcat';

/** A running replica server process. */
export interface Replica {
  http: string;
  kafkaPort: number;
  dataDir: string;
  /** A token for `tenant` (default 'default'). */
  token(tenant?: string): Promise<string>;
  /** SIGTERM, waits for exit. Keeps the data dir unless `remove`. */
  stop(remove?: boolean): Promise<void>;
}

/** Starts `lanes-replica serve` with the Kafka listener; `extra` adds options (e.g. `--kafka-auth none`). */
export function startReplica(extra: string[] = [], dataDir = mkdtempSync(join(tmpdir(), 'lanes-kafka-'))): Promise<Replica> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin', 'lanes-replica.mjs'), 'serve', '--host', '127.0.0.1', '--port', '0',
      '--data', dataDir, '--secret', SECRET, '--kafka-port', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const onData = (d: Buffer) => {
      out += d.toString();
      const http = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0];
      const kafka = /kafka:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      if (!done && http && kafka) {
        done = true;
        resolve({
          http, kafkaPort: Number(kafka), dataDir,
          token: (tenant = 'default') => mintToken(SECRET, tenant, 3600),
          stop: (remove = true) => new Promise<void>((r) => {
            const finish = () => { if (remove) rmSync(dataDir, { recursive: true, force: true }); r(); };
            if (child.exitCode !== null) { finish(); return; }
            child.once('exit', finish);
            child.kill('SIGTERM');
          }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => { if (!done) reject(new Error(`lanes-replica exited ${code} before listening:\n${out}`)); });
  });
}

/** Pushes `messages` as one device batch per partition entry, like a device's sync agent. */
export async function pushRecords(r: Replica, token: string, deviceId: string, batches: { topic: string; partition: number; baseOffset: number; messages: Message[] }[]): Promise<void> {
  const frame: PushBatch[] = batches.map((b) => {
    const enc = encodeRecords(b.messages, 1_700_000_000_000);
    return {
      topic: b.topic, partition: b.partition, baseOffset: b.baseOffset, lastOffsetDelta: enc.count - 1, producerId: 0, producerEpoch: 0,
      baseSequence: b.baseOffset, count: enc.count, firstTimestamp: enc.firstTimestamp, maxTimestamp: enc.maxTimestamp, crc: crc32c(enc.payload), payload: enc.payload,
    };
  });
  const res = await fetch(`${r.http}/v1/push`, {
    method: 'POST', headers: { 'Content-Type': PUSH_CONTENT_TYPE, Authorization: `Bearer ${token}` }, body: Buffer.from(encodePushFrame({ deviceId, batches: frame })),
  });
  if (!res.ok) throw new Error(`push failed: ${res.status} ${await res.text()}`);
}

/** Every record of a partition through the HTTP records route. */
export async function readRecords(r: Replica, token: string, topic: string, partition: number): Promise<RecordsResponse['records']> {
  const out: RecordsResponse['records'] = [];
  let offset = '0';
  for (;;) {
    const res = await fetch(`${r.http}/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&limit=1000`, { headers: { Authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`records: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as RecordsResponse;
    if (body.records.length === 0) return out;
    out.push(...body.records);
    offset = body.nextOffset;
  }
}

/** GET /v1/topics as JSON. */
export async function topicsOf(r: Replica, token: string): Promise<unknown> {
  const res = await fetch(`${r.http}/v1/topics`, { headers: { Authorization: `Bearer ${token}` } });
  return res.json();
}

/** Runs kcat; resolves with stdout (rejects with stderr on a non-zero exit). */
export function kcat(args: string[], input?: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(KCAT, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}
