/**
 * `client.sync`: the tab's view of sync (status snapshot and events, mirror, token). This
 * facade is all the core client carries: the rest (`sync-hub.ts`: status channel and broker
 * calls) is loaded on the first call, or when a client created with `sync` connects; the part
 * that registers the service worker, asks for persistent storage and refreshes tokens
 * (`sync-runtime.ts`, with workbox-window) only then.
 *
 * Invariants:
 * - Status events come from whichever context uploads (broker or service worker) over the
 *   BroadcastChannel `lanes:<db>:sync`; `status()` asks the broker when connected and otherwise
 *   answers the last status heard.
 * - Every listener gets `status` for each change, and the narrower events (`success`, `error`,
 *   `progress`, `online`, `offline`) only when that part of the status changed.
 * - A listener added before the hub loaded is attached before a connecting client starts sync,
 *   so it hears the first status.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { SyncStatus } from '../../protocol/broker-api.js';
import type { Connection } from '../connection.js';

/** createClient's `sync` option. */
export interface SyncOptions {
  /** Base URL of the replica server (`npx lanes-replica serve`). */
  url: string;
  /** Bearer token for the replica; or a function answering one (called again when the replica refuses it). */
  token?: string | (() => string | Promise<string>);
  /** Called for a fresh token when the replica refused the current one (expired). */
  getToken?: () => string | Promise<string>;
  /**
   * The service worker script that uploads when no tab is open: default `lanes-sw.js` beside the
   * lanes bundle; a URL of your own service worker that imports lanes' (see sw/README.md); or
   * false to register none.
   */
  serviceWorker?: string | URL | false;
  /** Scope of the service worker registration (default: the script's folder). */
  serviceWorkerScope?: string;
  /** How long the active segment's tail waits for more records before it is pushed. Default 200 ms. */
  lingerMs?: number;
  /** Upper bound of one push request's record bytes. Default 1 MiB. */
  maxRequestBytes?: number;
  /** Pause between a mirror's polls once caught up. Default 1000 ms. */
  mirrorIntervalMs?: number;
  /** Ask for persistent storage (navigator.storage.persist()). Default true. */
  persist?: boolean;
}

/** Sync events. */
export const SYNC_EVENTS = {
  STATUS: 'status',
  SUCCESS: 'success',
  ERROR: 'error',
  PROGRESS: 'progress',
  ONLINE: 'online',
  OFFLINE: 'offline',
} as const;

/** A sync event name. */
export type SyncEventName = (typeof SYNC_EVENTS)[keyof typeof SYNC_EVENTS];

/** The tab's sync API. */
export interface SyncClient {
  readonly events: typeof SYNC_EVENTS;
  /** The status now (from the broker when connected, else the last one heard). */
  status(): Promise<SyncStatus>;
  /** Listens to a sync event; every listener gets the whole status. Returns a remover. */
  on(event: SyncEventName, listener: (status: SyncStatus) => void): () => void;
  /** Follows replica topic `topic` into local topic `into` (resumable; `into` is never pushed back). */
  mirror(o: { topic: string; into: string }): Promise<void>;
  /** Stops following into `into`. */
  stopMirror(into: string): Promise<void>;
  /** Gives the uploaders (broker now, service worker later) a fresh token. */
  setToken(token: string): Promise<void>;
  /** Retries the upload now instead of waiting out the backoff (what a retry button calls). */
  retry(): Promise<void>;
}

/** Creates `client.sync` for a connection; `options` undefined when sync is not configured. */
export function createSyncClient(conn: Connection, options: SyncOptions | undefined): SyncClient {
  let hub: Promise<ReturnType<typeof import('./sync-hub.js').openSyncHub>> | undefined;
  const load = () => (hub ??= import('./sync-hub.js').then((m) => m.openSyncHub(conn, options)));
  // Sync starts with the connection (options are checked then).
  if (options) conn.onOpen(async (broker) => (await load()).start(broker));
  const call = <K extends 'status' | 'mirror' | 'stopMirror' | 'setToken' | 'retry'>(m: K) =>
    (async (...a: unknown[]) => ((await load())[m] as (...x: unknown[]) => unknown)(...a)) as SyncClient[K];
  return {
    events: SYNC_EVENTS,
    on(event, listener) {
      if (!Object.values(SYNC_EVENTS).includes(event)) throw new InvalidArgumentError(`client.sync.on: unknown event ${JSON.stringify(event)}; use one of ${Object.values(SYNC_EVENTS).join(', ')}`, { details: { field: 'event' } });
      let off: (() => void) | undefined;
      let removed = false;
      load().then((h) => { if (!removed) off = h.on(event, listener); }, () => undefined);
      return () => { removed = true; off?.(); };
    },
    status: call('status'),
    mirror: call('mirror'),
    stopMirror: call('stopMirror'),
    setToken: call('setToken'),
    retry: call('retry'),
  };
}
