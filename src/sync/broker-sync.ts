/**
 * Sync inside the broker: keeps the configuration with the log, runs the uploading agent while
 * this broker holds the sync lock, runs mirrors, and keeps the log's replicated offsets current
 * when the service worker uploads instead.
 *
 * Invariants:
 * - Once a configuration is stored with the log, every broker of that log starts sync on open
 *   (retention then keeps unreplicated segments), whether or not its tab passed `sync`.
 * - Replicated offsets announced by another uploader only ever raise the in-memory ones, and wake
 *   readers with `isolation: 'replicated'`.
 * - One mirror per local topic; a mirror registration survives reloads (sync-meta) and is resumed
 *   from the log's own last mirrored record. A topic becomes a mirror target only while empty
 *   (or already one): its own records would never be uploaded.
 * - A mirror whose rounds fail shows why in the status (`mirrors[].lastError`, a status event
 *   when it appears or changes) until a round succeeds: a mirror stuck on a record its local
 *   topic refuses is not silent.
 * - The status's mirror list changes with a status event: on mirror() of a new mirror, on
 *   stopMirror() (the mirror stays listed with `stopped: true`), and when an error appears or clears.
 */
import { tpKey } from '../protocol/topic-partition.js';
import { InvalidArgumentError, TopicNotFoundError } from '../errors.js';
import type { Appender } from '../log/appender.js';
import type { LogStore } from '../log/log-store.js';
import { validateTopicName } from '../log/log-store.js';
import { deviceIdOf, loadMirrors, loadReplicated, loadSyncConfig, saveMirror, saveSyncConfig, type StoredSyncConfig } from '../log/sync-meta.js';
import { names, type SyncConfigureRequest, type SyncFailureInfo, type SyncStatus } from '../protocol/broker-api.js';
import { failureOf } from './replica-client.js';
import { Mirror } from './mirror.js';
import { SyncAgent, type SyncChannelMessage } from './sync-agent.js';

/** How the broker creates or grows a topic (so consumer groups hear of it). */
export type EnsureTopic = (topic: string, partitions: number) => Promise<void>;

const OFF: SyncStatus = {
  configured: false, online: true, state: 'off', pendingRecords: 0, pendingBytes: 0, topics: {}, lastSuccessAt: null,
  lastError: null, progress: null, retryAt: null, blocked: [], uploader: null, deviceId: null, url: null, mirrors: [], persisted: null,
};

/** The broker's sync service. */
export class BrokerSync {
  private agent: SyncAgent | undefined;
  private config: (StoredSyncConfig & Omit<SyncConfigureRequest, 'url' | 'token'>) | undefined;
  private deviceId: string | null = null;
  private mirrors = new Map<string, Mirror>();
  /** Why each failing mirror's last round failed, by local topic. */
  private readonly mirrorErrors = new Map<string, SyncFailureInfo>();
  private readonly statusListeners = new Set<() => void>();
  private channel: BroadcastChannel | undefined;
  private remote: SyncStatus | undefined;
  private closed = false;

  constructor(private readonly store: LogStore, private readonly appender: Appender, private readonly database: string, private readonly ensureTopic: EnsureTopic) {
    if (typeof BroadcastChannel === 'function') {
      this.channel = new BroadcastChannel(names.syncChannel(database));
      this.channel.onmessage = (ev: MessageEvent<SyncChannelMessage>) => this.heard(ev.data);
    }
  }

  /** Starts sync with the configuration stored with the log, if there is one. */
  async resume(): Promise<void> {
    const stored = await loadSyncConfig(this.store);
    if (stored) await this.start(stored);
  }

  private heard(m: SyncChannelMessage): void {
    if (!m || m.role !== 'service-worker') return;
    if (m.type === 'status') this.remote = { ...OFF, ...m.status, configured: true, uploader: 'service-worker', deviceId: this.deviceId, url: this.config?.url ?? null, mirrors: this.mirrorList() };
    if (m.type === 'replicated') {
      // A lazily opened log reads the rows of these topics first.
      const acks = Array.isArray(m.acks) ? m.acks : [];
      if (!this.store.knowsTopics(acks.map((a) => a.topic))) {
        const store = this.store;
        void store.useTopics(acks.map((a) => a.topic)).then(() => { if (store === this.store && !this.closed) this.heard(m); }, () => undefined);
        return;
      }
      for (const a of acks) {
        if (!this.store.topics.has(a.topic)) continue;
        if (this.store.setReplicated(a.topic, a.partition, a.replicated)) {
          this.agent?.dispatch({ type: 'replicated', topic: a.topic, partition: a.partition, replicated: a.replicated });
          // A partition not loaded yet has no fetch waiting on it.
          const p = this.store.partitions.get(tpKey(a.topic, a.partition));
          if (p) this.store.notifyAppend(a.topic, a.partition, p.active.nextOffset);
        }
      }
    }
  }

  /** Turns sync on, or updates it. */
  async configure(req: SyncConfigureRequest): Promise<SyncStatus> {
    if (!req || typeof req.url !== 'string' || !/^https?:\/\/[^/]/.test(req.url)) {
      throw new InvalidArgumentError(`sync.url must be an http(s) URL of the replica; got ${JSON.stringify(req?.url)}`, { details: { field: 'sync.url' } });
    }
    if (req.token !== null && typeof req.token !== 'string') {
      throw new InvalidArgumentError('sync.token must be a string (or a getToken callback in the tab)', { details: { field: 'sync.token' } });
    }
    for (const f of ['lingerMs', 'maxRequestBytes', 'mirrorIntervalMs'] as const) {
      const v = req[f];
      const min = f === 'maxRequestBytes' ? 1 : 0;
      if (v !== undefined && (!Number.isFinite(v) || v < min)) throw new InvalidArgumentError(`sync.${f} must be a number >= ${min}; got ${String(v)}`, { details: { field: `sync.${f}` } });
    }
    const stored: StoredSyncConfig = { url: req.url, token: req.token, updatedAt: Date.now() };
    await saveSyncConfig(this.store, stored);
    const same = this.agent && this.config?.url === req.url && this.config.lingerMs === req.lingerMs && this.config.maxRequestBytes === req.maxRequestBytes;
    if (same) {
      this.config = { ...this.config!, ...stored };
      this.agent!.tokenChanged();
    } else {
      await this.start({ ...stored, lingerMs: req.lingerMs, maxRequestBytes: req.maxRequestBytes, mirrorIntervalMs: req.mirrorIntervalMs });
    }
    return this.status();
  }

  private async start(c: StoredSyncConfig & Omit<SyncConfigureRequest, 'url' | 'token'>): Promise<void> {
    this.agent?.stop();
    for (const m of this.mirrors.values()) m.stop();
    this.mirrors.clear();
    this.config = c;
    this.store.syncEnabled = true;
    await this.store.useAll();
    this.deviceId = await deviceIdOf(this.store);
    await loadReplicated(this.store);
    const rows = await loadMirrors(this.store);
    for (const m of rows) this.store.mirrors.set(m.into, m.topic);
    if (this.closed) return;
    const config: Record<string, number> = {};
    if (c.lingerMs !== undefined) config.lingerMs = c.lingerMs;
    if (c.maxRequestBytes !== undefined) config.maxRequestBytes = c.maxRequestBytes;
    this.agent = new SyncAgent({
      store: this.store, database: this.database, url: c.url, deviceId: this.deviceId, role: 'broker',
      token: () => this.config?.token ?? null, config,
    });
    this.agent.start();
    for (const m of rows) if (!m.stopped) this.runMirror(m.topic, m.into);
  }

  /** Stores a fresh token. */
  async setToken(token: string | null): Promise<void> {
    if (!this.config) throw new InvalidArgumentError('sync is not configured: pass `sync: { url, token }` to createClient');
    if (token !== null && typeof token !== 'string') throw new InvalidArgumentError('sync token must be a string', { details: { field: 'token' } });
    this.config = { ...this.config, token, updatedAt: Date.now() };
    await saveSyncConfig(this.store, { url: this.config.url, token, updatedAt: this.config.updatedAt });
    this.agent?.tokenChanged();
  }

  /** Retries an upload now instead of waiting out the backoff. */
  retry(): void {
    this.agent?.retry();
  }

  /** The network state a tab sees. */
  network(online: boolean): void {
    this.agent?.network(online);
    if (online) for (const m of this.mirrors.values()) m.poke();
  }

  private mirrorList(): SyncStatus['mirrors'] {
    return [...this.store.mirrors].map(([into, topic]) => {
      const lastError = this.mirrorErrors.get(into);
      if (!this.mirrors.has(into)) return { topic, into, stopped: true as const };
      return lastError ? { topic, into, lastError } : { topic, into };
    });
  }

  /** The status now. */
  status(): SyncStatus {
    if (!this.agent || !this.config) return { ...OFF };
    const own = this.agent.status();
    // While the service worker holds the lock, its status is the one that moves.
    if (own.state === 'standby' && this.remote) return { ...this.remote, topics: own.topics, pendingRecords: own.pendingRecords, pendingBytes: own.pendingBytes };
    return {
      ...own, configured: true, uploader: own.state === 'standby' ? null : 'broker', deviceId: this.deviceId, url: this.config.url,
      mirrors: this.mirrorList(), persisted: null,
    };
  }

  /** Listens to the broker agent's status changes. */
  onStatus(l: () => void): () => void {
    this.statusListeners.add(l);
    const off = this.agent?.onStatus(l);
    return () => { this.statusListeners.delete(l); off?.(); };
  }

  private mirrorFailed(into: string, e: unknown): void {
    const f = failureOf(e);
    const prev = this.mirrorErrors.get(into);
    this.mirrorErrors.set(into, { kind: f.kind, message: f.message, ...(f.code ? { code: f.code } : {}), at: Date.now() });
    if (prev?.message !== f.message) this.mirrorsChanged();
  }

  private mirrorOk(into: string): void {
    if (this.mirrorErrors.delete(into)) this.mirrorsChanged();
  }

  /** Tells this broker's listeners and the tabs (sync channel) of a mirror's error appearing or clearing. */
  private mirrorsChanged(): void {
    if (this.closed) return;
    for (const l of this.statusListeners) l();
    if (this.agent && this.config) this.channel?.postMessage({ type: 'status', role: 'broker', status: this.status() });
  }

  /** Starts (or keeps) a mirror of replica `topic` into local `into`. */
  async mirror(req: { topic: string; into: string }): Promise<void> {
    if (!this.config) throw new InvalidArgumentError('sync is not configured: pass `sync: { url, token }` to createClient before mirror()');
    validateTopicName(req?.topic);
    validateTopicName(req.into);
    const existing = this.store.mirrors.get(req.into);
    if (existing !== undefined && existing !== req.topic) {
      throw new InvalidArgumentError(`topic ${JSON.stringify(req.into)} already mirrors ${JSON.stringify(existing)}`, { details: { field: 'into' } });
    }
    const t = this.store.topics.get(req.into);
    if (t?.internal) throw new TopicNotFoundError(`topic ${JSON.stringify(req.into)} is internal`);
    if (existing === undefined && t) {
      // A mirror target is never uploaded: records of its own would silently stay on this device.
      for (let p = 0; p < t.numPartitions; p++) {
        const s = this.store.partition(req.into, p);
        if (s.active.nextOffset > s.logStartOffset) {
          throw new InvalidArgumentError(`topic ${JSON.stringify(req.into)} holds records of its own (partition ${p}); a mirror target is never uploaded, so mirror into a new or empty topic`, { details: { field: 'into' } });
        }
      }
    }
    await saveMirror(this.store, { topic: req.topic, into: req.into });
    const started = !this.mirrors.has(req.into);
    this.runMirror(req.topic, req.into);
    if (started) this.mirrorsChanged();
  }

  private runMirror(topic: string, into: string): void {
    if (this.mirrors.has(into) || !this.agent || this.closed) return;
    this.mirrors.set(into, new Mirror({
      store: this.store, appender: this.appender, client: this.agent.client, topic, into,
      ensureTopic: this.ensureTopic, intervalMs: this.config?.mirrorIntervalMs,
      onError: (e) => this.mirrorFailed(into, e), onOk: () => this.mirrorOk(into),
    }));
  }

  /** Stops a mirror; the topic stays a mirror target (never pushed) and is not resumed until mirror() again. */
  async stopMirror(into: string): Promise<void> {
    const topic = this.store.mirrors.get(into);
    this.mirrors.get(into)?.stop();
    this.mirrors.delete(into);
    this.mirrorErrors.delete(into);
    if (topic !== undefined) await saveMirror(this.store, { topic, into, stopped: true });
    this.mirrorsChanged();
  }

  /** Stops the agent and every mirror. */
  close(): void {
    this.closed = true;
    this.agent?.stop();
    for (const m of this.mirrors.values()) m.stop();
    this.channel?.close();
  }
}
