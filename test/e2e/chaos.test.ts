/**
 * Chaos in Chromium: five tabs of one consumer group, each with a producer and a consumer
 * (SharedWorker broker of the built bundle), for 60 s of random tab crashes (CDP Page.crash),
 * reloads, deletion and re-creation of a topic, and one deletion of the whole database from
 * outside. Afterwards: every record of the surviving log was consumed; no acknowledged record
 * is missing from a partition that was not deleted after it was acknowledged; no tab hung; and
 * every error any tab saw was a typed LanesError.
 *
 * The randomness is seeded; the seed is printed, and `LANES_CHAOS_SEED=<seed>` replays a run.
 * `LANES_CHAOS_MS` changes the duration (default 60000).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './browser.js';
import { waitFor } from './tabs.js';
import { prng } from '../helpers/prng.js';

interface Event {
  type: 'acked' | 'processed' | 'error';
  tab: string;
  at: number;
  topic?: string;
  partition?: number;
  offset?: number;
  value?: string;
  where?: string;
  typed?: boolean;
  name?: string;
  code?: string | null;
  message?: string;
}

const TOPICS = ['stable', 'volatile'];
const DURATION = Number(process.env.LANES_CHAOS_MS ?? 60_000);
const SEED = Number(process.env.LANES_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** `LANES_CHAOS_DB_DELETE=0` leaves the database deletion out (to tell its failures from the rest). */
const DB_DELETE = process.env.LANES_CHAOS_DB_DELETE !== '0';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 60_000);
afterAll(async () => { await h?.close(); });

describe('chaos: 5 tabs, crashes, reloads, topic and database deletion', () => {
  it(`loses no acknowledged record that survives, hangs no tab, and shows only typed errors (seed ${SEED})`, async () => {
    console.log(`chaos seed ${SEED} (replay: LANES_CHAOS_SEED=${SEED} LANES_CHAOS_MS=${DURATION})`);
    const rnd = prng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const database = `chaos-${Date.now()}`;
    const events: Event[] = [];
    const pageErrors: string[] = [];
    const log: string[] = [];
    const errorSummary = () => {
      const byCode = new Map<string, number>();
      for (const e of events) if (e.type === 'error') byCode.set(`${e.where}:${e.code ?? e.name}${e.typed ? '' : ' (untyped)'}`, (byCode.get(`${e.where}:${e.code ?? e.name}${e.typed ? '' : ' (untyped)'}`) ?? 0) + 1);
      return JSON.stringify(Object.fromEntries(byCode));
    };
    const note = (s: string) => { const line = `${((Date.now() - t0) / 1000).toFixed(1)}s ${s}`; log.push(line); console.log(`[chaos] ${line}`); };
    let t0 = Date.now();

    const openPage = async (name: string): Promise<Page> => {
      const page = await h.context.newPage();
      await page.exposeBinding('report', (_src, e: Omit<Event, 'tab' | 'at'>) => { events.push({ ...e, tab: name, at: Date.now() }); });
      page.on('pageerror', (e) => { pageErrors.push(`[${name}] ${String(e)}`); });
      await page.goto(`${h.url}/test/e2e/pages/chaos-tab.html`);
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
      return page;
    };
    /** Calls an export of chaos.js in a page; a call that does not answer in 30 s is a hung tab. */
    const call = <T>(page: Page, fn: string, ...args: unknown[]): Promise<T> => {
      const answer = page.evaluate(([f, a]) => (window as unknown as { chaos: Record<string, (...x: unknown[]) => unknown> }).chaos[f as string]!(...(a as unknown[])), [fn, args] as const) as Promise<T>;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hung = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${fn} did not answer within 30 s (a hung tab)\n${log.join('\n')}\nerrors seen: ${errorSummary()}`)), 30_000); });
      return Promise.race([answer, hung]).finally(() => clearTimeout(timer));
    };

    const control = await openPage('control');
    const admin = (action: string, arg: Record<string, unknown>) => call<unknown>(control, 'admin', action, { database, ...arg });
    const created = await admin('create', { topics: [{ topic: 'stable', numPartitions: 3 }, { topic: 'volatile', numPartitions: 2 }] });
    expect(created).toBe(true);

    // Tab slots; a crashed or reloaded tab comes back under a new incarnation name.
    const slots: { page: Page; name: string; n: number }[] = [];
    const startTab = async (slot: number, n: number, page?: Page) => {
      const name = `t${slot}.${n}`;
      const p = page ?? await openPage(name);
      slots[slot] = { page: p, name, n };
      await call(p, 'start', { database, tab: name, topics: TOPICS });
    };
    for (let i = 0; i < 5; i++) await startTab(i, 0);

    // Deletions: what was deleted when, to know which acknowledged records may be gone.
    const deletions: { topic: string | null; from: number; until: number }[] = [];
    let dbDeleted = false;
    t0 = Date.now();
    const dbAt = DURATION * (0.3 + 0.3 * rnd());
    while (Date.now() - t0 < DURATION) {
      await new Promise((r) => setTimeout(r, 1000 + rnd() * 2500)); // pacing between actions, not an assertion
      const elapsed = Date.now() - t0;
      if (DB_DELETE && !dbDeleted && elapsed >= dbAt) {
        dbDeleted = true;
        const from = Date.now();
        const r = await call<{ ok: boolean; blocked: boolean }>(control, 'deleteDatabase', database);
        note(`database deleted ${JSON.stringify(r)}`);
        expect(r.ok).toBe(true);
        const again = await admin('create', { topics: [{ topic: 'stable', numPartitions: 3 }, { topic: 'volatile', numPartitions: 2 }] });
        note(`topics re-created after the database deletion: ${JSON.stringify(again)}`);
        deletions.push({ topic: null, from, until: Date.now() });
        continue;
      }
      const action = pick(['crash', 'crash', 'reload', 'topic', 'topic', 'none'] as const);
      const slot = Math.floor(rnd() * 5);
      const s = slots[slot]!;
      if (action === 'crash') {
        note(`crash ${s.name}`);
        const crashed = s.page.waitForEvent('crash', { timeout: 10_000 }).catch(() => undefined);
        const cdp = await h.context.newCDPSession(s.page);
        void cdp.send('Page.crash').catch(() => undefined); // never answers: the renderer is gone
        await crashed;
        void s.page.close().catch(() => undefined);
        await startTab(slot, s.n + 1);
      } else if (action === 'reload') {
        note(`reload ${s.name}`);
        const name = `t${slot}.${s.n + 1}`;
        // The binding reports under the slot's current name: reloading keeps the page object.
        await s.page.close().catch(() => undefined);
        await startTab(slot, s.n + 1, await openPage(name));
      } else if (action === 'topic') {
        const from = Date.now();
        await admin('delete', { topics: ['volatile'] });
        await new Promise((r) => setTimeout(r, 200 + rnd() * 1500));
        const numPartitions = 1 + Math.floor(rnd() * 4);
        const r = await admin('create', { topics: [{ topic: 'volatile', numPartitions }] });
        note(`volatile deleted and re-created with ${numPartitions} partitions: ${JSON.stringify(r)}`);
        deletions.push({ topic: 'volatile', from, until: Date.now() });
      }
    }
    note('chaos over');

    // No tab hung: every tab stops its producer within the deadline.
    for (const s of slots) {
      const stopped = await Promise.race([call<boolean>(s.page, 'stopProducing'), new Promise<string>((r) => setTimeout(() => r('hung'), 20_000))]);
      expect(stopped, `${s.name} did not stop its producer`).toBe(true);
    }

    // The surviving log, and every record of it consumed by some tab.
    const final = new Map<string, { partition: number; offset: number; value: string }[]>();
    for (const topic of TOPICS) final.set(topic, await call(control, 'readAll', { database, topic }));
    const processed = () => new Set(events.filter((e) => e.type === 'processed').map((e) => `${e.topic}/${e.value}`));
    const survivors = [...final].flatMap(([topic, recs]) => recs.map((r) => `${topic}/${r.value}`));
    await waitFor('every surviving record consumed', () => {
      const p = processed();
      return survivors.every((k) => p.has(k));
    }, 60_000).catch((e: Error) => {
      const p = processed();
      const missing = survivors.filter((k) => !p.has(k));
      throw new Error(`${e.message}; ${missing.length} of ${survivors.length} not consumed, e.g. ${missing.slice(0, 5).join(', ')}\n${log.join('\n')}`);
    });

    // No acknowledged record lost from a partition that was not deleted after it was acknowledged.
    const inFinal = new Set(survivors);
    const acked = events.filter((e) => e.type === 'acked');
    const mayBeGone = (e: Event) => deletions.some((d) => (d.topic === null || d.topic === e.topic) && e.at <= d.until);
    const lost = acked.filter((e) => !mayBeGone(e) && !inFinal.has(`${e.topic}/${e.value}`));
    expect(lost.map((e) => `${e.topic}-${e.partition}@${e.offset} ${e.value}`), log.join('\n')).toEqual([]);
    const required = acked.filter((e) => !mayBeGone(e)).length;

    // Every error seen was a typed LanesError; no uncaught page error.
    const untyped = events.filter((e) => e.type === 'error' && !e.typed);
    expect(untyped.map((e) => `[${e.tab}] ${e.where}: ${e.name} ${e.message}`)).toEqual([]);
    expect(pageErrors).toEqual([]);

    console.log(`chaos seed ${SEED}: ${acked.length} acknowledged, ${required} required to survive, ${survivors.length} in the surviving log, all consumed; ` +
      `${log.length - 1} actions; typed errors ${errorSummary()}\n${log.join('\n')}`);
    for (const s of slots) await s.page.close().catch(() => undefined);
    await control.close();
  }, DURATION + 240_000);
});
