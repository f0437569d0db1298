// Issue 8, Must show 2 (server side): `lanes-replica serve` is SIGKILLed at 20 random points
// while devices upload, and restarted on the same data directory and port. Devices resend what
// was not acknowledged (as the sync agent does); in the end the replica holds exactly the
// records sent, once each, in each device's order, at the offsets acknowledged.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PushBatch } from '../../src/protocol/replica-wire.js';
import { mintToken } from '../../src/replica/auth.js';
import { deviceBatch, exited, push, readAll, ROOT, SECRET, spawnServer, tempDir, texts } from './helpers.js';

const built = existsSync(join(ROOT, 'dist', 'node', 'replica', 'cli.js'));
let current: Awaited<ReturnType<typeof spawnServer>> | null = null;
afterAll(async () => { if (current) { current.child.kill('SIGKILL'); await exited(current.child); } });

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

describe.skipIf(!built)('replica server killed during uploads (needs npm run build)', () => {
  it('20 SIGKILLs and restarts: exactly the records sent, once each', async () => {
    const data = tempDir();
    const port = await freePort();
    const args = ['--port', String(port), '--data', data, '--secret', SECRET, '--log-level', 'warn'];
    const start = async () => { current = await spawnServer(args); };
    await start();
    const url = `http://127.0.0.1:${port}`;
    const token = await mintToken(SECRET, 'crash');
    const devices = 2, per = 20, perFrame = 5, partitions = 3;

    // Requests in flight, so a kill lands during an upload.
    let inflight = 0;
    let wake: (() => void) | null = null;
    let uploading = true;
    let killerError: unknown = null;
    const acked: { device: number; i: number; partition: number; offset: number }[] = [];

    // Each device uploads until the 20 kills are done (batches made on demand, in order).
    const sentBatches = new Array<number>(devices).fill(0);
    const batchOf = (d: number, i: number) => deviceBatch(texts(`d${d}`, i * per, per), { topic: 'crash', partition: i % partitions, baseOffset: i * per, baseSequence: i * per, producerId: 1 });
    const device = async (d: number) => {
      let next = 0;
      while ((uploading || next < 30) && !killerError) {
        const frame = Array.from({ length: perFrame }, (_, k) => ({ i: next + k, b: batchOf(d, next + k) }));
        inflight++;
        wake?.();
        try {
          const r = await push(url, token, `device-${d}`, frame.map((f) => f.b), { gzip: next % 2 === 0 });
          if (r.status !== 200) throw new Error(`status ${r.status}`);
          r.body.results.forEach((res, k) => acked.push({ device: d, i: frame[k]!.i, partition: res.partition, offset: res.replicaBaseOffset }));
          next += frame.length;
          sentBatches[d] = next;
        } catch {
          await new Promise((res) => setTimeout(res, 50)); // server down: retry the same frame
        } finally {
          inflight--;
        }
      }
    };

    let kills = 0;
    const killer = async () => {
      let seed = 7;
      const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
      while (kills < 20) {
        // Progress between kills: at least one more acknowledgement, then a kill at a random
        // moment of an upload in flight (requests take a few to tens of ms here).
        const ackedBefore = acked.length;
        while (acked.length === ackedBefore) await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, rnd(40)));
        while (inflight === 0) await new Promise<void>((r) => { wake = r; setTimeout(r, 20); });
        await new Promise((r) => setTimeout(r, rnd(30)));
        const child = current!.child;
        child.kill('SIGKILL');
        await exited(child);
        kills++;
        await new Promise((r) => setTimeout(r, rnd(100)));
        await start();
        await new Promise((r) => setTimeout(r, 50 + rnd(300)));
      }
    };
    const k = killer().then(() => { uploading = false; }, (e) => { killerError = e; uploading = false; });
    await Promise.all(Array.from({ length: devices }, (_, d) => device(d)));
    await k;
    expect(killerError).toBeNull();
    expect(kills).toBe(20);

    // Every batch acknowledged (some more than once, by retries), with one offset each.
    const byBatch = new Map<string, number>();
    for (const a of acked) {
      const key = `${a.device}/${a.i}`;
      if (byBatch.has(key)) expect(byBatch.get(key)).toBe(a.offset);
      byBatch.set(key, a.offset);
    }
    expect(byBatch.size).toBe(sentBatches.reduce((a, b) => a + b, 0));

    let total = 0;
    for (let p = 0; p < partitions; p++) {
      const all = await readAll(url, token, 'crash', p, 1000);
      total += all.length;
      expect(all.map((r) => Number(r.offset))).toEqual(all.map((_, i) => i));
      for (let d = 0; d < devices; d++) {
        const mine = all.filter((r) => r.value!.startsWith(`d${d}-`)).map((r) => r.value);
        const expected = Array.from({ length: sentBatches[d]! }, (_, i) => i).filter((i) => i % partitions === p)
          .flatMap((i) => Array.from({ length: per }, (_, j) => `d${d}-${i * per + j}`));
        expect(mine).toEqual(expected);
      }
      for (const a of acked.filter((x) => x.partition === p)) {
        expect(all[a.offset]!.value).toBe(`d${a.device}-${a.i * per}`);
      }
    }
    expect(total).toBe(sentBatches.reduce((a, b) => a + b, 0) * per);

    // SIGTERM drains and exits cleanly.
    const child = current!.child;
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    current = null;
  }, 240_000);
});
