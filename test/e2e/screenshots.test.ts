/**
 * Screenshots of the demo and of <lanes-inspector> in headless Chromium, at desktop and phone
 * widths, light and dark, with real data (two tabs in the groups). They are written to
 * docs/screenshots/ (shown in the README) when UPDATE_SCREENSHOTS=1, otherwise to a temporary
 * directory, so the suite always takes them and checks they are real images of the right size.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM_ARGS } from './browser.js';
import { spawn, type ChildProcess } from 'node:child_process';

const update = process.env.UPDATE_SCREENSHOTS === '1';
const outDir = update ? 'docs/screenshots' : mkdtempSync(join(tmpdir(), 'lanes-shots-'));
let server: ChildProcess;
let url: string;
let browser: Browser;
const data = mkdtempSync(join(tmpdir(), 'lanes-shots-data-'));

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  // What `npm start` runs after its build: the demo and the replica, so sync shows as it does for a person.
  server = spawn(process.execPath, ['scripts/serve.mjs'], { env: { ...process.env, PORT: '0', LANES_DATA: data }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  url = await new Promise<string>((resolve, reject) => {
    server.stdout!.on('data', (d: Buffer) => { out += d.toString(); const m = out.match(/lanes demo: (\S+)/); if (m) resolve(m[1]!); });
    server.once('exit', (code) => reject(new Error(`serve.mjs exited (${code}): ${out}`)));
  });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGINT');
    await exited;
  }
  rmSync(data, { recursive: true, force: true });
  if (!update) rmSync(outDir, { recursive: true, force: true });
});

/** PNG width and height from the IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  expect(b.subarray(1, 4).toString()).toBe('PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

const VIEWS = [
  { name: 'desktop', viewport: { width: 1280, height: 900 }, scale: 1 },
  { name: 'phone', viewport: { width: 390, height: 844 }, scale: 2 },
] as const;

for (const scheme of ['light', 'dark'] as const) {
  it(`demo and inspector, ${scheme}`, async () => {
    for (const v of VIEWS) {
      // A fresh profile per shot: the same data every time.
      const logs: string[] = [];
      const context = await browser.newContext({ viewport: v.viewport, deviceScaleFactor: v.scale, colorScheme: scheme });
      const open = async (): Promise<Page> => {
        const p = await context.newPage();
        p.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') logs.push(`${m.type()}: ${m.text()}`); });
        p.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
        await p.goto(url);
        await p.waitForFunction(() => document.documentElement.dataset.ready === 'true', undefined, { timeout: 30_000 });
        return p;
      };
      const page = await open();
      const other = await open();
      await page.waitForFunction(() => (window as any).demo.ownedPartitions().length === 3, undefined, { timeout: 30_000 });
      await page.evaluate(async () => {
        const d = (window as any).demo;
        for (let i = 0; i < 14; i++) await d.placeOrder(['c-ada', 'c-grace', 'c-linus', 'c-margaret'][i % 4], ['Coffee beans', 'Teapot', 'Mug', 'Grinder'][i % 4], 1 + (i % 3));
      });
      await page.evaluate(async () => {
        const d = (window as any).demo;
        const p = d.client.producer();
        await p.connect();
        await p.send({ topic: 'customers', messages: [
          { key: 'c-ada', value: { name: 'Ada Lovelace', address: '12 St James Square, London' } },
          { key: 'c-grace', value: { name: 'Grace Hopper', address: '1 Navy Way, Arlington' } },
          { key: 'c-ada', value: { name: 'Ada Lovelace', address: '5 Marylebone Rd, London' } },
        ] });
        await p.disconnect();
      });
      await page.evaluate(() => (window as any).demo.updateOrder(document.querySelector('#orders code')!.textContent));
      await page.waitForFunction(() => document.querySelectorAll('#notifications li').length > 0 && document.querySelectorAll('#customers tr').length === 2);
      await other.waitForFunction(() => document.querySelectorAll('#invoices tr').length > 0 || document.querySelectorAll('#notifications li').length > 0, undefined, { timeout: 30_000 });
      await page.waitForFunction(() => document.querySelector('#sync')!.shadowRoot!.querySelector('[part=badge]')?.textContent?.trim() === 'Synced' && document.querySelectorAll('#mirror tr').length > 0, undefined, { timeout: 60_000 });
      // The page and its elements, with data, have no axe-core violation in this scheme.
      await page.addScriptTag({ url: '/node_modules/axe-core/axe.min.js' });
      const violations = await page.evaluate(async () => ((await (window as any).axe.run(document, { resultTypes: ['violations'] })).violations as { id: string; nodes: { target: unknown }[] }[]).map((x) => `${x.id} ${JSON.stringify(x.nodes.map((n) => n.target))}`));
      expect(violations).toEqual([]);
      const demo = join(outDir, `demo-${v.name}-${scheme}.png`);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: demo, fullPage: v.name === 'desktop', animations: 'disabled' });
      expect(pngSize(demo).width).toBe(v.viewport.width * v.scale);

      // The inspector: groups on desktop, records (with one selected) on both.
      const ins = page.locator('lanes-inspector');
      await page.click('lanes-inspector >> role=tab[name="Groups"]');
      await page.waitForFunction(() => {
        const view = document.querySelector('lanes-inspector')!.shadowRoot!.querySelector('lanes-group-view')!;
        return view.shadowRoot!.querySelectorAll('[part=group]').length === 2 && [...view.shadowRoot!.querySelectorAll('[part=members] tbody')].every((t) => t.querySelectorAll('tr').length === 2);
      }, undefined, { timeout: 60_000 }).catch(async (e) => {
        const shown = await page.evaluate(() => document.querySelector('lanes-inspector')!.shadowRoot!.querySelector('lanes-group-view')!.shadowRoot!.textContent!.replace(/\s+/g, ' ').slice(0, 1500));
        // What the broker knows, for comparison, and what the pages logged.
        const known = await page.evaluate(async () => {
          const admin = (window as any).demo.client.admin();
          await admin.connect();
          try { return JSON.stringify(await admin.describeGroups((await admin.listGroups()).groups.map((g: { groupId: string }) => g.groupId))).slice(0, 1500); } finally { await admin.disconnect(); }
        }).catch((x) => String(x));
        throw new Error(`${e.message}; the group view shows: ${shown}; the broker describes: ${known}; the pages logged: ${logs.slice(-20).join(' | ') || 'nothing'}`);
      });
      if (v.name === 'desktop') {
        const file = join(outDir, `inspector-groups-${v.name}-${scheme}.png`);
        await ins.screenshot({ path: file, animations: 'disabled' });
        expect(pngSize(file).width).toBeGreaterThan(600);
      }
      await page.click('lanes-inspector >> role=tab[name="Topics"]');
      if (v.name === 'desktop') {
        const file = join(outDir, `inspector-topics-${v.name}-${scheme}.png`);
        await ins.screenshot({ path: file, animations: 'disabled' });
      }
      await page.click('lanes-inspector >> role=tab[name="Records"]');
      await page.evaluate(async () => {
        const b = document.querySelector('lanes-inspector')!.shadowRoot!.querySelector('lanes-record-browser') as any;
        const admin = (window as any).demo.client.admin();
        await admin.connect();
        const offsets = await admin.fetchTopicOffsets('orders');
        await admin.disconnect();
        b.topic = 'orders';
        b.partition = [...offsets].sort((x: any, y: any) => Number(y.high) - Number(x.high))[0].partition;
      });
      await page.waitForFunction(() => {
        const b = document.querySelector('lanes-inspector')!.shadowRoot!.querySelector('lanes-record-browser')!.shadowRoot!;
        return (b.querySelector('#r-0')?.textContent ?? '').includes('neworder');
      }, undefined, { timeout: 30_000 });
      await page.evaluate(() => {
        const b = document.querySelector('lanes-inspector')!.shadowRoot!.querySelector('lanes-record-browser') as any;
        b.showOffset(1, 'reveal');
      });
      await page.waitForFunction(() => {
        const b = document.querySelector('lanes-inspector')!.shadowRoot!.querySelector('lanes-record-browser')!.shadowRoot!;
        return (b.querySelector('[part=details] pre')?.textContent ?? '').includes('orderId');
      });
      const file = join(outDir, `inspector-records-${v.name}-${scheme}.png`);
      await ins.screenshot({ path: file, animations: 'disabled' });
      expect(pngSize(file).height).toBeGreaterThan(300);
      await context.close();
    }
  }, 180_000);
}
