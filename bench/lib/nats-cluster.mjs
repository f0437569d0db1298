// A 3-node nats-server JetStream cluster on loopback for the replica benchmark (the tests use
// the same layout from test/replica/nats-cluster.ts): free ports, separate store dirs.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect } from 'nats';

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Starts `n` nodes under `dir`; resolves with { urls, close() } once JetStream answers. */
export async function startNatsCluster(dir, n = 3) {
  const bin = process.env.NATS_SERVER ?? 'nats-server';
  const ports = [];
  for (let i = 0; i < n; i++) ports.push({ client: await freePort(), route: await freePort() });
  const procs = ports.map((p, i) => {
    const conf = join(dir, `n${i}.conf`);
    mkdirSync(join(dir, `n${i}`), { recursive: true });
    writeFileSync(conf, [
      `server_name: n${i}`,
      `listen: 127.0.0.1:${p.client}`,
      `jetstream { store_dir: "${join(dir, `n${i}`)}", max_memory_store: 64MB, max_file_store: 4GB }`,
      `cluster { name: lanes, listen: 127.0.0.1:${p.route}, routes: [${ports.filter((_, j) => j !== i).map((q) => `nats-route://127.0.0.1:${q.route}`).join(', ')}] }`,
    ].join('\n'));
    return spawn(bin, ['-c', conf], { stdio: 'ignore' });
  });
  const urls = ports.map((p) => `nats://127.0.0.1:${p.client}`);
  const close = async () => {
    await Promise.all(procs.map((p) => (p.exitCode !== null ? undefined : new Promise((r) => { p.once('exit', r); p.kill('SIGKILL'); }))));
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const nc = await connect({ servers: urls, timeout: 2000 });
      try { await (await nc.jetstreamManager({ timeout: 2000 })).getAccountInfo(); break; } finally { await nc.close(); }
    } catch (e) {
      if (Date.now() > deadline) { await close(); throw new Error(`JetStream cluster did not become ready: ${e.message}`); }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return { urls, close };
}
