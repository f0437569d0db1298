/**
 * The replica's Kafka listener [node]: a TCP server speaking the Kafka protocol over a
 * {@link ReplicaStore}, one {@link KafkaConnection} per client.
 *
 * Invariants:
 * - A connection's failure (bad frame, protocol error, handler error) closes that connection
 *   only; the server keeps accepting.
 * - `close()` stops accepting, closes every connection, rejects pending group joins and
 *   resolves once the server is closed.
 * - Metadata advertises the address the listener is bound to (or `advertisedHost`).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ReplicaStore } from '../store.js';
import { AppendSignal } from './append-signal.js';
import { KafkaConnection, type VerifyCredentials } from './connection.js';
import { KafkaGroups } from './groups.js';

/** Options of {@link startKafkaListener}. */
export interface KafkaListenerOptions {
  store: ReplicaStore;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. */
  port?: number;
  /** Host clients are told to connect to; default `host`. */
  advertisedHost?: string;
  /** 'none' (plaintext, tenant `defaultTenant`) or SASL/PLAIN with a credential check. */
  auth: 'none' | { verify: VerifyCredentials };
  /** Tenant of unauthenticated connections with auth 'none'; default 'default'. */
  defaultTenant?: string;
  /** Largest request frame accepted, and most bytes a produced gzip batch may inflate to; default 16 MiB (Kafka: socket.request.max.bytes). */
  maxFrameBytes?: number;
  /** A started frame must complete within this; default 30 s. */
  requestTimeoutMs?: number;
  /** A connection without requests for this long is closed; default 10 min (Kafka's connections.max.idle.ms). */
  idleTimeoutMs?: number;
  /** Stop reading a connection's requests while this many response bytes wait; default 64 MiB. */
  maxPendingBytes?: number;
  /** Longest Fetch long-poll honoured; default 30 s. */
  maxFetchWaitMs?: number;
  /** Called with the API key of every request served (metrics). */
  onRequest?(apiKey: number): void;
  /** Structured log sink; default none. */
  log?(event: Record<string, unknown>): void;
}

/** A running Kafka listener. */
export interface KafkaListener {
  host: string;
  port: number;
  /** `kafka://host:port` */
  url: string;
  /** Wakes fetches waiting on `tenant` (call after an append made elsewhere, e.g. an HTTP push). */
  notifyAppend(tenant: string): void;
  /** Stops accepting, closes every connection. */
  close(): Promise<void>;
}

/** Starts a Kafka listener; resolves once it accepts connections. */
export async function startKafkaListener(opts: KafkaListenerOptions): Promise<KafkaListener> {
  const host = opts.host ?? '127.0.0.1';
  const groups = new KafkaGroups();
  const appends = new AppendSignal();
  const connections = new Set<KafkaConnection>();
  const log = opts.log ?? (() => {});
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const advertised = opts.advertisedHost ?? host;
  const base = {
    store: opts.store, groups, appends, auth: opts.auth, defaultTenant: opts.defaultTenant ?? 'default',
    host: advertised, port,
    maxFrameBytes: opts.maxFrameBytes ?? 16 * 1024 * 1024,
    requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
    idleTimeoutMs: opts.idleTimeoutMs ?? 600_000,
    maxPendingBytes: opts.maxPendingBytes ?? 64 * 1024 * 1024,
    maxFetchWaitMs: opts.maxFetchWaitMs ?? 30_000,
    log,
    onRequest: opts.onRequest ?? (() => {}),
  };
  server.on('connection', (socket: Socket) => {
    const c = new KafkaConnection(socket, base);
    connections.add(c);
    socket.once('close', () => connections.delete(c));
  });
  server.on('error', (e) => log({ event: 'kafka.error', message: e.message }));
  return {
    host: advertised,
    port,
    url: `kafka://${advertised}:${port}`,
    notifyAppend: (tenant) => appends.notify(tenant),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of connections) c.close();
      groups.close();
      await closed;
    },
  };
}
