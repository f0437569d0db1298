/** The page `npm start` serves: a person creates a topic, produces records and reads them back. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './browser.js';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 60_000);
afterAll(async () => { await h?.close(); });

it('creates a topic, produces and reads records back through the page', async () => {
  const page = await h.context.newPage();
  await page.goto(`${h.url}/web/playground.html`);
  await page.waitForFunction(() => /no topics yet|demo/.test(document.getElementById('status')!.textContent ?? ''));
  await page.fill('#topic', 'clicks');
  await page.fill('#partitions', '2');
  await page.click('#create');
  await page.waitForFunction(() => document.getElementById('status')!.textContent!.includes('clicks:'));
  await page.fill('#key', 'user-1');
  await page.fill('#value', '{"x":1}');
  await page.click('#send');
  await page.click('#send100');
  await page.waitForFunction(() => {
    const m = document.getElementById('status')!.textContent!.match(/clicks: (.*)/);
    if (!m) return false;
    const highs = [...m[1]!.matchAll(/, (\d+)\)/g)].map((x) => Number(x[1]));
    return highs.reduce((a, b) => a + b, 0) === 101;
  });
  await page.click('#read');
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 101);
  const first = await page.$$eval('#rows tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
  expect(first.some((r) => r[2] === 'user-1' && r[3] === '{"x":1}')).toBe(true);
  // Bad input shows a typed error and writes nothing.
  await page.fill('#partition', '9');
  await page.click('#send');
  await page.waitForFunction(() => document.getElementById('status')!.className === 'error');
  expect(await page.textContent('#status')).toContain('UNKNOWN_TOPIC_OR_PARTITION');
  await page.close();
}, 60_000);
