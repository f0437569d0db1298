#!/usr/bin/env node
// `npm start`: serves the order-pipeline demo (web/) and the built bundles on 127.0.0.1 and, when
// the replica server is built, starts it on a free port with its SQLite data in .lanes-data/.
// The page reads /web/config.json to find the replica and its token. Ctrl+C (SIGINT) or SIGTERM
// stops the replica (it drains in-flight requests) and the server, then exits.
// PORT chooses the demo's port (default 8080; 0 = any free port); LANES_DATA the data directory.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startStaticServer } from './static-server.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/lanes-replica.mjs', import.meta.url));
const replicaBuilt = existsSync(fileURLToPath(new URL('../dist/node/replica/cli.js', import.meta.url)));
const dataDir = process.env.LANES_DATA ?? fileURLToPath(new URL('../.lanes-data/', import.meta.url));
const port = Number(process.env.PORT ?? 8080);
const tenant = 'demo';
const secret = randomBytes(24).toString('base64url');

let config = { replica: null };
const routes = {
  '/': (_req, res) => res.writeHead(302, { location: '/web/' }).end(),
  '/web/config.json': (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(config)),
};
const server = await startStaticServer({ port, routes }).catch(async (e) => {
  if (e.code !== 'EADDRINUSE') throw e;
  console.log(`port ${port} is busy; using a free one`);
  return startStaticServer({ port: 0, routes });
});

/** Starts `lanes-replica serve` and resolves with its URL once it accepts requests. */
function startReplica() {
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(process.execPath, [bin, 'serve', '--host', '127.0.0.1', '--port', '0', '--data', dataDir, '--secret', secret, '--allow-origin', server.url], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      const m = out.match(/http:\/\/127\.0\.0\.1:\d+/);
      if (m) { child.stdout.off('data', onData); resolve({ child, url: m[0] }); }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    // The replica logs JSON lines; keep them out of the demo's console unless it fails.
    child.stderr.setEncoding('utf8').on('data', (d) => { out += d; });
    child.once('exit', (code) => reject(new Error(`lanes-replica exited (${code}) before listening:\n${out.slice(-2000)}`)));
  });
}

let replica = null;
if (replicaBuilt) {
  try {
    replica = await startReplica();
    const token = execFileSync(process.execPath, [bin, 'token', '--secret', secret, '--tenant', tenant, '--ttl', String(7 * 24 * 3600)], { cwd: root, encoding: 'utf8' }).trim();
    config = { replica: { url: replica.url, token, tenant } };
    replica.child.stdout.resume();
    replica.child.once('exit', (code) => { if (!stopping) console.log(`replica stopped (exit ${code}); the demo keeps working offline`); config = { replica: null }; });
  } catch (e) {
    console.log(`replica not started: ${e.message.split('\n')[0]}; serving the demo alone`);
  }
} else {
  console.log('replica server not built (dist/node/replica); serving the demo alone');
}

if (replica) console.log(`lanes replica: ${replica.url}  (SQLite in ${dataDir})`);
console.log(`lanes demo: ${server.url}/web/  (Ctrl+C to stop)`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const exited = replica && replica.child.exitCode === null ? new Promise((r) => replica.child.once('exit', r)) : null;
  if (exited) {
    replica.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (replica.child.exitCode === null) replica.child.kill('SIGKILL');
  }
  await server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
