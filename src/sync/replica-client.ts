/**
 * The replica's HTTP API as the sync agent and mirror call it (fetch; runs in the broker's
 * worker, a service worker, a page or Node 20). Push frames are gzip-compressed with
 * CompressionStream. Failures become typed errors and a {@link SyncFailure} kind for the
 * state machine: network (unreachable, retriable), unauthorized (401/403), rejected (other
 * 4xx: retrying the same bytes will not help) and server (5xx, retriable).
 */
import { BrokerUnavailableError, InvalidArgumentError, LanesError, UnauthorizedError } from '../errors.js';
import {
  batchesPath, decodeBatchesFrame, encodePushFrame, PUSH_CONTENT_TYPE,
  type BatchesFrame, type PushFrame, type PushResponse, type TopicInfo,
} from '../protocol/replica-wire.js';
import type { SyncFailure } from './sync-state.js';

/** An HTTP answer the replica gave that was not a success. */
export class ReplicaHttpError extends LanesError {
  constructor(message: string, readonly status: number, readonly kind: SyncFailure['kind'], code: string, readonly field?: string) {
    super(message, { retriable: kind !== 'rejected', details: { status, code, ...(field ? { field } : {}) } });
  }
}

/** Options of a replica client. */
export interface ReplicaClientOptions {
  /** Base URL of the replica, e.g. `https://replica.example.com` (routes are `/v1/...` below it). */
  url: string;
  /** The bearer token to send now (null: none). */
  token: () => string | null;
  /** Compress push frames with gzip (default true where CompressionStream exists). */
  gzip?: boolean;
  fetch?: typeof fetch;
}

/** Gzips bytes with the platform's CompressionStream. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** What kind of failure an error is, for the sync state machine. */
export function failureOf(e: unknown): SyncFailure {
  if (e instanceof ReplicaHttpError) return { kind: e.kind, message: e.message, code: String(e.details.code), ...(e.field ? { field: e.field } : {}) };
  if (e instanceof UnauthorizedError) return { kind: 'unauthorized', message: e.message, code: e.code };
  if (e instanceof LanesError) return { kind: e.retriable ? 'network' : 'rejected', message: e.message, code: e.code };
  return { kind: 'network', message: e instanceof Error ? e.message : String(e) };
}

/** A push frame ready to send: its body (gzipped or not) and how many batches it holds. */
export interface PreparedPush {
  body: Uint8Array;
  gzipped: boolean;
  batches: number;
}

/** A client of one replica server. */
export class ReplicaClient {
  readonly url: string;
  private readonly fetchImpl: typeof fetch;
  private readonly useGzip: boolean;

  constructor(private readonly o: ReplicaClientOptions) {
    if (typeof o.url !== 'string' || !/^https?:\/\//.test(o.url)) {
      throw new InvalidArgumentError(`sync.url must be an http(s) URL; got ${JSON.stringify(o.url)}`, { details: { field: 'sync.url' } });
    }
    this.url = o.url.replace(/\/+$/, '');
    this.fetchImpl = o.fetch ?? ((...a) => fetch(...a));
    this.useGzip = o.gzip ?? typeof CompressionStream === 'function';
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const token = this.o.token();
    return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.url}${path}`, { ...init, cache: 'no-store' });
    } catch (e) {
      throw new BrokerUnavailableError(`the replica at ${this.url} is unreachable: ${e instanceof Error ? e.message : String(e)}`, { cause: e, details: { url: this.url } });
    }
    if (res.ok) return res;
    let code = `HTTP_${res.status}`, message = `${res.status} ${res.statusText}`, field: string | undefined;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string; field?: string } };
      if (body.error?.code) code = body.error.code;
      if (body.error?.message) message = body.error.message;
      if (typeof body.error?.field === 'string') field = body.error.field;
    } catch { /* not JSON */ }
    const kind: SyncFailure['kind'] = res.status === 401 || res.status === 403 ? 'unauthorized' : res.status >= 500 || res.status === 429 || res.status === 408 ? 'server' : 'rejected';
    throw new ReplicaHttpError(`replica ${init.method ?? 'GET'} ${path.split('?')[0]} answered ${res.status}: ${message}`, res.status, kind, code, field);
  }

  /** Pushes a frame; answers the replica's results, one per batch in frame order. */
  async push(frame: PushFrame): Promise<PushResponse> {
    return this.sendPush(await this.preparePush(frame));
  }

  /** Frames and compresses a push without sending it (the agent prepares the next request while one is on the wire). */
  async preparePush(frame: PushFrame): Promise<PreparedPush> {
    const raw = encodePushFrame(frame);
    return { body: this.useGzip ? await gzip(raw) : raw, gzipped: this.useGzip, batches: frame.batches.length };
  }

  /** Sends a prepared push; answers the replica's results, one per batch in frame order. */
  async sendPush(p: PreparedPush): Promise<PushResponse> {
    const headers = this.headers({ 'content-type': PUSH_CONTENT_TYPE, ...(p.gzipped ? { 'content-encoding': 'gzip' } : {}) });
    const res = await this.request('/v1/push', { method: 'POST', body: p.body as BodyInit, headers });
    const answer = (await res.json()) as PushResponse;
    if (!answer || !Array.isArray(answer.results) || answer.results.length !== p.batches) {
      throw new ReplicaHttpError(`replica push answered ${answer?.results?.length ?? 'no'} results for ${p.batches} batches`, 502, 'server', 'BAD_ANSWER');
    }
    return answer;
  }

  /** A replica topic with its partitions' watermarks, or null when it does not exist. */
  async topic(topic: string): Promise<TopicInfo | null> {
    try {
      const res = await this.request(`/v1/topics/${encodeURIComponent(topic)}`, { method: 'GET', headers: this.headers() });
      return (await res.json()) as TopicInfo;
    } catch (e) {
      if (e instanceof ReplicaHttpError && e.status === 404) return null;
      throw e;
    }
  }

  /** Stored batches of a replica partition from `offset` (binary batches frame). */
  async batches(topic: string, partition: number, offset: number, maxBytes: number): Promise<BatchesFrame> {
    const res = await this.request(batchesPath(topic, partition, offset, maxBytes), { method: 'GET', headers: this.headers() });
    return decodeBatchesFrame(new Uint8Array(await res.arrayBuffer()));
  }
}
