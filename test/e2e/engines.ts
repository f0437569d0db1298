/**
 * Browser engines for multi-tab scenarios behind one small driver, so a scenario is written once
 * and runs in Chromium (Playwright over CDP) and in Firefox ESR (puppeteer-core over WebDriver
 * BiDi). Only the driver differs between engines.
 *
 * Invariants:
 * - Each engine runs one fresh profile; its tabs share an origin (IndexedDB, SharedWorkers, Web
 *   Locks, BroadcastChannels), served by the static server on 127.0.0.1.
 * - `crash()` ends one tab's renderer abruptly (no pagehide, no unload): Chromium's CDP
 *   `Page.crash`; in Firefox the tab's content process is killed with SIGKILL. Firefox runs each
 *   tab in its own content process here (`dom.ipc.processCount.webIsolated` raised, no
 *   prelaunched process), so the one content process that appeared while the tab opened is its own.
 * - `setOffline(true)` takes the whole engine offline, pages and workers alike (navigator.onLine
 *   false, `offline` events): Chromium's `BrowserContext.setOffline` (CDP network
 *   emulation of every target, service workers included); Firefox's own offline mode
 *   (`Services.io.offline`, what "Work Offline" sets), reached over BiDi in the parent process
 *   (launched with `--remote-allow-system-access`). BiDi's `emulation.setNetworkConditions`
 *   (puppeteer's `setOfflineMode`) is not used: in Firefox it is per tab, and a SharedWorker or
 *   service worker of that tab stays online. Firefox's offline mode lets loopback requests
 *   through, so a scenario that needs a server unreachable cuts its path too (`cuttable-proxy.ts`).
 * - `close()` of the engine closes the browser, the server and removes the profile.
 */
import { chromium } from 'playwright-core';
import puppeteer, { type Browser as PBrowser, type Page as PPage } from 'puppeteer-core';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS } from './browser.js';
// @ts-expect-error plain ESM script without types
import { startStaticServer } from '../../scripts/static-server.mjs';

/** The engines every scenario of engines.test.ts runs in; LANES_BROWSERS narrows them. */
export const ENGINES = (['chromium', 'firefox'] as const).filter((e) =>
  (process.env.LANES_BROWSERS || 'chromium,firefox').split(',').map((s) => s.trim()).includes(e));

/** One of the engines. */
export type EngineName = 'chromium' | 'firefox';

/** One tab of an engine. */
export interface DriverTab {
  /** Navigates and waits for the load event. */
  goto(url: string): Promise<void>;
  /** Runs `fn(arg)` in the page (a function serialised to the page, or an expression string) and returns its result. */
  evaluate<T, A = unknown>(fn: string | ((arg: A) => T | Promise<T>), arg?: A): Promise<T>;
  /** Makes `window[name](value)` call `handler(value)` in Node; before goto. */
  expose(name: string, handler: (value: never) => void): Promise<void>;
  /** Closes the tab as a user would (pagehide runs). */
  close(): Promise<void>;
  /** Ends the tab's renderer abruptly, as a crash or a killed process. */
  crash(): Promise<void>;
}

/** A running engine. */
export interface Engine {
  name: EngineName;
  /** The static server's base URL (the repository root). */
  url: string;
  /** Opens a blank tab. */
  newTab(): Promise<DriverTab>;
  /** Takes the whole engine (every tab and worker) offline, or back online. */
  setOffline(offline: boolean): Promise<void>;
  /** Ends every running service worker of the profile, as the browser ends one whose time is up. */
  stopServiceWorkers(): Promise<void>;
  close(): Promise<void>;
}

/** Engine options. */
export interface EngineOptions {
  /**
   * A small storage quota, so IndexedDB raises a real QuotaExceededError after a few MB:
   * Firefox takes a fixed temporary-storage limit (KiB) by pref; Chromium sizes quota from the
   * disk its profile is on, so its profile goes on a tmpfs of this size (needs root: when the
   * mount fails, startEngine throws `SmallQuotaUnavailable`).
   */
  quotaKiB?: number;
}

/** Thrown by startEngine when a small quota cannot be arranged in this engine here. */
export class SmallQuotaUnavailable extends Error {}

/** Starts the engine and the static server. */
export async function startEngine(name: EngineName, options: EngineOptions = {}): Promise<Engine> {
  if (name === 'chromium' && options.quotaKiB) return smallDiskChromium(options.quotaKiB);
  const server = await startStaticServer({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), `lanes-e2e-${name}-`));
  const done = async () => { await server.close(); rmSync(dir, { recursive: true, force: true }); };
  try {
    return name === 'chromium' ? await chromiumEngine(server.url, dir, done) : await firefoxEngine(server.url, dir, done, options.quotaKiB);
  } catch (e) {
    await done();
    throw e;
  }
}

async function smallDiskChromium(quotaKiB: number): Promise<Engine> {
  const disk = mkdtempSync(join(tmpdir(), 'lanes-quota-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${quotaKiB}k`, 'tmpfs', disk]).status !== 0) {
    rmSync(disk, { recursive: true, force: true });
    throw new SmallQuotaUnavailable('chromium: a small quota needs a tmpfs profile (mount needs root)');
  }
  const server = await startStaticServer({ port: 0 });
  return chromiumEngine(server.url, join(disk, 'profile'), async () => {
    await server.close();
    spawnSync('umount', [disk]);
    rmSync(disk, { recursive: true, force: true });
  });
}

async function chromiumEngine(url: string, dir: string, done: () => Promise<void>): Promise<Engine> {
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS,
  });
  return {
    name: 'chromium',
    url,
    async newTab() {
      const page = await context.newPage();
      return {
        goto: async (u) => { await page.goto(u); },
        evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
        expose: async (n, handler) => { await page.exposeBinding(n, (_src, v) => handler(v as never)); },
        close: () => page.close(),
        crash: async () => {
          const cdp = await context.newCDPSession(page);
          void cdp.send('Page.crash').catch(() => undefined);
        },
      };
    },
    setOffline: (offline) => context.setOffline(offline),
    async stopServiceWorkers() {
      // A stopped worker keeps its DevTools target: Playwright's next setOffline waits until that
      // worker runs again (observed), so scenarios do not stop Chromium's workers before a
      // network change.
      const page = context.pages()[0] ?? await context.newPage();
      const cdp = await context.newCDPSession(page);
      try {
        await cdp.send('ServiceWorker.enable');
        await cdp.send('ServiceWorker.stopAllWorkers');
      } finally {
        await cdp.detach().catch(() => undefined);
      }
    },
    async close() { await context.close().catch(() => undefined); await done(); },
  };
}

/**
 * Runs the body of an async function in Firefox's parent process (the browser window's chrome
 * context, where `Services`, `Cc` and `Ci` are defined) and answers its primitive result.
 */
async function chromeEval(browser: PBrowser, body: string): Promise<unknown> {
  // The BiDi connection under puppeteer's Browser (not in its public types).
  const c = (browser as unknown as { connection: { send(method: string, params: unknown): Promise<unknown> } }).connection;
  const tree = await c.send('browsingContext.getTree', { 'moz:scope': 'chrome', maxDepth: 0 }) as { result: { contexts: { context: string }[] } };
  const context = tree.result.contexts[0]?.context;
  if (!context) throw new Error('firefox: no chrome context (was it launched with --remote-allow-system-access?)');
  const r = await c.send('script.evaluate', { expression: `(async () => { ${body} })()`, target: { context }, awaitPromise: true }) as {
    result: { type: string; result?: { value?: unknown }; exceptionDetails?: { text?: string } };
  };
  if (r.result.type !== 'success') throw new Error(`firefox: chrome script failed: ${r.result.exceptionDetails?.text ?? JSON.stringify(r.result)}`);
  return r.result.result?.value;
}

/** Content processes (web tabs) of the Firefox whose parent process is `root`. */
function contentPids(root: number): Set<number> {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  const pids = new Set<number>();
  for (const line of out.split('\n')) {
    if (line.includes('-contentproc') && line.includes('-isForBrowser') && line.includes(`-parentPid ${root} `)) {
      pids.add(Number(line.trim().split(/\s+/)[0]));
    }
  }
  return pids;
}

async function firefoxEngine(url: string, dir: string, done: () => Promise<void>, quotaKiB?: number): Promise<Engine> {
  const browser: PBrowser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr',
    headless: true,
    userDataDir: dir,
    // Lets BiDi evaluate in the parent process, where the offline mode is switched.
    args: ['--remote-allow-system-access'],
    extraPrefsFirefox: {
      'dom.ipc.processCount.webIsolated': 64, 'dom.ipc.processPrelaunch.enabled': false,
      ...(quotaKiB ? { 'dom.quotaManager.temporaryStorage.fixedLimit': quotaKiB } : {}),
    },
  });
  const root = browser.process()!.pid!;
  // Tabs open one at a time so the content process that appears belongs to the tab that opened.
  let opening = Promise.resolve();
  return {
    name: 'firefox',
    url,
    async newTab() {
      // The turn is held from before the tab exists until its first navigation has finished.
      const turn = opening;
      let release!: () => void;
      opening = new Promise((r) => { release = r; });
      await turn;
      let before: Set<number> | undefined = contentPids(root);
      let fresh: number[] = [];
      let page: PPage;
      try {
        page = await browser.newPage();
      } catch (e) { release(); throw e; }
      return {
        async goto(u) {
          try {
            await page.goto(u);
          } finally {
            if (before) {
              fresh = [...contentPids(root)].filter((p) => !before!.has(p));
              before = undefined;
              release();
            }
          }
        },
        evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
        expose: async (n, handler) => { await page.exposeFunction(n, (v: unknown) => { handler(v as never); }); },
        close: async () => { if (before) { before = undefined; release(); } await page.close(); },
        crash: async () => {
          if (fresh.length !== 1) throw new Error(`firefox: the tab's content process is unknown (new content processes while it opened: ${JSON.stringify(fresh)})`);
          process.kill(fresh[0]!, 'SIGKILL');
        },
      };
    },
    async setOffline(offline) {
      const now = await chromeEval(browser, `Services.io.manageOfflineStatus = false; Services.io.offline = ${offline}; return Services.io.offline;`);
      if (now !== offline) throw new Error(`firefox: the offline mode stayed ${String(now)}`);
    },
    async stopServiceWorkers() {
      await chromeEval(browser, `
        const swm = Cc['@mozilla.org/serviceworkers/manager;1'].getService(Ci.nsIServiceWorkerManager);
        const regs = swm.getAllRegistrations();
        for (let i = 0; i < regs.length; i++) {
          await regs.queryElementAt(i, Ci.nsIServiceWorkerRegistrationInfo).activeWorker?.terminateWorker();
        }`);
    },
    async close() { await browser.close().catch(() => undefined); await done(); },
  };
}
