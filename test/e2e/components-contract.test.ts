/**
 * The `lanes/components` contract on the built bundle, in Chromium: importing
 * dist/components.js defines every element; an element given only a `database` attribute opens
 * its own client (SharedWorker broker) and shows what another client of that database wrote,
 * live; package.json exports `./components`.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './browser.js';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 60_000);
afterAll(async () => { await h?.close(); });

it('package.json exports lanes/components as the ES module dist/components.js', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  expect(pkg.exports['./components'].default).toBe('./dist/components.js');
  expect(readFileSync('dist/components.js', 'utf8')).toMatch(/from '\.\/index\.js'/);
});

it('defines every element, and an element opens its client from its database attribute', async () => {
  const page = await h.context.newPage();
  await page.goto(`${h.url}/test/e2e/pages/components-contract.html`);
  await page.waitForFunction(() => (window as any).contractReady === true);
  expect(await page.evaluate(() => (window as any).defined)).toEqual([
    'lanes-inspector', 'lanes-topic-view', 'lanes-group-view', 'lanes-record-browser', 'lanes-produce-form', 'lanes-sync-status',
  ]);
  const database = `contract-${Date.now()}`;
  await page.evaluate(async (database) => {
    const client = (window as any).createClient({ clientId: 'writer', database });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] });
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: [{ key: 'a', value: 1, partition: 1 }] });
    (window as any).producer = producer;
    const view = document.createElement('lanes-topic-view');
    view.setAttribute('database', database);
    document.body.append(view);
  }, database);
  const cells = () => page.evaluate(() => [...document.querySelector('lanes-topic-view')!.shadowRoot!.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.textContent!.trim()).join(' ')));
  const row = (i: number) => page.waitForFunction(([i, want]) => {
    const tr = document.querySelector('lanes-topic-view')!.shadowRoot!.querySelectorAll('tbody tr')[i as number];
    return !!tr && [...tr.querySelectorAll('th, td')].map((c) => c.textContent!.trim()).join(' ') === want;
  }, [i, i === 1 ? '1 0 1 — 1' : '0 0 1 — 1'] as const);
  await row(1);
  expect(await cells()).toEqual(['0 0 0 — 0', '1 0 1 — 1']);
  // Live, from the other client's append.
  await page.evaluate(() => (window as any).producer.send({ topic: 'orders', messages: [{ value: 2, partition: 0 }] }));
  await row(0);
  // Removing the element releases its client (nothing left running that keeps the page busy).
  await page.evaluate(() => document.querySelector('lanes-topic-view')!.remove());
  await page.close();
}, 60_000);
