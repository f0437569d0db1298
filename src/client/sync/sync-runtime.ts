/**
 * The tab's sync runtime, imported on demand when `createClient({ sync })` connects: stores the
 * configuration with the broker, asks for persistent storage, registers the service worker
 * (workbox-window) and its Background Sync, forwards the page's network state, and answers an
 * unauthorized status with a fresh token from `getToken`.
 *
 * Invariants:
 * - A token is fetched again only for a new refusal (a new `lastError.at`), never in a loop.
 * - A token source that fails (its sign-in server unreachable, the device offline) fails
 *   neither connect nor sync for good: the client connects without a token (records are
 *   written, and wait) and the source is asked again after 1 s, 2 s, 4 s... (at most a minute
 *   apart) and at once on `online`, until it answers. (It failed connect(), and a failed
 *   refresh after a refusal parked uploads until the next page load.)
 * - Background Sync is registered while records are pending, so the service worker uploads
 *   them when the network is back even if every tab is closed by then.
 * - Without Background Sync (Firefox, Safari), a tab that goes away (`pagehide`) with records
 *   pending asks the service worker to upload them once it is online and the broker has let the
 *   sync lock go; what the worker cannot deliver while it lives waits for the next page load,
 *   whose broker uploads at once, and for `online` events while a tab is open.
 */
import { names, type BrokerApi, type SyncStatus } from '../../protocol/broker-api.js';
import type { SyncOptions } from './sync-client.js';
import type { SyncHub } from './sync-hub.js';

interface SyncRegistration {
  sync?: { register(tag: string): Promise<void> };
  active?: { postMessage(message: unknown): void } | null;
}

/** Starts the runtime; answers a function that stops it. */
export async function startSyncRuntime(broker: BrokerApi, database: string, o: SyncOptions, hub: SyncHub): Promise<() => void> {
  const win = globalThis as unknown as Window & typeof globalThis;
  const fresh = async (): Promise<string | null> => {
    const source = typeof o.token === 'function' ? o.token : o.getToken;
    if (source) return source();
    return typeof o.token === 'string' ? o.token : null;
  };
  let token: string | null = null;
  let tokenFailed = false;
  /** The token last handed to the broker: the source giving it back after a refusal is asked again later. */
  let lastSet: string | null = null;
  try { token = typeof o.token === 'string' ? o.token : await fresh(); } catch { tokenFailed = true; }
  const status = await broker.syncConfigure({ url: o.url, token, lingerMs: o.lingerMs, maxRequestBytes: o.maxRequestBytes, mirrorIntervalMs: o.mirrorIntervalMs });
  hub.update(status);
  lastSet = token;

  const stops: (() => void)[] = [];
  // Asks the token source again until it answers, backing off (see the invariants).
  let stopped = false;
  let fetching = false;
  let attempt = 0;
  let tokenTimer: ReturnType<typeof setTimeout> | undefined;
  const retryToken = (): void => {
    if (stopped) return;
    clearTimeout(tokenTimer);
    tokenTimer = setTimeout(fetchToken, Math.min(60_000, 1000 * 2 ** attempt++));
  };
  function fetchToken(): void {
    if (stopped || fetching) return;
    fetching = true;
    clearTimeout(tokenTimer);
    tokenTimer = undefined;
    fresh().then((t) => {
      fetching = false;
      // The refused token again (a cache that did not refresh): ask later, not in a loop.
      if (t === lastSet) { retryToken(); return; }
      attempt = 0;
      lastSet = t;
      if (t && !stopped) void broker.syncSetToken(t).catch(() => undefined);
    }, () => {
      fetching = false;
      retryToken();
    });
  }
  stops.push(() => { stopped = true; clearTimeout(tokenTimer); });
  if (tokenFailed) retryToken();
  const storage = win.navigator?.storage;
  if (o.persist !== false && storage?.persist) {
    const answer = (granted: boolean) => { hub.persisted = granted; hub.update({ persisted: granted }); };
    // Chromium answers persist() at once from its own heuristics; Firefox asks the user and the
    // promise waits for the answer (indefinitely when nobody answers), so the status shows
    // persisted() until then.
    void storage.persisted?.().then((now) => { if (hub.persisted === null) answer(now); }, () => undefined);
    void storage.persist().then(answer, () => undefined);
  }

  if (typeof win.addEventListener === 'function' && win.navigator && 'onLine' in win.navigator) {
    const net = () => {
      void broker.syncNetwork(win.navigator.onLine).catch(() => undefined);
      // Back online: a token fetch that failed is tried again now, not after its backoff.
      if (win.navigator.onLine && tokenTimer !== undefined) fetchToken();
    };
    win.addEventListener('online', net);
    win.addEventListener('offline', net);
    stops.push(() => { win.removeEventListener('online', net); win.removeEventListener('offline', net); });
    net();
  }

  let registration: SyncRegistration | undefined;
  if (o.serviceWorker !== false && win.navigator?.serviceWorker) {
    // Not awaited: connecting does not wait for the service worker to install.
    void (async () => {
      try {
        const { Workbox } = await import('workbox-window');
        const url = new URL(o.serviceWorker || new URL('./lanes-sw.js', import.meta.url), win.location?.href);
        const wb = new Workbox(url.href, o.serviceWorkerScope ? { scope: o.serviceWorkerScope } : undefined);
        registration = (await wb.register()) as SyncRegistration | undefined;
        onStatus(hub.last);
      } catch {
        // No service worker (unsupported, blocked, or a file:// page): sync still runs while a tab is open.
      }
    })();
  }

  if (typeof win.addEventListener === 'function') {
    const leaving = () => {
      if (registration && !registration.sync && hub.last.pendingRecords > 0) {
        registration.active?.postMessage({ type: 'lanes:sync', database, wait: true });
      }
    };
    win.addEventListener('pagehide', leaving);
    stops.push(() => win.removeEventListener('pagehide', leaving));
  }

  let lastRegister = 0;
  let refusedAt = 0;
  function onStatus(s: SyncStatus): void {
    if (registration?.sync && s.pendingRecords > 0 && Date.now() - lastRegister > 1000) {
      lastRegister = Date.now();
      void registration.sync.register(names.syncTag(database)).catch(() => undefined);
    }
    if (s.state === 'unauthorized' && s.lastError && s.lastError.at !== refusedAt && (typeof o.token === 'function' || o.getToken)) {
      refusedAt = s.lastError.at;
      fetchToken();
    }
  }
  const prevUpdate = hub.update;
  hub.update = (next) => { prevUpdate(next); onStatus(hub.last); };
  stops.push(() => { hub.update = prevUpdate; });
  onStatus(hub.last);
  return () => { for (const s of stops) s(); };
}
