/**
 * One Kafka client connection [node]: framing, request headers, ApiVersions, SASL, and the
 * in-order dispatch of requests to ./handlers.ts.
 *
 * Invariants:
 * - Requests of a connection are handled one at a time and answered in order (Kafka's
 *   guarantee); a long-polling Fetch delays the requests behind it, as in Kafka.
 * - Before SASL authentication a frame may hold at most {@link PRE_AUTH_MAX_FRAME_BYTES} (as
 *   Kafka's sasl.server.max.receive.size): an unauthenticated client cannot make the server
 *   buffer `maxFrameBytes` per connection. A larger one closes the connection at its size.
 * - A frame whose size is negative or above `maxFrameBytes`, a header that does not parse, a
 *   body of a supported API and version that does not parse, or a request other than
 *   ApiVersions / SASL before authentication closes this connection only (Kafka does the
 *   same). An unknown API key or an unsupported version gets an UNSUPPORTED_VERSION answer
 *   (for ApiVersions: its v0 body listing the supported versions) and the connection stays.
 * - A frame left incomplete for `requestTimeoutMs` (a stalled or slow client) closes the
 *   connection; so does `idleTimeoutMs` without any frame. While the connection is not read
 *   (below), that clock does not run: the stall is the server's.
 * - Requests waiting behind the one being handled hold at most about `maxFrameBytes` (and 64
 *   frames): beyond that the socket is not read until they are handled, so a client pipelining
 *   large requests behind a long poll cannot make the server buffer 64 frames of 16 MiB.
 * - While responses wait for a client that does not read them (socket buffer above
 *   `maxPendingBytes`), the connection stops reading and answering requests until they drain:
 *   a slow reader cannot make the server buffer more than about one response beyond that.
 * - A SASL session lasts until its token expires: SaslAuthenticate v1 answers the lifetime left
 *   (sessionLifetimeMs) and the connection is closed at expiry unless the client authenticated
 *   again (KIP-368: SaslHandshake v1 + SaslAuthenticate on the open connection) with a fresh
 *   token of the same tenant. A token that expired kept its connection reading and writing.
 * - No exception escapes to the listener: a handler that throws closes its connection.
 */
import type { Socket } from 'node:net';
import { ErrorCode } from './codes.js';
import type { AppendSignal } from './append-signal.js';
import { GROUP_HANDLERS } from './group-handlers.js';
import { DATA_HANDLERS, type Handler, type HandlerContext } from './handlers.js';
import * as M from './messages.js';
import { decodeMessage, encodeMessage, isFlexible, type MessageSpec, type Msg } from './schema.js';
import { KafkaDecodeError, Reader, Writer } from './wire.js';
import type { ReplicaStore } from '../store.js';
import type { KafkaGroups } from './groups.js';

/** Request and response schemas by API key. */
export const APIS: { [apiKey: number]: { name: string; request: MessageSpec; response: MessageSpec } } = {};
for (const [name, spec] of Object.entries(M)) {
  if (!name.endsWith('Request')) continue;
  const base = name.slice(0, -'Request'.length);
  APIS[spec.apiKey] = { name: base, request: spec, response: (M as Record<string, MessageSpec>)[`${base}Response`]! };
}

/**
 * Verifies SASL/PLAIN credentials: resolves false when `token` is not valid for `tenant`, true
 * or `{ expiresAt }` (ms since the epoch: the token's expiry, which ends the session) when it is.
 */
export type VerifyCredentials = (tenant: string, token: string) => Promise<boolean | { expiresAt?: number }>;

/** Settings shared by every connection of a listener. */
export interface ConnectionOptions {
  store: ReplicaStore;
  groups: KafkaGroups;
  appends: AppendSignal;
  /** 'none': no SASL, every connection acts as `defaultTenant`. Otherwise SASL/PLAIN is required. */
  auth: 'none' | { verify: VerifyCredentials };
  defaultTenant: string;
  host: string;
  port: number;
  maxFrameBytes: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  maxPendingBytes: number;
  maxFetchWaitMs: number;
  /** Counts a request (metrics). */
  onRequest(apiKey: number): void;
  /** Structured log line (one JSON object). */
  log(event: Record<string, unknown>): void;
}

const SASL_KEYS = new Set([17, 36]);

/** Largest frame accepted before SASL authentication: 512 KiB, Kafka's sasl.server.max.receive.size. */
export const PRE_AUTH_MAX_FRAME_BYTES = 512 * 1024;
const HANDLERS: { [apiKey: number]: Handler } = { ...DATA_HANDLERS, ...GROUP_HANDLERS };

/** Serves one socket until it closes. */
export class KafkaConnection {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private readonly queue: Buffer[] = [];
  /** Bytes of the frames in `queue`. */
  private queuedBytes = 0;
  private busy = false;
  private closed = false;
  private tenant: string | null;
  private saslMechanism: string | null = null;
  /** SaslHandshake v0: the next frame is a raw SASL token, not a Kafka request. */
  private rawSaslNext = false;
  /** A SaslHandshake on an authenticated connection: the next SaslAuthenticate re-authenticates. */
  private reauthenticating = false;
  /** Closes the connection when its token expires. */
  private sessionTimer: NodeJS.Timeout | null = null;
  private partialTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();

  constructor(private readonly socket: Socket, private readonly o: ConnectionOptions) {
    this.tenant = o.auth === 'none' ? o.defaultTenant : null;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.onData(chunk);
      } catch (e) {
        this.close(`internal error: ${(e as Error).message}`);
      }
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.on('drain', () => this.maybeResume());
    this.armIdle();
  }

  /** Closes the connection (idempotent); `graceful` lets written responses go out first. */
  close(reason?: string, graceful = false): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.o.log({ event: 'kafka.close', remote: this.socket.remoteAddress, reason });
    this.abort.abort();
    if (this.partialTimer) clearTimeout(this.partialTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
    if (graceful) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else {
      this.socket.destroy();
    }
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close('idle timeout'), this.o.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    const framesBefore = this.queue.length;
    while (this.bufferedBytes >= 4) {
      const head = this.take(4, false);
      const size = head.readInt32BE(0);
      const max = this.tenant === null ? Math.min(PRE_AUTH_MAX_FRAME_BYTES, this.o.maxFrameBytes) : this.o.maxFrameBytes;
      if (size < 0 || size > max) {
        this.close(`frame size ${size} outside 0..${max}${this.tenant === null ? ' before authentication' : ''}`);
        return;
      }
      if (this.bufferedBytes < 4 + size) break;
      this.take(4, true);
      this.queue.push(this.take(size, true));
      this.queuedBytes += size;
    }
    // The timer measures the frame now in progress: a completed frame restarts it, so a client
    // pipelining requests whose chunks never end on a frame boundary is not cut off.
    if (this.queue.length > framesBefore && this.partialTimer) {
      clearTimeout(this.partialTimer);
      this.partialTimer = null;
    }
    if (this.bufferedBytes > 0 && !this.partialTimer) {
      this.partialTimer = setTimeout(() => this.close('request not completed in time'), this.o.requestTimeoutMs);
      this.partialTimer.unref();
    } else if (this.bufferedBytes === 0 && this.partialTimer) {
      clearTimeout(this.partialTimer);
      this.partialTimer = null;
    }
    if (this.queue.length > 0) this.armIdle();
    if (!this.mayRead()) {
      this.socket.pause();
      // Not reading is the server's stall, not the client's: the frame clock waits too.
      if (this.partialTimer) { clearTimeout(this.partialTimer); this.partialTimer = null; }
    }
    void this.pump();
  }

  /** Whether more requests may be read: few and small enough wait, and responses drain. */
  private mayRead(): boolean {
    // With nothing queued the frame in progress is read whatever its size (up to the frame limit):
    // no request is handled that would read on after it.
    return this.queue.length <= 64 && (this.queue.length === 0 || this.queuedBytes + this.bufferedBytes <= this.o.maxFrameBytes)
      && this.socket.writableLength < this.o.maxPendingBytes;
  }

  /** Reads again once the waiting requests and the unread responses allow it. */
  private maybeResume(): void {
    if (this.closed || !this.socket.isPaused() || this.queue.length > 16 || !this.mayRead()) return;
    this.socket.resume();
    if (this.bufferedBytes > 0 && !this.partialTimer) {
      this.partialTimer = setTimeout(() => this.close('request not completed in time'), this.o.requestTimeoutMs);
      this.partialTimer.unref();
    }
  }

  /** Takes (consume=true) or peeks `n` bytes from the buffered chunks. */
  private take(n: number, consume: boolean): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.buffered[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (consume) {
        if (first.length === n) this.buffered.shift();
        else this.buffered[0] = first.subarray(n);
      }
    } else {
      const all = Buffer.concat(this.buffered);
      out = all.subarray(0, n);
      if (consume) this.buffered = all.length > n ? [all.subarray(n)] : [];
      else this.buffered = [all];
    }
    if (consume) this.bufferedBytes -= n;
    return out;
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        // A client that does not read its responses: wait until they drain before answering more.
        if (this.socket.writableLength >= this.o.maxPendingBytes) await this.drained();
        if (this.closed) break;
        const frame = this.queue.shift()!;
        this.queuedBytes -= frame.length;
        await this.handleFrame(frame);
        this.maybeResume();
      }
    } catch (e) {
      this.close(`internal error: ${(e as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private send(correlationId: number, flexibleHeader: boolean, body: Writer): void {
    if (this.closed) return;
    const payload = body.finish();
    const head = new Writer(16);
    head.int32(0).int32(correlationId);
    if (flexibleHeader) head.uvarint(0);
    head.setInt32(0, head.pos - 4 + payload.length);
    this.socket.write(head.finish());
    const ok = this.socket.write(payload);
    if (!ok && this.socket.writableLength >= this.o.maxPendingBytes) this.socket.pause();
  }

  private async handleFrame(frame: Buffer): Promise<void> {
    if (this.rawSaslNext) {
      this.rawSaslNext = false;
      const result = await this.authenticate(frame);
      if (result.errorCode !== 0) {
        this.close(`SASL authentication failed: ${result.errorMessage}`);
        return;
      }
      const w = new Writer(4);
      w.int32(0);
      this.socket.write(w.finish());
      return;
    }
    const r = new Reader(frame);
    let apiKey: number, version: number, correlationId: number, clientId: string | null;
    try {
      apiKey = r.int16();
      version = r.int16();
      correlationId = r.int32();
      clientId = r.string();
    } catch (e) {
      this.close(`malformed request header: ${(e as Error).message}`);
      return;
    }
    const api = APIS[apiKey];
    this.o.onRequest(apiKey);
    if (apiKey === 18 && (version < 0 || version > M.ApiVersionsRequest.versions[1])) {
      // Kafka answers an ApiVersions it does not know with a v0 body, so the client can downgrade.
      this.sendApiVersions(correlationId, 0, ErrorCode.UNSUPPORTED_VERSION);
      return;
    }
    if (!api || version < api.request.versions[0] || version > api.request.versions[1]) {
      if (this.tenant === null && !SASL_KEYS.has(apiKey) && apiKey !== 18) {
        this.close(`API key ${apiKey} before SASL authentication`);
        return;
      }
      this.o.log({ event: 'kafka.unsupported', apiKey, version, clientId });
      this.send(correlationId, false, new Writer(2).int16(ErrorCode.UNSUPPORTED_VERSION));
      return;
    }
    const flexible = isFlexible(api.request, version);
    let req: Msg;
    try {
      if (flexible) skipTaggedFields(r);
      req = decodeMessage(api.request, version, r);
    } catch (e) {
      if (!(e instanceof KafkaDecodeError)) throw e;
      this.close(`malformed ${api.name} v${version} request: ${e.message}`);
      return;
    }
    const respFlexible = apiKey !== 18 && isFlexible(api.response, version);
    if (apiKey === 18) {
      this.sendApiVersions(correlationId, version, 0);
      return;
    }
    if (apiKey === 17 || apiKey === 36) {
      const body = await this.sasl(apiKey, version, req);
      if (body === null) return;
      const w = new Writer(64);
      encodeMessage(api.response, version, body, w);
      this.send(correlationId, respFlexible, w);
      if (body.errorCode === ErrorCode.SASL_AUTHENTICATION_FAILED) this.close(`SASL authentication failed: ${body.errorMessage}`, true);
      return;
    }
    if (this.tenant === null) {
      this.close(`${api.name} before SASL authentication`);
      return;
    }
    const ctx: HandlerContext = {
      tenant: this.tenant, clientId: clientId ?? '', clientHost: this.socket.remoteAddress ?? '',
      host: this.o.host, port: this.o.port, store: this.o.store, groups: this.o.groups, appends: this.o.appends,
      signal: this.abort.signal, maxFetchWaitMs: this.o.maxFetchWaitMs, maxInflatedBytes: this.o.maxFrameBytes,
    };
    const body = await HANDLERS[apiKey]!(req, version, ctx);
    if (body === null) return;
    const w = new Writer(apiKey === 1 ? 64 * 1024 : 256);
    encodeMessage(api.response, version, body, w);
    this.send(correlationId, respFlexible, w);
  }

  private sendApiVersions(correlationId: number, version: number, errorCode: number): void {
    const apiKeys = errorCode !== 0
      ? [{ apiKey: 18, minVersion: 0, maxVersion: M.ApiVersionsRequest.versions[1] }]
      : Object.values(APIS).map((a) => ({ apiKey: a.request.apiKey, minVersion: a.request.versions[0], maxVersion: a.request.versions[1] }))
        .sort((a, b) => a.apiKey - b.apiKey);
    const w = new Writer(256);
    encodeMessage(M.ApiVersionsResponse, version, { errorCode, apiKeys, throttleTimeMs: 0 }, w);
    this.send(correlationId, false, w); // ApiVersions responses always use header v0
  }

  private async sasl(apiKey: number, version: number, req: Msg): Promise<Msg | null> {
    const mechanisms = this.o.auth === 'none' ? [] : ['PLAIN'];
    if (apiKey === 17) {
      if (this.o.auth === 'none' || req.mechanism !== 'PLAIN') {
        return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
      }
      if (this.tenant !== null) {
        // Re-authentication (KIP-368) needs SaslHandshake v1 and SaslAuthenticate.
        if (version === 0) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms };
        this.reauthenticating = true;
        return { errorCode: 0, mechanisms };
      }
      this.saslMechanism = 'PLAIN';
      this.rawSaslNext = version === 0;
      return { errorCode: 0, mechanisms };
    }
    if (this.saslMechanism === null || (this.tenant !== null && !this.reauthenticating)) {
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate without a SaslHandshake', authBytes: new Uint8Array(0), sessionLifetimeMs: 0 };
    }
    this.reauthenticating = false;
    const result = await this.authenticate(req.authBytes as Uint8Array);
    return { ...result, authBytes: new Uint8Array(0) };
  }

  /** SASL/PLAIN: `authzid NUL username NUL password`; username = tenant, password = token. */
  private async authenticate(bytes: Uint8Array): Promise<{ errorCode: number; errorMessage: string | null; sessionLifetimeMs: number }> {
    const fail = (errorMessage: string) => ({ errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage, sessionLifetimeMs: 0 });
    if (this.o.auth === 'none') return fail('SASL is not enabled on this listener');
    const parts = Buffer.from(bytes).toString('utf8').split('\u0000');
    if (parts.length !== 3) return fail('SASL/PLAIN message must be authzid NUL username NUL password');
    const [authzid, tenant, token] = parts as [string, string, string];
    if (!tenant || (authzid && authzid !== tenant)) return fail('SASL/PLAIN username must name the tenant');
    if (this.tenant !== null && tenant !== this.tenant) return fail(`a re-authentication must name the session's tenant ${this.tenant}`);
    let verdict: boolean | { expiresAt?: number } = false;
    try {
      verdict = await this.o.auth.verify(tenant, token);
    } catch {
      verdict = false;
    }
    if (!verdict) return fail(`the password is not a valid token for tenant ${tenant}`);
    const expiresAt = typeof verdict === 'object' ? verdict.expiresAt : undefined;
    const lifetime = expiresAt === undefined ? 0 : Math.max(1, expiresAt - Date.now());
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
    this.sessionTimer = null;
    if (lifetime > 0 && !this.closed) {
      this.sessionTimer = setTimeout(() => this.close('SASL session expired (the token expired)'), Math.min(lifetime, 0x7fffffff));
      this.sessionTimer.unref();
    }
    this.tenant = tenant;
    this.o.log({ event: 'kafka.authenticated', tenant, remote: this.socket.remoteAddress });
    return { errorCode: 0, errorMessage: null, sessionLifetimeMs: lifetime };
  }
}

function skipTaggedFields(r: Reader): void {
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    r.uvarint();
    r.raw(r.uvarint(), 'tagged field');
  }
}
