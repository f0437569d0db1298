/**
 * The loaded part of `client.sync` (see sync-client.ts): the status heard on the BroadcastChannel
 * `lanes:<db>:sync`, the broker's sync calls, and the start of the sync runtime when a client
 * with `sync` connects.
 */
import { InvalidArgumentError, NotConnectedError } from '../../errors.js';
import { names, type BrokerApi, type SyncStatus } from '../../protocol/broker-api.js';
import type { Connection } from '../connection.js';
import type { SyncClient, SyncEventName, SyncOptions } from './sync-client.js';

/** Status before anything was heard. */
export const SYNC_OFF: SyncStatus = {
  configured: false, online: true, state: 'off', pendingRecords: 0, pendingBytes: 0, topics: {}, lastSuccessAt: null,
  lastError: null, progress: null, retryAt: null, blocked: [], uploader: null, deviceId: null, url: null, mirrors: [], persisted: null,
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
    // A timer beyond 2^31-1 ms fires at once: a mirror would poll the replica without pause.
    // A request of 0 bytes carries nothing: the uploader opened empty pushes without end.
    const max = f === 'maxRequestBytes' ? Infinity : 0x7fffffff;
    const min = f === 'maxRequestBytes' ? 1 : 0;
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)) {
      throw new InvalidArgumentError(`createClient: sync.${f} must be a number >= ${min}${max < Infinity ? ` and at most ${max}` : ''}; got ${String(v)}`, { details: { field: `sync.${f}` } });
    }
  }
}

/** The loaded `client.sync`, and `start` for a connecting client with `sync` options. */
export function openSyncHub(conn: Connection, options: SyncOptions | undefined): Omit<SyncClient, 'events'> & { start(broker: BrokerApi): Promise<() => void> } {
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
  const broker = async () => {
    try {
      return await conn.broker();
    } catch (e) {
      if (e instanceof NotConnectedError) throw new NotConnectedError('client.sync needs a connected producer, consumer or admin of this client');
      throw e;
    }
  };
  return {
    /** Starts sync on a connection just opened: the runtime (service worker, persist, tokens) loads now. */
    async start(b) {
      listen();
      const { startSyncRuntime } = await import('./sync-runtime.js');
      return startSyncRuntime(b, conn.config.database, options!, hub);
    },
    async status() {
      let b;
      try { b = await conn.broker(); } catch { return hub.last; }
      const s = await b.syncStatus();
      return { ...hub.last, ...s, persisted: hub.persisted ?? s.persisted };
    },
    on(event, listener) {
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
