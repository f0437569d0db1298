/**
 * lanes' ports of KafkaJS's example programs (producer with GZIP and a logCreator, consumer with
 * eachBatch, resolveOffset and heartbeat, admin) run to completion: in Node on the in-page broker
 * (fake-indexeddb, a child process ended by the SIGTERM the programs trap), and in Chromium
 * against the SharedWorker broker of the built bundle.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../e2e/browser.js';

interface Summary { topics: string; requests: number; sent: number; msgNumber: number; consumed: number; keysSeen: number; errors: string[] }

function expectCompleted(s: Summary) {
  expect(s.topics).toBe('topic-test1 => 3 part, topic-test2 => 4 part, topic-test3 => 5 part');
  expect(s.sent).toBeGreaterThanOrEqual(2);
  expect(s.sent).toBe(s.requests);
  // Every record the producer was told was sent, the consumer printed, with its key and header.
  expect(s.consumed).toBe(s.msgNumber);
  expect(s.keysSeen).toBe(s.msgNumber);
  expect(s.errors).toEqual([]);
}

describe('KafkaJS example programs', () => {
  it('run to completion in Node on the in-page broker and end on SIGTERM after disconnecting', async () => {
    const driver = fileURLToPath(new URL('./node-driver.mjs', import.meta.url));
    const child = spawn(process.execPath, [driver], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    const line = out.split('\n').find((l) => l.startsWith('DRIVER '));
    expect(line, out.slice(-2000)).toBeDefined();
    expectCompleted(JSON.parse(line!.slice('DRIVER '.length)) as Summary);
    expect(out).toContain('[example/producer] disconnecting');
    // The consumer's trap disconnects, then re-raises the signal: the process ends by it.
    expect([code, signal]).toEqual([null, 'SIGTERM']);
  }, 120_000);

  describe('in Chromium', () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness(); }, 60_000);
    afterAll(async () => { await h?.close(); });

    it('run to completion against the SharedWorker broker of the built bundle', async () => {
      const page = await h.context.newPage();
      // The programs use the default database of this fresh profile.
      await page.goto(`${h.url}/test/e2e/pages/examples.html`);
      await page.waitForFunction(() => (window as { kills?: string[]; failure?: string }).kills || (window as { failure?: string }).failure, null, { timeout: 100_000 });
      const r = await page.evaluate(() => ({
        failure: (window as { failure?: string }).failure,
        summary: (window as { summary?: unknown }).summary as Summary,
        kills: (window as { kills?: string[] }).kills,
        exitCode: (window as { exitCode?: number }).exitCode,
        host: 'SharedWorker' in window,
      }));
      expect(r.failure).toBeUndefined();
      expect(r.host).toBe(true);
      expectCompleted(r.summary);
      expect(r.kills).toEqual(['SIGTERM', 'SIGTERM']);
      expect(r.exitCode).toBeUndefined(); // no unhandled error made a program exit
      await page.close();
    }, 120_000);
  });
});
