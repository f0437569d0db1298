/**
 * A TCP proxy on 127.0.0.1 in front of a server, whose path can be cut and restored: the network
 * between a browser and the replica going away and coming back, the same in every engine.
 *
 * Invariants:
 * - While cut, every open connection is destroyed and new ones are reset on accept: a request
 *   fails as a network error, never as an HTTP answer.
 * - The proxy's port stays the same across cut and restore, so clients keep their URL.
 */
import { createConnection, createServer, type Socket } from 'node:net';

/** A running proxy. */
export interface CuttableProxy {
  /** `http://127.0.0.1:<port>`, to use instead of the server's URL. */
  url: string;
  /** Cuts the path: open connections are destroyed, new ones reset. */
  cut(): void;
  /** Lets connections through again. */
  restore(): void;
  /** Stops the proxy. */
  close(): Promise<void>;
}

/** Starts a proxy forwarding to `target` (an http://host:port URL). */
export async function startCuttableProxy(target: string): Promise<CuttableProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let isCut = false;
  const proxy: CuttableProxy = {
    url: '',
    cut() { isCut = true; for (const s of open) s.destroy(); open.clear(); },
    restore() { isCut = false; },
    close: () => new Promise((r) => { proxy.cut(); server.close(() => r()); }),
  };
  const server = createServer((client) => {
    if (isCut) { client.resetAndDestroy(); return; }
    const upstream = createConnection({ host: hostname, port: Number(port) });
    open.add(client); open.add(upstream);
    const drop = () => { client.destroy(); upstream.destroy(); open.delete(client); open.delete(upstream); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  proxy.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return proxy;
}
