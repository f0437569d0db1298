/**
 * lanes' service-worker side [service worker]: uploads a database's pending records to its
 * replica when no tab is open. An app's own service worker imports it and calls
 * {@link installLanesSync}; `lanes-sw.js` (sw/lanes-sw.ts) is the ready-made worker that does
 * only that.
 *
 * When it runs: on a Background Sync event (tag `lanes:<db>`, registered by the tab while
 * records are pending; Chromium fires it when the network is back, even with every tab closed),
 * on service-worker start, on `online`, on a `periodicsync` event, and on a
 * `{ type: 'lanes:sync', database }` message. Where the browser has no Background Sync
 * (Firefox, Safari), a tab that goes away with records pending sends
 * `{ type: 'lanes:sync', database, wait: true }`: the worker then waits (as long as the browser
 * keeps it alive) for the network and for the broker to let the sync lock go, and uploads with
 * no tab open; an outage that outlasts the worker is left to the next page load.
 *
 * Invariants:
 * - It uploads only while holding the Web Lock `lanes:<db>:sync`, and opens the log only once
 *   the lock is held, so it never uploads beside a broker and never works from a stale view.
 * - It reads the sync configuration (replica URL, token) the tab last stored with the log; with
 *   an expired token it reports `unauthorized` and waits for a tab to store a fresh one.
 * - It only reads the log and raises replicated offsets; it never appends.
 */
/// <reference lib="webworker" />
import { dbName } from '../src/broker/in-page.js';
import { LogStore } from '../src/log/log-store.js';
import { deviceIdOf, loadMirrors, loadReplicated, loadSyncConfig } from '../src/log/sync-meta.js';
import { names } from '../src/protocol/broker-api.js';
import { SyncAgent } from '../src/sync/sync-agent.js';

/** Options of installLanesSync. */
export interface LanesSyncOptions {
  /** Databases to check on start, `online` and `periodicsync`; default: every lanes database of the origin. */
  databases?: string[];
}

/** Outcome of one run for a database. */
export type SyncRunResult = 'done' | 'busy' | 'off';

/**
 * Uploads what `database` has pending. With `wait`, waits for the sync lock while a broker holds
 * it (a Background Sync event keeps the worker alive meanwhile); without, answers 'busy'.
 * Throws when an upload fails, so the browser retries the Background Sync event.
 */
export async function syncDatabase(database: string, o: { wait?: boolean } = {}): Promise<SyncRunResult> {
  const locks = (self as unknown as { navigator: { locks?: LockManager } }).navigator.locks;
  const run = async (): Promise<SyncRunResult> => {
    const store = await LogStore.open({ indexedDB: self.indexedDB, IDBKeyRange, name: dbName(database) });
    try {
      const cfg = await loadSyncConfig(store);
      if (!cfg) return 'off';
      store.syncEnabled = true;
      await loadReplicated(store);
      for (const m of await loadMirrors(store)) store.mirrors.set(m.into, m.topic);
      const agent = new SyncAgent({ store, database, url: cfg.url, deviceId: await deviceIdOf(store), role: 'service-worker', token: () => cfg.token });
      try {
        return await agent.drainHeld();
      } finally {
        agent.stop();
      }
    } finally {
      store.close();
    }
  };
  if (!locks) return run();
  return locks.request(names.syncLock(database), o.wait ? {} : { ifAvailable: true }, (lock) => (lock ? run() : 'busy'));
}

/** Every lanes database of this origin that exists. */
async function lanesDatabases(o: LanesSyncOptions): Promise<string[]> {
  if (o.databases) return o.databases;
  const list = (await self.indexedDB.databases?.()) ?? [];
  return list.map((d) => d.name ?? '').filter((n) => n.startsWith('lanes:')).map((n) => n.slice('lanes:'.length));
}

/** Checks every database once (never waits for a lock; failures are left for the next trigger). */
export async function syncAll(o: LanesSyncOptions = {}): Promise<Record<string, SyncRunResult | 'failed'>> {
  const out: Record<string, SyncRunResult | 'failed'> = {};
  for (const db of await lanesDatabases(o)) {
    try { out[db] = await syncDatabase(db); } catch { out[db] = 'failed'; }
  }
  return out;
}

interface SyncEventLike extends ExtendableEvent { tag: string }

/** Resolves at once when the worker is online, else on its next `online` event. */
function whenOnline(scope: ServiceWorkerGlobalScope): Promise<void> {
  if (scope.navigator.onLine !== false) return Promise.resolve();
  return new Promise((resolve) => scope.addEventListener('online', () => resolve(), { once: true }));
}

/** Wires lanes' uploads into a service worker. */
export function installLanesSync(scope: ServiceWorkerGlobalScope = self as unknown as ServiceWorkerGlobalScope, o: LanesSyncOptions = {}): void {
  scope.addEventListener('sync', ((e: SyncEventLike) => {
    if (!e.tag.startsWith('lanes:')) return;
    e.waitUntil(syncDatabase(e.tag.slice('lanes:'.length), { wait: true }));
  }) as EventListener);
  scope.addEventListener('periodicsync', ((e: SyncEventLike) => {
    if (e.tag.startsWith('lanes')) e.waitUntil(syncAll(o));
  }) as EventListener);
  scope.addEventListener('online', () => void syncAll(o));
  scope.addEventListener('message', (e: ExtendableMessageEvent) => {
    const d = e.data as { type?: string; database?: string; wait?: boolean } | null;
    if (d?.type !== 'lanes:sync' || typeof d.database !== 'string') return;
    const database = d.database;
    const run = d.wait ? whenOnline(scope).then(() => syncDatabase(database, { wait: true })) : syncDatabase(database);
    e.waitUntil(run.catch(() => 'failed'));
  });
  void syncAll(o);
}
