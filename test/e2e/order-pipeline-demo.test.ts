/**
 * The demo `npm start` serves, as a person would use it: scripts/serve.mjs (what `npm start`
 * runs after the build) on a free port, its printed URL opened in three tabs of one browser.
 * Orders placed in one tab are invoiced exactly once across the tabs; an order's events share a
 * partition, in order; when a tab closes, its partitions move and the inspector's group view
 * shows the member gone; the sync status goes offline and back and the records reach the
 * replica; a second browser profile (another device) sees its orders arrive through the
 * mirror; Ctrl+C (SIGINT) stops the server and the replica.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM_ARGS } from './browser.js';

let server: ChildProcess;
let url: string;
let output = '';
let context: BrowserContext;
const dirs: string[] = [];

/** Starts serve.mjs on a free port and resolves with the demo URL it prints. */
function startDemo(): Promise<string> {
  const data = mkdtempSync(join(tmpdir(), 'lanes-demo-data-'));
  dirs.push(data);
  server = spawn(process.execPath, ['scripts/serve.mjs'], { env: { ...process.env, PORT: '0', LANES_DATA: data }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = output.match(/lanes demo: (http:\/\/127\.0\.0\.1:\d+\/web\/)/);
      if (m) resolve(m[1]!);
    };
    server.stdout!.on('data', onData);
    server.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    server.once('exit', (code) => reject(new Error(`serve.mjs exited (${code}): ${output}`)));
  });
}

beforeAll(async () => {
  url = await startDemo();
  const profile = mkdtempSync(join(tmpdir(), 'lanes-demo-profile-'));
  dirs.push(profile);
  context = await chromium.launchPersistentContext(profile, { executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  if (server && server.exitCode === null) { server.kill('SIGKILL'); }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Opens a tab of the demo and waits until its consumers run. */
async function openTab(): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => { output += `\n[page error] ${e.message}`; });
  await page.goto(url);
  await page.waitForFunction(() => document.documentElement.dataset.ready === 'true', undefined, { timeout: 30_000 });
  return page;
}

type Invoice = { key: string; value: { orderId: string; invoicedBy: string } };

/** Waits (on client.watch, no polling) until `invoices` holds `n` records, then reads them. */
async function invoicesWhen(page: Page, n: number): Promise<Invoice[]> {
  await page.evaluate(async (n) => {
    const watch = (window as any).demo.client.watch({ topics: ['invoices'] });
    for await (const e of watch) {
      if (e.type === 'offsets' && e.partitions.reduce((s: number, p: { high: string; low: string }) => s + Number(p.high) - Number(p.low), 0) >= n) break;
    }
  }, n);
  return page.evaluate(() => (window as any).demo.readTopic('invoices')) as Promise<Invoice[]>;
}

/**
 * Waits (on client.watch, no polling) until the invoicing group has committed every order
 * written so far: the demo invoices at least once, so a tab closed between an invoice and its
 * commit rightly invoices that order again from another tab.
 */
async function invoicingCaughtUp(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const watch = (window as any).demo.client.watch({ topics: ['orders'], groups: ['invoicing'] });
    const high = new Map<number, number>();
    const committed = new Map<number, number>();
    for await (const e of watch) {
      if (e.type === 'offsets' && e.topic === 'orders') for (const p of e.partitions) high.set(p.partition, Number(p.high));
      if (e.type === 'committed' && e.groupId === 'invoicing') for (const o of e.offsets) if (o.topic === 'orders') committed.set(o.partition, Number(o.offset));
      if (high.size > 0 && [...high].every(([p, h]) => h === 0 || (committed.get(p) ?? -1) >= h)) break;
    }
  });
}

it('prints its URL; orders placed in one of three tabs are invoiced exactly once across the tabs', async () => {
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/web\/$/);
  const tabs = [await openTab(), await openTab(), await openTab()];
  const names = await Promise.all(tabs.map((t) => t.evaluate(() => (window as any).demo.tab as string)));
  expect(new Set(names).size).toBe(3);
  // The group settles with the six partitions spread over the three tabs.
  await tabs[0]!.waitForFunction(() => (window as any).demo.ownedPartitions().length === 2, undefined, { timeout: 30_000 });
  for (const t of tabs) await t.waitForFunction(() => (window as any).demo.ownedPartitions().length === 2, undefined, { timeout: 30_000 });

  const ids = await tabs[0]!.evaluate(() => (window as any).demo.placeOrders(30)) as string[];
  const invoices = await invoicesWhen(tabs[0]!, 30);
  expect(invoices.map((i) => i.key).sort()).toEqual([...ids].sort());
  const byTab = new Set(invoices.map((i) => i.value.invoicedBy));
  expect(byTab.size).toBeGreaterThan(1);

  // An order's events share its key, so its partition, in order.
  await tabs[1]!.evaluate(async () => { const d = (window as any).demo; const [a, b] = await d.placeOrders(2); await d.updateOrder(a); await d.updateOrder(b); });
  const orders = await tabs[1]!.evaluate(() => (window as any).demo.readTopic('orders')) as { partition: number; offset: string; key: string; value: { type: string } }[];
  const byKey = new Map<string, typeof orders>();
  for (const o of orders) byKey.set(o.key, [...(byKey.get(o.key) ?? []), o]);
  const updatedKeys = [...byKey].filter(([, evs]) => evs.some((e) => e.value.type === 'updated'));
  expect(updatedKeys).toHaveLength(2);
  for (const [, evs] of updatedKeys) {
    expect(new Set(evs.map((e) => e.partition)).size).toBe(1);
    const sorted = [...evs].sort((a, b) => Number(a.offset) - Number(b.offset));
    expect(sorted.map((e) => e.value.type)).toEqual(['neworder', 'updated']);
  }

  // A tab closes once the group has committed what it read: its partitions move to the two
  // left, and every order is still invoiced once.
  await invoicingCaughtUp(tabs[0]!);
  const gone = names[2]!;
  await tabs[2]!.close();
  for (const t of tabs.slice(0, 2)) await t.waitForFunction(() => (window as any).demo.ownedPartitions().length === 3, undefined, { timeout: 30_000 });
  const more = await tabs[0]!.evaluate(() => (window as any).demo.placeOrders(30)) as string[];
  const all = await invoicesWhen(tabs[0]!, 62);
  const keys = all.map((i) => i.key);
  expect(keys).toHaveLength(62);
  expect(new Set(keys).size).toBe(62);
  for (const id of [...ids, ...more]) expect(keys).toContain(id);
  expect(all.some((i) => i.value.invoicedBy === gone && more.includes(i.key))).toBe(false);

  // The inspector's group view in a remaining tab: two members, the closed tab gone.
  await tabs[0]!.click('lanes-inspector >> role=tab[name="Groups"]');
  await tabs[0]!.waitForFunction((gone) => {
    const ins = document.querySelector('lanes-inspector')!;
    const view = ins.shadowRoot!.querySelector('lanes-group-view')!;
    const cards = [...view.shadowRoot!.querySelectorAll('[part=group]')];
    const inv = cards.find((c) => c.querySelector('h2')?.textContent === 'invoicing');
    if (!inv) return false;
    const members = [...inv.querySelectorAll('[part=members] tbody th')].map((th) => th.textContent);
    return members.length === 2 && !members.includes(gone);
  }, gone, { timeout: 30_000 });
  for (const t of tabs.slice(0, 2)) await t.close();
}, 180_000);

/** The text of the page's <lanes-sync-status> badge and facts. */
const syncText = (page: Page) => page.evaluate(() => {
  const root = document.querySelector('#sync')!.shadowRoot!;
  return { badge: root.querySelector('[part=badge]')?.textContent?.trim() ?? '', facts: root.querySelector('[part=facts]')?.textContent?.replace(/\s+/g, ' ').trim() ?? '' };
});

it('syncs to the replica through offline -> online, and another device\'s orders arrive through the mirror', async () => {
  expect(output).toMatch(/lanes replica: http:\/\/127\.0\.0\.1:\d+/);
  const page = await openTab();
  expect(await page.evaluate(() => (window as any).demo.config.replica !== null)).toBe(true);
  await page.waitForFunction(() => document.querySelector('#sync')!.shadowRoot!.querySelector('[part=badge]')?.textContent?.trim() === 'Synced', undefined, { timeout: 60_000 });
  await context.setOffline(true);
  await page.waitForFunction(() => document.querySelector('#sync')!.shadowRoot!.querySelector('[part=badge]')?.textContent?.trim() === 'Offline', undefined, { timeout: 30_000 });
  const offlineIds = await page.evaluate(() => (window as any).demo.placeOrders(5)) as string[];
  await page.waitForFunction(() => /Pending ?[1-9]\d* records/.test(document.querySelector('#sync')!.shadowRoot!.querySelector('[part=facts]')?.textContent?.replace(/\s+/g, ' ') ?? ''), undefined, { timeout: 30_000 });
  expect((await syncText(page)).badge).toBe('Offline');
  await context.setOffline(false);
  await page.waitForFunction(() => {
    const root = document.querySelector('#sync')!.shadowRoot!;
    return root.querySelector('[part=badge]')?.textContent?.trim() === 'Synced' && /Pending ?0 records/.test(root.querySelector('[part=facts]')?.textContent?.replace(/\s+/g, ' ') ?? '');
  }, undefined, { timeout: 60_000 });
  // Orders written offline reach the replica and come back through this device's mirror.
  await page.waitForFunction((ids) => ids.every((id: string) => (window as any).demo.mirrored.some((m: { orderId: string }) => m.orderId === id)), offlineIds, { timeout: 60_000 });

  // Another device: a second browser profile (its own IndexedDB, its own device id).
  const profile = mkdtempSync(join(tmpdir(), 'lanes-demo-device-b-'));
  dirs.push(profile);
  const deviceB = await chromium.launchPersistentContext(profile, { executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  try {
    const b = await deviceB.newPage();
    await b.goto(url);
    await b.waitForFunction(() => document.documentElement.dataset.ready === 'true', undefined, { timeout: 30_000 });
    const [deviceA, other] = await Promise.all([page.evaluate(() => (window as any).demo.device), b.evaluate(() => (window as any).demo.device)]);
    expect(other).not.toBe(deviceA);
    const ids = await b.evaluate(() => (window as any).demo.placeOrders(3)) as string[];
    await page.waitForFunction(([ids, other]) => (ids as string[]).every((id) => (window as any).demo.mirrored.some((m: { orderId: string; device: string }) => m.orderId === id && m.device === other)), [ids, other] as const, { timeout: 60_000 });
    const rows = await page.evaluate(() => [...document.querySelectorAll('#mirror tr')].map((tr) => tr.textContent));
    expect(rows.some((r) => r!.includes(other) && !r!.includes('this device'))).toBe(true);
  } finally {
    await deviceB.close();
  }
  await page.close();
}, 240_000);

it('stops on Ctrl+C (SIGINT), replica included', async () => {
  const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
  server.kill('SIGINT');
  expect(await exited).toBe(0);
}, 30_000);
