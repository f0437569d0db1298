/**
 * The thin client in real Chromium: a page whose broker runs in the SharedWorker downloads the
 * client bundle and nothing of the broker (the log, appender, cleaner and group coordinator
 * live in an on-demand chunk), while a page that hosts the broker itself (leader tab) loads
 * that chunk when it connects. What runs only after a failure (retries, a handler's retries)
 * and eachBatch's payload are chunks too: fetched on their first use, and working once fetched.
 * Runs against the built bundle (npm run build).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../e2e/browser.js';
import { openTab } from '../e2e/tabs.js';

const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
let h: Harness;
let n = 0;
beforeAll(async () => { h = await startHarness(); }, 60_000);
afterAll(async () => { await h?.close(); });

/** Every script URL under /dist/ requested by any page or worker of the browser while `fn` runs. */
async function scriptsLoadedDuring(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const on = (r: Request) => { const u = new URL(r.url()); if (u.pathname.startsWith('/dist/') && u.pathname.endsWith('.js')) seen.push(u.pathname.slice('/dist/'.length)); };
  h.context.on('request', on);
  try {
    await fn();
  } finally {
    h.context.off('request', on);
  }
  return seen;
}

describe('the client bundle', () => {
  it('holds no broker code: the in-page and leader-tab hosts are a separate chunk', () => {
    const index = readFileSync(`${dist}index.js`, 'utf8');
    for (const name of ['class LogStore', 'class Appender', 'class Broker ', 'class BrokerHost', 'runCleaner', 'class GroupService']) expect(index).not.toContain(name);
    const chunk = readdirSync(dist).find((f) => /^local-host-.*\.js$/.test(f));
    expect(chunk).toBeDefined();
    expect(readFileSync(`${dist}${chunk}`, 'utf8')).toContain('class LogStore');
  });

  it('a page using the SharedWorker never downloads the broker chunk', async () => {
    const database = `thin-sw-${Date.now()}-${n++}`;
    const loaded = await scriptsLoadedDuring(async () => {
      const tab = await openTab(h.context, h.url, 'sw', 'shared-worker');
      await tab.page.evaluate(([d]) => (window as any).harness.createTopic(d, 't', 2), [database]);
      await tab.page.evaluate(([d]) => (window as any).harness.produce({ database: d, topic: 't', count: 10, numPartitions: 2 }), [database]);
      const got = await tab.page.evaluate(([d]) => (window as any).harness.readAll({ database: d, topic: 't' }), [database]) as unknown[];
      expect(got).toHaveLength(10);
      await tab.page.close();
    });
    expect(loaded).toContain('index.js');
    expect(loaded.filter((f) => f.startsWith('local-host-'))).toEqual([]);
    // Producer, admin and an eachMessage consumer that never failed: no failure or eachBatch code.
    expect(loaded.filter((f) => /^(failure|retry-loop|each-batch)-/.test(f))).toEqual([]);
  }, 60_000);

  it('a handler that throws fetches the retry chunks and gets its record again; eachBatch fetches its payload chunk', async () => {
    const database = `thin-fail-${Date.now()}-${n++}`;
    let got: { tries: number; batch: string[] } | undefined;
    const loaded = await scriptsLoadedDuring(async () => {
      const tab = await openTab(h.context, h.url, 'fail', 'shared-worker');
      await tab.page.evaluate(([d]) => (window as any).harness.createTopic(d, 't', 1), [database]);
      await tab.page.evaluate(([d]) => (window as any).harness.produce({ database: d, topic: 't', count: 2, numPartitions: 1 }), [database]);
      got = await tab.page.evaluate(async ([d]) => {
        const client = (window as any).lanes.createClient({ database: d, logLevel: 0 });
        const read = async (run: (done: (v: unknown) => void) => object) => {
          const c = client.consumer();
          await c.connect();
          c.assign([{ topic: 't', partition: 0, offset: 'earliest' }]);
          const v = await new Promise((done) => { void c.run(run(done)); });
          await c.disconnect();
          return v;
        };
        let tries = 0;
        await read((done) => ({
          retry: { initialRetryTime: 10, retries: 2 },
          eachMessage: async ({ message }: { message: { offset: string } }) => {
            if (message.offset === '0' && tries++ === 0) throw new Error('once');
            if (message.offset === '1') done(undefined);
          },
        }));
        const batch = await read((done) => ({ eachBatch: async ({ batch: b }: { batch: { messages: { offset: string }[]; offsetLag(): string } }) => done([...b.messages.map((m) => m.offset), b.offsetLag()]) }));
        return { tries, batch: batch as string[] };
      }, [database]);
      await tab.page.close();
    });
    expect(got).toEqual({ tries: 2, batch: ['0', '1', '0'] });
    expect(loaded.filter((f) => f.startsWith('failure-'))).toHaveLength(1);
    expect(loaded.filter((f) => f.startsWith('retry-loop-'))).toHaveLength(1);
    expect(loaded.filter((f) => f.startsWith('each-batch-'))).toHaveLength(1);
  }, 60_000);

  it('a leader tab (no SharedWorker) loads the broker chunk when it connects', async () => {
    const database = `thin-lt-${Date.now()}-${n++}`;
    const loaded = await scriptsLoadedDuring(async () => {
      const tab = await openTab(h.context, h.url, 'leader', 'leader-tab');
      await tab.page.evaluate(([d]) => (window as any).harness.createTopic(d, 't', 1), [database]);
      await tab.page.close();
    });
    expect(loaded.filter((f) => f.startsWith('local-host-'))).toHaveLength(1);
  }, 60_000);
});
