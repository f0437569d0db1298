// A real 3-node nats-server JetStream cluster on loopback for tests and benchmarks: free
// client, route and monitoring ports, separate store dirs; nodes can be stopped and restarted.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect } from 'nats';

export const NATS_SERVER = process.env.NATS_SERVER ?? 'nats-server';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A running cluster. */
export interface NatsCluster {
  urls: string[];
  /** Stops node i (SIGTERM, or SIGKILL with hard) and waits for it to exit. */
  stop(i: number, hard?: boolean): Promise<void>;
  /** Starts node i again with the same ports and store. */
  start(i: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts `n` nodes under `dir` and resolves when JetStream answers through them. */
export async function startNatsCluster(dir: string, n = 3): Promise<NatsCluster> {
  const ports = await Promise.all(Array.from({ length: n }, async () => ({ client: await freePort(), route: await freePort() })));
  const procs: (ChildProcess | null)[] = [];
  const conf = (i: number) => {
    const file = join(dir, `n${i}.conf`);
    mkdirSync(join(dir, `n${i}`), { recursive: true });
    writeFileSync(file, [
      `server_name: n${i}`,
      `listen: 127.0.0.1:${ports[i]!.client}`,
      `jetstream { store_dir: "${join(dir, `n${i}`)}", max_memory_store: 64MB, max_file_store: 2GB }`,
      `cluster { name: lanes, listen: 127.0.0.1:${ports[i]!.route}, routes: [${ports.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p.route}`).join(', ')}] }`,
    ].join('\n'));
    return file;
  };
  const start = async (i: number) => {
    const p = spawn(NATS_SERVER, ['-c', conf(i)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
    p.once('exit', (code) => { if (procs[i] === p) procs[i] = null; if (code && code !== 0 && code !== 143) console.error(`nats-server n${i} exited ${code}: ${err}`); });
    procs[i] = p;
  };
  for (let i = 0; i < n; i++) await start(i);
  const urls = ports.map((p) => `nats://127.0.0.1:${p.client}`);
  // Ready when a JetStream API call succeeds (meta leader elected).
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const nc = await connect({ servers: urls, timeout: 2000 });
      try {
        const jsm = await nc.jetstreamManager({ timeout: 2000 });
        await jsm.getAccountInfo();
        break;
      } finally { await nc.close(); }
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`JetStream cluster did not become ready: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const stop = async (i: number, hard = false) => {
    const p = procs[i];
    if (!p) return;
    const done = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await done;
    procs[i] = null;
  };
  return {
    urls,
    stop,
    start,
    async close() { await Promise.all(procs.map((_, i) => stop(i, true))); },
  };
}
