/**
 * The replica's HTTP API (`/v1`): push, records (JSON), batches (binary), topics and
 * watermarks, health, metrics; auth, CORS, limits; graceful drain.
 *
 * Invariants:
 * - Every refused request is answered 4xx with `{ error: { code, message, field? } }` and
 *   reaches the store not at all (push: the whole frame is decoded and every batch checked
 *   before `store.append`).
 * - A tenant reaches only its own topics: the short routes use the token's tenant; the
 *   `/v1/tenants/:tenant/...` routes answer 403 for any other tenant.
 * - `close()` stops accepting connections, lets in-flight requests finish (up to a grace
 *   period), then closes the store.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { LanesError } from '../errors.js';
import {
  BATCHES_CONTENT_TYPE, PUSH_CONTENT_TYPE, decodePushFrame, encodeBatchesFrame, isValidTopicName,
  type ErrorResponse, type PushResponse, type TopicInfo,
} from '../protocol/replica-wire.js';
import type { Authenticator, Principal } from './auth.js';
import type { Logger } from './log.js';
import { ReplicaMetrics } from './metrics.js';
import { batchesToJson } from './records-json.js';
import type { AppendBatch, ReplicaStore } from './store.js';
import { checkBatch, DEFAULT_RECORD_LIMITS, type RecordLimits } from './validate.js';

const gunzipAsync = promisify(gunzip);

/** Limits of the HTTP API. */
export interface HttpLimits extends RecordLimits {
  /** Bytes of a request body, as sent and after gunzip. Default 32 MiB. */
  maxBodyBytes: number;
  /** Batches per push frame. Default 10,000. */
  maxBatchesPerPush: number;
  /** Records per records-route answer. Default 10,000. */
  maxRecordsPerRead: number;
}

/** Defaults of {@link HttpLimits}. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = { ...DEFAULT_RECORD_LIMITS, maxBodyBytes: 32 << 20, maxBatchesPerPush: 10_000, maxRecordsPerRead: 10_000 };

/** Options of {@link createReplicaHttpServer}. */
export interface ReplicaHttpOptions {
  store: ReplicaStore;
  auth: Authenticator;
  logger: Logger;
  /** CORS allowlist: origins, or ['*'] for any. Empty: no CORS headers. */
  allowOrigins?: readonly string[];
  limits?: Partial<HttpLimits>;
  metrics?: ReplicaMetrics;
  /** Longest wait for in-flight requests on close (ms). Default 10,000. */
  drainTimeoutMs?: number;
}

/** A running replica HTTP server. */
export interface ReplicaHttpServer {
  readonly server: Server;
  readonly metrics: ReplicaMetrics;
  /** Starts listening; resolves with the base URL (`http://host:port`). */
  listen(host: string, port: number): Promise<string>;
  /** Drains in-flight requests and closes the store. */
  close(): Promise<void>;
}

/** An HTTP-level refusal: status, stable code, message and the field at fault. */
class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) { super(message); }
}

function statusOf(e: unknown): { status: number; code: string; message: string; field?: string } {
  if (e instanceof HttpError) return { status: e.status, code: e.code, message: e.message, field: e.field };
  if (e instanceof LanesError) {
    const field = typeof e.details.field === 'string' ? e.details.field : undefined;
    const status = {
      UNAUTHORIZED: 401, INVALID_ARGUMENT: 400, INVALID_RECORD: 400, CORRUPT_MESSAGE: 400, RECORD_TOO_LARGE: 413,
      UNKNOWN_TOPIC_OR_PARTITION: 404, OFFSET_OUT_OF_RANGE: 416, STORAGE_ERROR: 503, BROKER_UNAVAILABLE: 503,
    }[e.code as string] ?? 500;
    return { status, code: e.code, message: e.message, field };
  }
  return { status: 500, code: 'UNKNOWN', message: 'internal error' };
}

const ROUTE_RE = /^\/v1\/(?:tenants\/([^/]+)\/)?(push|topics)(?:\/([^/]+)(?:\/partitions\/([^/]+)\/(records|batches))?)?\/?$/;

/** Creates the HTTP server (not yet listening). */
export function createReplicaHttpServer(options: ReplicaHttpOptions): ReplicaHttpServer {
  const { store, auth, logger } = options;
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const metrics = options.metrics ?? new ReplicaMetrics();
  const origins = new Set(options.allowOrigins ?? []);
  const anyOrigin = origins.has('*');
  let inflight = 0;
  let draining = false;
  let drained: (() => void) | null = null;

  function cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (!origin || !(anyOrigin || origins.has(origin))) return false;
    res.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
    if (!anyOrigin) res.setHeader('Vary', 'Origin');
    return true;
  }

  function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
    const data = body instanceof Uint8Array ? body : typeof body === 'string' ? body : JSON.stringify(body);
    res.statusCode = status;
    res.setHeader('Content-Type', type);
    res.setHeader('Cache-Control', 'no-store');
    res.end(data);
  }

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limits.maxBodyBytes) throw new HttpError(413, 'BODY_TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${limits.maxBodyBytes}`, 'body');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > limits.maxBodyBytes) {
        throw new HttpError(413, 'BODY_TOO_LARGE', `request body exceeds the limit of ${limits.maxBodyBytes} bytes`, 'body');
      }
      chunks.push(c);
    }
    metrics.bytes.inc({}, size);
    const raw = Buffer.concat(chunks, size);
    const enc = (req.headers['content-encoding'] ?? 'identity').toString().trim().toLowerCase();
    if (enc === 'identity' || enc === '') return raw;
    if (enc !== 'gzip') throw new HttpError(415, 'UNSUPPORTED_ENCODING', `Content-Encoding ${enc} is not supported (use gzip or none)`, 'content-encoding');
    try {
      return await gunzipAsync(raw, { maxOutputLength: limits.maxBodyBytes });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') {
        throw new HttpError(413, 'BODY_TOO_LARGE', `gunzipped body exceeds the limit of ${limits.maxBodyBytes} bytes`, 'body');
      }
      throw new HttpError(400, 'BAD_GZIP', `request body is not valid gzip (${code === 'Z_BUF_ERROR' ? 'truncated' : (e as Error).message})`, 'body');
    }
  }

  function tenantOf(principal: Principal, pathTenant: string | undefined): string {
    if (pathTenant === undefined) return principal.tenant;
    let t: string;
    try { t = decodeURIComponent(pathTenant); } catch { throw new HttpError(400, 'INVALID_ARGUMENT', 'tenant is not valid percent-encoding', 'tenant'); }
    if (t !== principal.tenant) throw new HttpError(403, 'FORBIDDEN', `the token's tenant may not access tenant ${JSON.stringify(t)}'s topics`, 'tenant');
    return t;
  }

  function topicParam(raw: string): string {
    let t: string;
    try { t = decodeURIComponent(raw); } catch { throw new HttpError(400, 'INVALID_ARGUMENT', 'topic is not valid percent-encoding', 'topic'); }
    if (!isValidTopicName(t)) throw new HttpError(400, 'INVALID_ARGUMENT', `topic ${JSON.stringify(t)} is not a valid topic name (1-249 of a-z A-Z 0-9 . _ -)`, 'topic');
    return t;
  }

  function intParam(v: string | null, name: string, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
    if (v === null) return dflt;
    if (!/^\d{1,16}$/.test(v) || Number(v) > max) throw new HttpError(400, 'INVALID_ARGUMENT', `${name} must be a decimal integer in [0, ${max}]; got ${JSON.stringify(v)}`, name);
    return Number(v);
  }

  async function handlePush(req: IncomingMessage, res: ServerResponse, tenant: string): Promise<void> {
    if (req.method !== 'POST') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'push needs POST', 'method');
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== PUSH_CONTENT_TYPE) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${PUSH_CONTENT_TYPE}; got ${JSON.stringify(type)}`, 'content-type');
    const body = await readBody(req);
    const frame = decodePushFrame(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), { maxBatches: limits.maxBatchesPerPush, maxPayloadBytes: limits.maxBodyBytes });
    const appends: AppendBatch[] = frame.batches.map((b, i) => {
      const c = checkBatch(b, limits, `batches[${i}]`);
      return {
        topic: b.topic, partition: b.partition, ...c,
        dedupe: {
          // A topic deleted and created again on the device starts its offsets and sequences over:
          // its generation keeps the new batches from being taken for retries of the old ones. It
          // goes before the device id (digits up to ':'), so no device id can spell another's.
          source: b.topicGeneration ? `device@${b.topicGeneration}:${frame.deviceId}` : `device:${frame.deviceId}`,
          producerId: b.producerId, producerEpoch: b.producerEpoch,
          baseSequence: b.producerId < 0 ? b.baseOffset : b.baseSequence,
        },
      };
    });
    const results = await store.append(tenant, appends);
    const out: PushResponse = {
      results: results.map((r, i) => ({
        topic: r.topic, partition: r.partition, baseOffset: frame.batches[i]!.baseOffset, replicaBaseOffset: r.baseOffset, count: r.count, duplicate: r.duplicate,
      })),
    };
    let stored = 0, dup = 0, recs = 0;
    for (const r of results) { if (r.duplicate) dup++; else { stored++; recs += r.count; } }
    metrics.pushes.inc();
    if (stored) metrics.batches.inc({ outcome: 'stored' }, stored);
    if (dup) metrics.batches.inc({ outcome: 'duplicate' }, dup);
    if (recs) metrics.records.inc({}, recs);
    send(res, 200, out);
  }

  async function topicInfo(tenant: string, topic: string): Promise<TopicInfo> {
    const marks = await store.watermarks(tenant, topic);
    return { topic, partitions: marks.map((m) => ({ partition: m.partition, low: String(m.low), high: String(m.high) })) };
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<string> {
    const path = url.pathname;
    if (path === '/v1/health') {
      // 503 while draining or while the store is unreachable, so a load balancer moves on.
      const h = store.health?.() ?? { ok: true };
      if (draining || !h.ok) send(res, 503, { status: draining ? 'draining' : 'unavailable', store: store.kind, ...(h.detail ? { detail: h.detail } : {}) });
      else send(res, 200, { status: 'ok', store: store.kind });
      return 'health';
    }
    if (path === '/v1/metrics') {
      await auth.verify(req.headers.authorization);
      send(res, 200, metrics.render(), 'text/plain; version=0.0.4');
      return 'metrics';
    }
    const m = ROUTE_RE.exec(path);
    if (!m) throw new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${path}`, 'path');
    const [, pathTenant, kind, rawTopic, rawPartition, sub] = m;
    const principal = await auth.verify(req.headers.authorization);
    const tenant = tenantOf(principal, pathTenant);
    if (kind === 'push') {
      if (rawTopic !== undefined) throw new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${path}`, 'path');
      await handlePush(req, res, tenant);
      return 'push';
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${path} answers GET`, 'method');
    if (rawTopic === undefined) {
      const topics = await store.listTopics(tenant);
      send(res, 200, { topics: await Promise.all(topics.map((t) => topicInfo(tenant, t.topic))) });
      return 'topics';
    }
    const topic = topicParam(rawTopic);
    if (rawPartition === undefined) {
      send(res, 200, await topicInfo(tenant, topic));
      return 'topic';
    }
    const partition = intParam(rawPartition, 'partition', 0, 0x7fffffff);
    const offset = intParam(url.searchParams.get('offset'), 'offset', 0);
    if (sub === 'records') {
      const limit = intParam(url.searchParams.get('limit'), 'limit', 1000, limits.maxRecordsPerRead);
      const r = await store.read(tenant, topic, partition, offset, { maxRecords: Math.max(1, limit), maxBytes: limits.maxBodyBytes });
      const body = batchesToJson(r.batches, offset, limit);
      metrics.recordsRead.inc({}, body.records.length);
      send(res, 200, body);
      return 'records';
    }
    const maxBytes = intParam(url.searchParams.get('maxBytes'), 'maxBytes', 1 << 20, limits.maxBodyBytes);
    const r = await store.read(tenant, topic, partition, offset, { maxRecords: Number.MAX_SAFE_INTEGER, maxBytes: Math.max(1, maxBytes) });
    const last = r.batches[r.batches.length - 1];
    const nextOffset = last ? last.baseOffset + last.count : offset;
    let n = 0;
    for (const b of r.batches) n += b.baseOffset + b.count - Math.max(offset, b.baseOffset);
    metrics.recordsRead.inc({}, n);
    send(res, 200, encodeBatchesFrame({ low: r.low, high: r.high, nextOffset, batches: r.batches }), BATCHES_CONTENT_TYPE);
    return 'batches';
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    inflight++;
    let routeName = 'unknown';
    res.on('close', () => {
      inflight--;
      metrics.requests.inc({ route: routeName, status: String(res.statusCode) });
      metrics.latency.observe({ route: routeName }, (performance.now() - started) / 1000);
      if (draining && inflight === 0) drained?.();
    });
    const allowed = cors(req, res);
    if (req.method === 'OPTIONS') {
      if (allowed) {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Content-Encoding');
        res.setHeader('Access-Control-Max-Age', '600');
      }
      res.statusCode = 204;
      res.end();
      routeName = 'preflight';
      return;
    }
    if (draining) res.setHeader('Connection', 'close');
    let url: URL;
    try { url = new URL(req.url ?? '/', 'http://replica'); } catch { url = new URL('http://replica/invalid'); }
    route(req, res, url).then((name) => { routeName = name; }, (e: unknown) => {
      // The client went away mid-request: nothing to answer, nothing was stored.
      if (req.destroyed && !req.complete) {
        logger.debug('request aborted by the client', { method: req.method, path: url.pathname });
        res.destroy();
        return;
      }
      const s = statusOf(e);
      const reason = s.status === 401 ? `unauthorized_${(e as LanesError).details?.reason ?? 'invalid'}` : s.code.toLowerCase();
      if (s.status >= 500) logger.error('request failed', { method: req.method, path: url.pathname, status: s.status, error: (e as Error)?.message, stack: (e as Error)?.stack });
      else logger.debug('request refused', { method: req.method, path: url.pathname, status: s.status, code: s.code, message: s.message });
      if (s.status < 500) metrics.rejects.inc({ reason });
      const body: ErrorResponse = { error: { code: s.code, message: s.message, ...(s.field ? { field: s.field } : {}) } };
      if (res.headersSent) { res.destroy(); return; }
      if (s.status === 503) res.setHeader('Retry-After', '1');
      // The rest of a refused body is not read: close the connection instead of draining it.
      if (!req.complete) res.setHeader('Connection', 'close');
      send(res, s.status, body);
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;
  server.keepAliveTimeout = 5_000;

  return {
    server,
    metrics,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolve(`http://${h}:${a.port}`);
        });
      });
    },
    async close() {
      draining = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (inflight > 0) {
        await Promise.race([
          new Promise<void>((r) => { drained = r; }),
          new Promise<void>((r) => setTimeout(r, options.drainTimeoutMs ?? 10_000).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
      await store.close();
    },
  };
}
