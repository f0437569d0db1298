// Helpers for replica tests: device-side batches built with the real codec, a server on a
// free port (in-process or the CLI as a child process), tokens.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { crc32c } from '../../src/protocol/crc32c.js';
import { encodeRecords } from '../../src/protocol/record-batch.js';
import { encodePushFrame, PUSH_CONTENT_TYPE, type PushBatch, type PushResponse, type RecordsResponse } from '../../src/protocol/replica-wire.js';
import { createAuthenticator, mintToken } from '../../src/replica/auth.js';
import { createReplicaHttpServer, type HttpLimits, type ReplicaHttpServer } from '../../src/replica/http-server.js';
import { createLogger } from '../../src/replica/log.js';
import type { ReplicaStore } from '../../src/replica/store.js';
import { SqliteStore } from '../../src/replica/stores/sqlite-store.js';
import type { Message } from '../../src/types.js';

export const SECRET = 'test-secret-0123456789';
export const ROOT = join(import.meta.dirname, '..', '..');

/** A fresh temp directory. */
export function tempDir(prefix = 'lanes-replica-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A device batch as the log stores it: records encoded by the real codec, CRC-32C set. */
export function deviceBatch(messages: Message[], o: { topic?: string; partition?: number; baseOffset: number; producerId?: number; producerEpoch?: number; baseSequence?: number; now?: number }): PushBatch {
  const enc = encodeRecords(messages, o.now ?? 1_700_000_000_000);
  return {
    topic: o.topic ?? 'orders', partition: o.partition ?? 0, baseOffset: o.baseOffset, lastOffsetDelta: enc.count - 1,
    producerId: o.producerId ?? 0, producerEpoch: o.producerEpoch ?? 0, baseSequence: o.baseSequence ?? o.baseOffset,
    count: enc.count, firstTimestamp: enc.firstTimestamp, maxTimestamp: enc.maxTimestamp, crc: crc32c(enc.payload), payload: enc.payload,
  };
}

/** `n` text records `${prefix}-${i}` from `start`. */
export function texts(prefix: string, start: number, n: number): Message[] {
  return Array.from({ length: n }, (_, i) => ({ key: `k${(start + i) % 7}`, value: `${prefix}-${start + i}` }));
}

/** A replica server on a free port over a store (default: SQLite in a temp dir). */
export async function startServer(o: { store?: ReplicaStore; allowOrigins?: string[]; limits?: Partial<HttpLimits> } = {}): Promise<{ url: string; http: ReplicaHttpServer; store: ReplicaStore; token: (tenant?: string, ttl?: number) => Promise<string> }> {
  const store = o.store ?? new SqliteStore({ dataDir: tempDir() });
  const http = createReplicaHttpServer({ store, auth: createAuthenticator({ secret: SECRET }), logger: createLogger('error'), allowOrigins: o.allowOrigins, limits: o.limits });
  const url = await http.listen('127.0.0.1', 0);
  return { url, http, store, token: (tenant = 'acme', ttl = 3600) => mintToken(SECRET, tenant, ttl) };
}

/** POSTs a push frame; returns status and JSON. */
export async function push(url: string, token: string, deviceId: string, batches: PushBatch[], o: { gzip?: boolean; tenantPath?: string } = {}): Promise<{ status: number; body: PushResponse & { error?: { code: string; message: string; field?: string } } }> {
  let body: Uint8Array = encodePushFrame({ deviceId, batches });
  const headers: Record<string, string> = { 'Content-Type': PUSH_CONTENT_TYPE, Authorization: `Bearer ${token}` };
  if (o.gzip) { body = gzipSync(body); headers['Content-Encoding'] = 'gzip'; }
  const res = await fetch(`${url}${o.tenantPath ? `/v1/tenants/${o.tenantPath}/push` : '/v1/push'}`, { method: 'POST', headers, body: body as Uint8Array<ArrayBuffer> });
  return { status: res.status, body: await res.json() };
}

/** Reads every record of a partition through the records route. */
export async function readAll(url: string, token: string, topic: string, partition: number, limit = 1000): Promise<RecordsResponse['records']> {
  const out: RecordsResponse['records'] = [];
  let offset = '0';
  for (;;) {
    const res = await fetch(`${url}/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&limit=${limit}`, { headers: { Authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`records ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as RecordsResponse;
    out.push(...body.records);
    if (!body.records.length) return out;
    offset = body.nextOffset;
  }
}

/** Runs `lanes-replica serve` (the built bin) and resolves once it prints its URL. */
export async function spawnServer(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'lanes-replica.mjs'), 'serve', '--host', '127.0.0.1', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m) resolve(m[0]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code, sig) => reject(new Error(`lanes-replica exited (${code ?? sig}) before listening:\n${out}`)));
  });
  return { child, url, output: () => out };
}

/** Resolves when a child process has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}
