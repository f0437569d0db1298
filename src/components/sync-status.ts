/**
 * `<lanes-sync-status>`: whether this device's log reaches its replica: online or offline,
 * records and bytes waiting to upload, the last successful sync, the last error, progress while
 * a backlog uploads, each mirror (following, stopped, or failing with its last error) and a
 * retry button. Says "Sync off" while the client has no sync configured (or no sync at all).
 * Renders a `status` object when one is given; otherwise follows `client.sync` (its snapshot,
 * then its status events).
 *
 * Invariant: every string from the status (errors, topic names) is rendered as text by lit's
 * text bindings, never parsed as HTML.
 */
import { html, css } from 'lit';
import type { Client } from '../index.js';
import { compact } from './chart.js';
import { LanesElement } from './lanes-element.js';
import { errorText } from './live.js';
import { theme } from './theme.js';

/** The sync status the element shows (the shape of `client.sync`'s snapshot). */
export interface SyncStatusView {
  /** False while sync is not configured: the element says "Sync off". */
  configured: boolean;
  online: boolean;
  /** idle, uploading, waiting, offline, unauthorized, standby or off. */
  state?: string;
  pendingRecords: number;
  pendingBytes: number;
  /** ms since the epoch of the last acknowledged upload. */
  lastSuccessAt?: number | null;
  lastError?: { message: string; at?: number } | string | null;
  progress?: { uploaded: number; total: number } | null;
  retryAt?: number | null;
  /** Local topics following replica topics; `lastError` while a mirror's rounds fail. */
  mirrors?: MirrorView[];
  /** Partitions held back: the replica refused the batch at `baseOffset` for good (the others upload). */
  blocked?: HeldView[];
}

/** One held partition in a {@link SyncStatusView}. */
export interface HeldView {
  topic: string;
  partition: number;
  baseOffset: number;
  message: string;
}

/** One mirror in a {@link SyncStatusView}: replica `topic` followed into local `into`. */
export interface MirrorView {
  topic: string;
  into: string;
  /** Why its rounds fail (it retries); absent or null while it follows. */
  lastError?: { message: string; at?: number } | string | null;
  /** True after stopMirror(): listed, not followed. */
  stopped?: boolean;
}

const message = (e: { message: string } | string) => (typeof e === 'string' ? e : e.message);

/** What the element needs of `client.sync` (present once sync is part of the client). */
interface SyncLike {
  status(): SyncStatusView | Promise<SyncStatusView>;
  on?(event: string, listener: (s: unknown) => void): (() => void) | void;
  retry?(): unknown;
  syncNow?(): unknown;
}

const OFF: SyncStatusView = { configured: false, online: typeof navigator === 'undefined' ? true : navigator.onLine, pendingRecords: 0, pendingBytes: 0 };

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function ago(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return new Date(at).toLocaleString();
}

/**
 * Sync state of a lanes client, with a retry button.
 *
 * @element lanes-sync-status
 * @attr database - a lanes database to open when no `client` property is set
 * @attr theme - `light` or `dark` (default: the system's preference)
 * @prop status - a status object to show instead of the client's
 * @fires lanes-sync-retry - the retry button was pressed (it also calls `client.sync.retry()`)
 * @csspart badge - the state badge (Synced, Uploading, Offline, Sync off...)
 * @csspart facts - the list of pending records, bytes, last sync and error
 * @csspart progress - the upload progress bar
 * @csspart retry - the retry button
 * @csspart mirrors - the list of mirrors, each following, stopped, or failing with its last error
 */
export class LanesSyncStatus extends LanesElement {
  static override properties = { ...LanesElement.properties, status: { attribute: false }, shown: { state: true }, failure: { state: true } };
  static override styles = [theme, css`
    :host { background: transparent; }
    .box { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 14px; }
    dl { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 0; font-size: 0.9em; }
    dl div { display: flex; gap: 4px; }
    dt { color: var(--_muted); }
    dd { margin: 0; font-variant-numeric: tabular-nums; }
    progress { width: 8em; height: 8px; accent-color: var(--_accent); }
    .dot { width: 8px; height: 8px; border-radius: 50%; background: currentColor; display: inline-block; margin-right: 6px; vertical-align: middle; }
    .badge { display: inline-flex; align-items: center; }
    ul { flex-basis: 100%; margin: 0; padding: 0; list-style: none; font-size: 0.9em; }
    li { overflow-wrap: anywhere; }
  `];

  /** A status to show (overrides the client's). */
  declare status: SyncStatusView | undefined;
  declare private shown: SyncStatusView;
  declare private failure: string;
  private stopListening: (() => void) | undefined;
  /** Redraws "last sync 5 s ago" as time passes (the status itself comes from events). */
  private ticker: ReturnType<typeof setInterval> | undefined;
  private onNetwork = () => { if (!this.status) this.shown = { ...this.shown, online: navigator.onLine }; };

  constructor() {
    super();
    this.shown = OFF;
    this.failure = '';
  }

  private get sync(): SyncLike | undefined {
    return (this.lanes as unknown as { sync?: SyncLike } | undefined)?.sync;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('online', this.onNetwork);
    addEventListener('offline', this.onNetwork);
    this.ticker = setInterval(() => { if ((this.status ?? this.shown).lastSuccessAt) this.requestUpdate(); }, 5000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('online', this.onNetwork);
    removeEventListener('offline', this.onNetwork);
    clearInterval(this.ticker);
  }

  protected override clientChanged(_client: Client): void {
    const sync = this.sync;
    if (!sync || typeof sync.status !== 'function') { this.shown = { ...OFF, online: navigator.onLine }; return; }
    const take = (s: unknown) => { if (s && typeof s === 'object') this.shown = { ...OFF, ...(s as SyncStatusView) }; };
    const off = sync.on?.('status', take);
    this.stopListening = typeof off === 'function' ? off : undefined;
    void Promise.resolve(sync.status()).then(take, (e) => { this.failure = errorText(e); });
  }

  protected override clientGone(): void {
    this.stopListening?.();
    this.stopListening = undefined;
  }

  private retry(): void {
    this.dispatchEvent(new CustomEvent('lanes-sync-retry', { bubbles: true, composed: true }));
    const s = this.sync;
    const r = s?.retry ?? s?.syncNow;
    if (r) void Promise.resolve(r.call(s)).catch((e: unknown) => { this.failure = errorText(e); });
  }

  override render() {
    const s = this.status ? { ...OFF, ...this.status } : this.shown;
    const now = Date.now();
    if (!s.configured) {
      return html`<div class="box" role="status" aria-label="Sync status">
        <span class="badge muted" part="badge"><span class="dot" aria-hidden="true"></span>Sync off</span>
        <span class="muted">${s.online ? 'online' : 'offline'} · records stay on this device</span>
      </div>`;
    }
    const state = !s.online ? 'offline' : s.state ?? (s.pendingRecords > 0 ? 'waiting' : 'idle');
    const label: Record<string, [string, string]> = {
      idle: ['Synced', 'ok'], uploading: ['Uploading', 'warn'], waiting: ['Pending', 'warn'], offline: ['Offline', 'danger'],
      unauthorized: ['Sign-in needed', 'danger'], standby: ['Syncing in background', 'muted'], off: ['Sync off', 'muted'],
    };
    const held = s.blocked ?? [];
    // Nothing left to send but held records: not "Synced".
    const [text, cls] = state === 'idle' && held.length ? ['Held back', 'danger'] : label[state] ?? [state, 'muted'];
    const err = s.lastError ? message(s.lastError) : this.failure;
    const mirrors = s.mirrors ?? [];
    return html`<div class="box" role="status" aria-label="Sync status">
      <span class="badge ${cls}" part="badge"><span class="dot" aria-hidden="true"></span>${text}</span>
      <dl part="facts">
        <div><dt>Pending</dt><dd>${compact(s.pendingRecords)} records · ${bytes(s.pendingBytes)}</dd></div>
        <div><dt>Last sync</dt><dd>${s.lastSuccessAt ? ago(s.lastSuccessAt, now) : 'never'}</dd></div>
        ${err ? html`<div><dt>Error</dt><dd class="danger">${err}</dd></div>` : ''}
      </dl>
      ${s.progress && s.progress.total > 0 ? html`<progress part="progress" max=${s.progress.total} value=${s.progress.uploaded}
        aria-label="Upload progress: ${s.progress.uploaded} of ${s.progress.total} records"></progress>` : ''}
      <button part="retry" @click=${this.retry} ?disabled=${!s.online}>Retry now</button>
      ${mirrors.length ? html`<ul part="mirrors" aria-label="Mirrors">${mirrors.map((m) => html`<li>
        <span class="muted">Mirror</span> ${m.topic} → ${m.into}: ${m.lastError
          ? html`<span class="danger">failing: ${message(m.lastError)}</span>`
          : m.stopped ? html`<span class="muted">stopped</span>` : html`<span class="ok">following</span>`}</li>`)}</ul>` : ''}
      ${held.length ? html`<ul part="held" aria-label="Held partitions">${held.map((b) => html`<li>
        <span class="muted">Held</span> ${b.topic}[${b.partition}] at offset ${b.baseOffset}: <span class="danger">${b.message}</span></li>`)}</ul>` : ''}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'lanes-sync-status': LanesSyncStatus }
}
