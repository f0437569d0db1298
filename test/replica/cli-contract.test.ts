// The Contract's command lines, run exactly as written (through npx): serve prints its URL,
// token prints a token the server accepts, SIGTERM to npx stops the server.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { deviceBatch, exited, push, ROOT, tempDir, texts } from './helpers.js';

const built = existsSync(join(ROOT, 'dist', 'node', 'replica', 'cli.js'));

describe.skipIf(!built)('lanes-replica through npx (needs npm run build)', () => {
  it('serve, token, records, SIGTERM', async () => {
    const data = tempDir();
    const npx = spawn('npx', ['lanes-replica', 'serve', '--host', '127.0.0.1', '--port', '0', '--data', data, '--secret', 'S3cret'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      npx.stdout!.on('data', (d: Buffer) => { out += d; const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out); if (m) resolve(m[0]); });
      npx.stderr!.on('data', (d: Buffer) => { out += d; });
      npx.once('exit', (c) => reject(new Error(`npx exited ${c}: ${out}`)));
    });
    const { stdout } = await promisify(execFile)('npx', ['lanes-replica', 'token', '--secret', 'S3cret', '--tenant', 'acme', '--ttl', '600'], { cwd: ROOT });
    const token = stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    expect((await fetch(`${url}/v1/health`)).status).toBe(200);
    expect((await fetch(`${url}/v1/topics`)).status).toBe(401);
    expect((await push(url, token, 'd', [deviceBatch(texts('c', 0, 2), { baseOffset: 0 })])).status).toBe(200);
    const body = await (await fetch(`${url}/v1/topics/orders/partitions/0/records?offset=0&limit=10`, { headers: { Authorization: `Bearer ${token}` } })).json();
    expect(body).toEqual({
      records: [
        { offset: '0', key: 'k0', value: 'c-0', headers: {}, timestamp: '1700000000000' },
        { offset: '1', key: 'k1', value: 'c-1', headers: {}, timestamp: '1700000000000' },
      ],
      nextOffset: '2',
    });
    npx.kill('SIGTERM');
    await exited(npx);
    // The server itself stops too (npx does not forward SIGTERM; the server notices its parent left).
    const deadline = Date.now() + 15_000;
    let stopped = false;
    while (!stopped && Date.now() < deadline) {
      stopped = await fetch(`${url}/v1/health`).then(() => false, () => true);
      if (!stopped) await new Promise((r) => setTimeout(r, 100));
    }
    expect(stopped).toBe(true);
  }, 180_000);
});
