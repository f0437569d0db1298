/**
 * Sync keeps its pace in a hidden tab that hosts the broker (here the in-page host; the leader
 * tab without SharedWorker is the same code). Firefox runs every `setTimeout` of a hidden tab
 * about once a second; the uploader must not wait on a timer between an append and its push.
 *
 * The tab that uploads is put in the background by opening a second tab (it reports
 * `document.visibilityState === 'hidden'`). While it uploads records one send at a time, a chain
 * of `setTimeout(0)` in the same tab counts how many throttled timer turns passed: with the
 * pump scheduled by a timer every send waits for one such turn, so the uploads could not finish
 * in fewer turns than there are sends; scheduled by a MessageChannel task they finish in a few.
 *
 * Firefox only: Chromium (156, headless) throttles a hidden page's timers only once they are
 * chained five deep (and, after five hidden minutes, to one a minute), which the uploader's
 * single timer never is; a Playwright page also never becomes hidden in this harness
 * (`engines.ts`). Runs against the built bundle (npm run build).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, startEngine, type DriverTab, type Engine } from './engines.js';
import { waitFor } from './tabs.js';
import { readAll, startServer } from '../replica/helpers.js';

const SENDS = 12;

describe.skipIf(!ENGINES.includes('firefox'))('sync in a hidden tab (Firefox)', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let engine: Engine;

  beforeAll(async () => {
    server = await startServer({ allowOrigins: ['*'] });
    engine = await startEngine('firefox');
  });

  afterAll(async () => {
    await engine?.close();
    await server?.http.close();
  });

  it('a hidden tab hosting the broker uploads each send without waiting for a throttled timer', async () => {
    const token = await server.token();
    const host: DriverTab = await engine.newTab();
    await host.goto(`${engine.url}/test/e2e/pages/sync.html`);
    await waitFor('sync tab ready', () => host.evaluate(() => (window as unknown as { ready?: boolean }).ready === true));
    const database = `sync-hidden-${Date.now()}`;
    await host.evaluate(async ({ database, url, token }) => {
      const { createClient } = (window as any).lanes;
      const client = createClient({ clientId: 'hidden-host', database, broker: 'in-page', logCleanerIntervalMs: 0, sync: { url, token, lingerMs: 0, serviceWorker: false, persist: false } });
      const admin = client.admin();
      const producer = client.producer();
      await admin.connect();
      await producer.connect();
      await admin.createTopics({ topics: [{ topic: 'beats', numPartitions: 1 }] });
      (window as any).hiddenHost = { client, admin, producer };
    }, { database, url: server.url, token });
    // A second tab in front: the host goes to the background.
    const front = await engine.newTab();
    await front.goto(`${engine.url}/test/e2e/pages/sync.html`);
    await waitFor('host hidden', () => host.evaluate(() => document.visibilityState === 'hidden'));

    const r = await host.evaluate(async (sends: number) => {
      const { client, admin, producer } = (window as any).hiddenHost;
      let version = 0;
      let wake: (() => void) | null = null;
      client.sync.on('status', () => { version++; wake?.(); });
      const changed = (v: number) => (v !== version ? Promise.resolve() : new Promise<void>((res) => { wake = res; }));
      // The clock: one throttled timer turn per tick.
      let ticks = 0;
      let running = true;
      const tick = () => { if (!running) return; ticks++; setTimeout(tick, 0); };
      setTimeout(tick, 0);
      for (let i = 0; i < sends; i++) {
        await producer.send({ topic: 'beats', messages: [{ value: `beat-${i}` }] });
        for (;;) {
          const v = version;
          const [o] = await admin.fetchTopicOffsets('beats');
          if (Number(o.replicated) >= i + 1) break;
          await changed(v);
        }
      }
      running = false;
      return { ticks, visibility: document.visibilityState };
    }, SENDS);
    expect(r.visibility).toBe('hidden');
    // Each send replicated before the next: with a timer-scheduled pump that takes one throttled
    // turn per send (ticks >= SENDS); with a MessageChannel task, none.
    expect(r.ticks).toBeLessThan(SENDS / 2);
    const recs = await readAll(server.url, token, 'beats', 0);
    expect(recs.map((x) => x.value)).toEqual(Array.from({ length: SENDS }, (_, i) => `beat-${i}`));
    await front.close();
    await host.close();
  });
});
