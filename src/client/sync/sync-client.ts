/**
 * `client.sync`: the tab's view of sync (status snapshot and events, mirror, token). Small on
 * purpose: the part that registers the service worker, asks for persistent storage and
 * refreshes tokens (`sync-runtime.ts`, with workbox-window) is imported only when
 * `createClient({ sync })` is given, once the client connects.
 *
 * Invariants:
 * - Status events come from whichever context uploads (broker or service worker) over the
 *   BroadcastChannel `lanes:<db>:sync`; `status()` asks the broker when connected and otherwise
 *   answers the last status heard.
 * - Every listener gets `status` for each change, and the narrower events (`success`, `error`,
 *   `progress`, `online`, `offline`) only when that part of the status changed.
 */
import { InvalidArgumentError, NotConnectedError } from '../../errors.js';
import { names, type SyncStatus } from '../../protocol/broker-api.js';
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

/** Status before anything was heard. */
export const SYNC_OFF: SyncStatus = {
  configured: false, online: true, state: 'off', pendingRecords: 0, pendingBytes: 0, topics: {}, lastSuccessAt: null,
  lastError: null, progress: null, retryAt: null, uploader: null, deviceId: null, url: null, mirrors: [], persisted: null,
};

/** Shared between the facade and the on-demand runtime. */
export interface SyncHub {
  last: SyncStatus;
  persisted: boolean | null;
  /** Merges a status into `last` and emits the events it implies. */
  update(next: Partial<SyncStatus>): void;
}

/** Validates createClient's `sync` option. */
export function checkSyncOptions(o: SyncOptions): void {
  if (!o || typeof o !== 'object') throw new InvalidArgumentError('createClient: `sync` must be an object { url, token }', { details: { field: 'sync' } });
  if (typeof o.url !== 'string' || !/^https?:\/\/[^/]/.test(o.url)) {
    throw new InvalidArgumentError(`createClient: sync.url must be an http(s) URL of the replica; got ${JSON.stringify(o.url)}`, { details: { field: 'sync.url' } });
  }
  if (o.token !== undefined && typeof o.token !== 'string' && typeof o.token !== 'function') {
    throw new InvalidArgumentError('createClient: sync.token must be a string or a function answering one', { details: { field: 'sync.token' } });
  }
  if (o.getToken !== undefined && typeof o.getToken !== 'function') {
    throw new InvalidArgumentError('createClient: sync.getToken must be a function', { details: { field: 'sync.getToken' } });
  }
  for (const f of ['lingerMs', 'maxRequestBytes', 'mirrorIntervalMs'] as const) {
    const v = o[f];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new InvalidArgumentError(`createClient: sync.${f} must be a number >= 0; got ${String(v)}`, { details: { field: `sync.${f}` } });
    }
  }
}

/** Creates `client.sync` for a connection; `options` undefined when sync is not configured. */
export function createSyncClient(conn: Connection, options: SyncOptions | undefined): SyncClient {
  if (options !== undefined) checkSyncOptions(options);
  const listeners = new Map<SyncEventName, Set<(s: SyncStatus) => void>>();
  const emit = (e: SyncEventName, s: SyncStatus) => { for (const l of listeners.get(e) ?? []) l(s); };
  const hub: SyncHub = {
    last: { ...SYNC_OFF },
    persisted: null,
    update(next) {
      const prev = hub.last;
      const s: SyncStatus = { ...prev, ...next, persisted: hub.persisted ?? next.persisted ?? prev.persisted };
      hub.last = s;
      emit('status', s);
      if (s.lastSuccessAt !== prev.lastSuccessAt && s.lastSuccessAt !== null) emit('success', s);
      if (s.lastError && s.lastError.at !== prev.lastError?.at) emit('error', s);
      if (s.progress && (s.progress.uploaded !== prev.progress?.uploaded || s.progress.total !== prev.progress?.total)) emit('progress', s);
      if (s.online !== prev.online) emit(s.online ? 'online' : 'offline', s);
    },
  };
  let channel: BroadcastChannel | undefined;
  const listen = () => {
    if (channel || typeof BroadcastChannel !== 'function') return;
    channel = new BroadcastChannel(names.syncChannel(conn.config.database));
    channel.onmessage = (ev: MessageEvent<{ type: string; role: 'broker' | 'service-worker'; status?: Partial<SyncStatus> }>) => {
      const m = ev.data;
      if (m?.type === 'status' && m.status) hub.update({ ...m.status, configured: true, uploader: m.status.state === 'standby' ? hub.last.uploader : m.role });
    };
  };
  if (options) {
    // Sync starts with the connection: the runtime (service worker, persist, tokens) loads on demand.
    conn.onOpen(async (broker) => {
      listen();
      const { startSyncRuntime } = await import('./sync-runtime.js');
      return startSyncRuntime(broker, conn.config.database, options, hub);
    });
  }
  const broker = async () => {
    try {
      return await conn.broker();
    } catch (e) {
      if (e instanceof NotConnectedError) throw new NotConnectedError('client.sync needs a connected producer, consumer or admin of this client');
      throw e;
    }
  };
  return {
    events: SYNC_EVENTS,
    async status() {
      let b;
      try { b = await conn.broker(); } catch { return hub.last; }
      const s = await b.syncStatus();
      return { ...hub.last, ...s, persisted: hub.persisted ?? s.persisted };
    },
    on(event, listener) {
      if (!Object.values(SYNC_EVENTS).includes(event)) throw new InvalidArgumentError(`client.sync.on: unknown event ${JSON.stringify(event)}; use one of ${Object.values(SYNC_EVENTS).join(', ')}`, { details: { field: 'event' } });
      listen();
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => { set!.delete(listener); };
    },
    async mirror(o) {
      if (!o || typeof o.topic !== 'string' || typeof o.into !== 'string') throw new InvalidArgumentError('client.sync.mirror needs { topic, into }', { details: { field: 'topic' } });
      if (o.topic === o.into) throw new InvalidArgumentError('client.sync.mirror: `into` must differ from `topic` (the local topic of that name is pushed to the replica)', { details: { field: 'into' } });
      await (await broker()).syncMirror({ topic: o.topic, into: o.into });
    },
    async stopMirror(into) {
      await (await broker()).syncStopMirror(into);
    },
    async retry() {
      await (await broker()).syncRetry();
    },
    async setToken(token) {
      if (typeof token !== 'string' || token === '') throw new InvalidArgumentError('client.sync.setToken needs a non-empty string', { details: { field: 'token' } });
      await (await broker()).syncSetToken(token);
    },
  };
}
