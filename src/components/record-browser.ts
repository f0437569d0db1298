/**
 * `<lanes-record-browser>`: a free consumer's view of one partition. Pick a topic and partition,
 * jump to an offset or a time, page forward and back, or scroll: the list is virtual (only the
 * rows in view exist, pages of records are read on demand), so a partition of a million records
 * scrolls as smoothly as one of ten. The selected record's key, headers, timestamp and value
 * (pretty-printed) show below. New records appear as they are appended (from `client.watch`).
 *
 * Invariants:
 * - Row i is offset low + i; a row whose record was compacted away says so.
 * - Pages are read one at a time, the most recently wanted first; a page no longer in view is
 *   not read. At most `CACHE_PAGES` pages are kept.
 * - The virtual top (row index x row height) is the position's truth; the scrollbar follows it.
 */
import { html, css, type PropertyValues } from 'lit';
import type { Client, KafkaMessage, WatchEvent } from '../index.js';
import { LanesElement } from './lanes-element.js';
import { Live, errorText } from './live.js';
import { RecordPager } from './record-pager.js';
import { theme } from './theme.js';
import { maxVirtualTop, revealRow, scrollTopOf, virtualTopOf, virtualWindow, type ListGeometry } from './virtual-window.js';

const ROW_PX = 32;
const PAGE = 200;
const CACHE_PAGES = 64;

/** Text of a key or value for the list (one line). */
function preview(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return `<${v.byteLength} bytes>`;
  try { return JSON.stringify(v); } catch { return String(v); }
}

/** Text of a value for the details (pretty-printed). */
function pretty(v: unknown): string {
  if (v instanceof Uint8Array) return Array.from(v.subarray(0, 512), (b) => b.toString(16).padStart(2, '0')).join(' ') + (v.byteLength > 512 ? ' …' : '');
  if (typeof v === 'string') {
    try { return JSON.stringify(JSON.parse(v), null, 2); } catch { return v; }
  }
  if (v === null || v === undefined) return 'null';
  try { return JSON.stringify(v, null, 2); } catch { return String(v); }
}

/** An ISO-like local time with milliseconds. */
function time(ts: string): string {
  const d = new Date(Number(ts));
  if (Number.isNaN(d.getTime())) return ts;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/**
 * Records of one partition, read by a free consumer, in a virtual list.
 *
 * @element lanes-record-browser
 * @attr database - a lanes database to open when no `client` property is set
 * @attr topic - the topic to show (default: the first one)
 * @attr partition - the partition to show (default 0)
 * @attr theme - `light` or `dark` (default: the system's preference)
 * @fires lanes-record-select - a record was selected; `detail: { topic, partition, offset }`
 * @csspart controls - the topic, partition, offset and time pickers and the page buttons
 * @csspart list - the scrolling list of records (a listbox)
 * @csspart row - one record's row
 * @csspart details - the selected record's key, headers, timestamp and value
 * @cssprop --lanes-browser-height - height of the list (default 420px)
 */
export class LanesRecordBrowser extends LanesElement {
  static override properties = {
    ...LanesElement.properties,
    topic: { type: String, reflect: true },
    partition: { type: Number, reflect: true },
    topicList: { state: true },
    watermarks: { state: true },
    virtualTop: { state: true },
    active: { state: true },
    viewPx: { state: true },
    error: { state: true },
    version: { state: true },
  };

  static override styles = [theme, css`
    .controls { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: flex-end; padding: 10px 12px; background: var(--_surface); border-bottom: 1px solid var(--_border); }
    .controls .pager { display: flex; gap: 6px; margin-left: auto; flex-wrap: wrap; }
    .controls form { display: flex; gap: 6px; align-items: flex-end; }
    .controls input[type='number'] { width: 9em; }
    .status { padding: 6px 12px; font-size: 0.85em; border-bottom: 1px solid var(--_border); display: flex; justify-content: space-between; gap: 12px; flex-wrap: wrap; }
    .viewport { position: relative; height: var(--lanes-browser-height, 420px); overflow-y: auto; overflow-x: hidden; contain: strict; outline-offset: -2px; }
    .content { position: relative; width: 100%; }
    .rows { position: absolute; left: 0; right: 0; top: 0; will-change: transform; }
    .row { height: ${ROW_PX}px; display: grid; grid-template-columns: 6.5em 15.5em minmax(4em, 12em) 1fr; gap: 12px; align-items: center; padding: 0 12px; border-bottom: 1px solid var(--_border); cursor: pointer; white-space: nowrap; font-family: var(--_mono); font-size: 0.88em; }
    .row > span { overflow: hidden; text-overflow: ellipsis; }
    .row:hover { background: var(--_surface); }
    .row[aria-selected='true'] { background: color-mix(in srgb, var(--_accent) 14%, var(--_bg)); box-shadow: inset 3px 0 0 var(--_accent); }
    .row .off { text-align: right; color: var(--_muted); }
    .row .gap { color: var(--_muted); font-style: italic; font-family: var(--_font); }
    .head { display: grid; grid-template-columns: 6.5em 15.5em minmax(4em, 12em) 1fr; gap: 12px; padding: 6px 12px; font-size: 0.78em; font-weight: 600; text-transform: uppercase; letter-spacing: 0.03em; color: var(--_muted); border-bottom: 1px solid var(--_border); background: var(--_surface); }
    .head span:first-child { text-align: right; }
    .details { padding: 12px; border-top: 1px solid var(--_border); display: grid; gap: 8px 16px; grid-template-columns: max-content 1fr; align-items: start; }
    .details dt { color: var(--_muted); font-size: 0.85em; padding-top: 2px; }
    .details dd { margin: 0; font-family: var(--_mono); font-size: 0.9em; overflow-wrap: anywhere; }
    .details pre { margin: 0; padding: 10px; background: var(--_surface); border: 1px solid var(--_border); border-radius: var(--_radius); overflow: auto; max-height: 18em; font-size: 0.95em; }
    @media (max-width: 640px) {
      .row, .head { grid-template-columns: 5.5em minmax(3em, 7em) 1fr; }
      .row .ts, .head .ts { display: none; }
      .controls .pager { margin-left: 0; }
    }
  `];

  /** The topic shown. */
  declare topic: string | undefined;
  /** The partition shown. */
  declare partition: number;
  declare private topicList: string[];
  declare private watermarks: Map<string, { low: number; high: number }[]>;
  declare private virtualTop: number;
  declare private active: number | null;
  declare private viewPx: number;
  declare private error: string;
  declare private version: number;

  private live = new Live();
  private pager: RecordPager | null = null;
  private pages = new Map<number, Map<number, KafkaMessage> | 'loading'>();
  private wanted: number[] = [];
  private reading = false;
  private follow = false;
  private setScroll = -1;
  private resize: ResizeObserver | undefined;
  /** Set while the user flicks through the list: page reads wait until the scrolling slows. */
  private settleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.partition = 0;
    this.topicList = [];
    this.watermarks = new Map();
    this.virtualTop = 0;
    this.active = null;
    this.viewPx = 420;
    this.error = '';
    this.version = 0;
  }

  protected override clientChanged(client: Client): void {
    this.pager = new RecordPager(client);
    this.resetPages();
    void this.live.start(client, {}, (e) => this.onEvent(e), (e) => { this.error = errorText(e); });
  }

  protected override clientGone(): void {
    this.live.stop();
    void this.pager?.close();
    this.pager = null;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize?.disconnect();
    this.resize = undefined;
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
  }

  private get bounds(): { low: number; high: number } {
    return this.watermarks.get(this.topic ?? '')?.[this.partition] ?? { low: 0, high: 0 };
  }

  private get geometry(): ListGeometry {
    const { low, high } = this.bounds;
    return { rows: Math.max(0, high - low), rowPx: ROW_PX, viewPx: this.viewPx };
  }

  private onEvent(e: WatchEvent): void {
    if (e.type === 'topics') {
      this.topicList = e.topics;
      if (!this.topic && e.topics.length) this.topic = e.topics[0];
      return;
    }
    if (e.type !== 'offsets') return;
    const before = this.watermarks.get(e.topic)?.[this.partition];
    const next = e.partitions.map((p) => ({ low: Number(p.low), high: Number(p.high) }));
    this.watermarks = new Map(this.watermarks).set(e.topic, next);
    if (e.topic !== this.topic) return;
    const now = next[this.partition];
    if (!now) return;
    if (before && before.high !== now.high) {
      // The last page was partial: read it again, with the new records.
      this.pages.delete(Math.floor(Math.max(before.high - 1, 0) / PAGE));
      if (before.low !== now.low) this.resetPages();
    }
    if (this.follow || this.active === null) {
      if (this.follow) this.showOffset(now.high - 1, 'end');
    }
    this.version++;
  }

  private resetPages(): void {
    this.pages.clear();
    this.wanted = [];
  }

  /** Shows a partition (from the pickers). */
  private choose(topic: string, partition: number): void {
    if (topic === this.topic && partition === this.partition) return;
    this.topic = topic;
    this.partition = partition;
    this.resetPages();
    this.active = null;
    this.virtualTop = 0;
    this.follow = false;
  }

  protected override willUpdate(changed: PropertyValues): void {
    super.willUpdate(changed);
    if ((changed.has('topic') && changed.get('topic') !== undefined) || (changed.has('partition') && changed.get('partition') !== undefined)) {
      this.resetPages();
    }
  }

  protected override firstUpdated(): void {
    const vp = this.viewport;
    if (!vp) return;
    this.viewPx = vp.clientHeight || this.viewPx;
    this.resize = new ResizeObserver(() => { if (vp.clientHeight) this.viewPx = vp.clientHeight; });
    this.resize.observe(vp);
  }

  private get viewport(): HTMLElement | null {
    return this.renderRoot.querySelector('.viewport');
  }

  protected override updated(): void {
    const vp = this.viewport;
    if (vp) {
      const want = scrollTopOf(this.geometry, this.virtualTop);
      if (Math.abs(vp.scrollTop - want) >= 1) { vp.scrollTop = want; this.setScroll = vp.scrollTop; }
    }
    this.loadVisible();
  }

  private onScroll(): void {
    const vp = this.viewport!;
    if (Math.abs(vp.scrollTop - this.setScroll) < 1) return;
    this.setScroll = -1;
    const g = this.geometry;
    const before = this.virtualTop;
    this.virtualTop = virtualTopOf(g, vp.scrollTop);
    this.follow = this.virtualTop >= maxVirtualTop(g) - 1 && g.rows > 0;
    // A jump of more than two screens is a flick: reading the pages it passes would only delay
    // the one it stops at, so reads wait until the position holds for a moment.
    if (Math.abs(this.virtualTop - before) > 2 * g.viewPx) {
      clearTimeout(this.settleTimer);
      this.settleTimer = setTimeout(() => { this.settleTimer = undefined; this.loadVisible(); }, 120);
    }
  }

  /** Moves to an offset: selects it and scrolls it into view ('top' or 'end' of the viewport, or as little as needed). */
  showOffset(offset: number, where: 'top' | 'end' | 'reveal' = 'top'): void {
    const { low, high } = this.bounds;
    if (high <= low) { this.active = null; return; }
    const o = Math.min(Math.max(offset, low), high - 1);
    const g = this.geometry;
    const index = o - low;
    this.active = o;
    if (where === 'reveal') this.virtualTop = revealRow(g, this.virtualTop, index);
    else if (where === 'end') this.virtualTop = Math.max(0, Math.min(index * ROW_PX + ROW_PX - g.viewPx, maxVirtualTop(g)));
    else this.virtualTop = Math.min(index * ROW_PX, maxVirtualTop(g));
    this.follow = where === 'end' && o === high - 1;
    this.dispatchEvent(new CustomEvent('lanes-record-select', { detail: { topic: this.topic, partition: this.partition, offset: String(o) }, bubbles: true, composed: true }));
  }

  private get rowsInView(): number {
    // Measured now: the first measure may predate layout (Firefox lays out the shadow root later).
    return Math.max(1, Math.floor((this.viewport?.clientHeight || this.viewPx) / ROW_PX));
  }

  /** Pages forward (+1) or back (-1) by one screen of rows. */
  page(direction: 1 | -1): void {
    const { low } = this.bounds;
    const firstVisible = low + Math.floor(this.virtualTop / ROW_PX);
    this.showOffset(firstVisible + direction * this.rowsInView, 'top');
  }

  private onKey(e: KeyboardEvent): void {
    const { low, high } = this.bounds;
    if (high <= low) return;
    const cur = this.active ?? low + Math.floor(this.virtualTop / ROW_PX);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: this.rowsInView, PageUp: -this.rowsInView };
    let next: number | null = null;
    // The first arrow press selects the first row in view; later ones move from the selection.
    if (e.key in moves) next = this.active === null && Math.abs(moves[e.key]!) === 1 ? cur : cur + moves[e.key]!;
    else if (e.key === 'Home') next = low;
    else if (e.key === 'End') next = high - 1;
    if (next === null) return;
    e.preventDefault();
    this.showOffset(next, e.key === 'End' ? 'end' : 'reveal');
  }

  private loadVisible(): void {
    if (!this.pager || !this.topic || this.settleTimer !== undefined) return;
    const { low, high } = this.bounds;
    const w = virtualWindow(this.geometry, this.virtualTop, 0, 2);
    if (w.count === 0) return;
    const firstPage = Math.floor((low + w.first) / PAGE);
    const lastPage = Math.floor(Math.min(high - 1, low + w.first + w.count - 1) / PAGE);
    const need: number[] = [];
    for (let p = firstPage; p <= lastPage; p++) if (!this.pages.has(p)) need.push(p);
    this.wanted = need;
    void this.readPages();
  }

  private async readPages(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      while (this.wanted.length && this.pager && this.topic) {
        const p = this.wanted.shift()!;
        if (this.pages.has(p)) continue;
        const topic = this.topic, partition = this.partition;
        const { low, high } = this.bounds;
        const from = Math.max(p * PAGE, low);
        this.pages.set(p, 'loading');
        const page = await this.pager.read(topic, partition, from, (p + 1) * PAGE - from, high);
        if (topic !== this.topic || partition !== this.partition) continue;
        this.pages.set(p, new Map(page.records.map((r) => [Number(r.offset), r])));
        if (this.pages.size > CACHE_PAGES) {
          for (const k of this.pages.keys()) { if (this.pages.size <= CACHE_PAGES) break; if (k !== p) this.pages.delete(k); }
        }
        this.version++;
      }
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.reading = false;
    }
  }

  private record(offset: number): KafkaMessage | null | undefined {
    const page = this.pages.get(Math.floor(offset / PAGE));
    if (!page || page === 'loading') return undefined;
    return page.get(offset) ?? null;
  }

  override render() {
    if (!this.lanes) return html`<p class="empty">No client: set the <code>client</code> property or a <code>database</code> attribute.</p>`;
    const { low, high } = this.bounds;
    const parts = this.watermarks.get(this.topic ?? '')?.length ?? 0;
    const g = this.geometry;
    const w = virtualWindow(g, this.virtualTop, scrollTopOf(g, this.virtualTop));
    const firstVisible = low + Math.floor(this.virtualTop / ROW_PX);
    const lastVisible = Math.min(high - 1, firstVisible + this.rowsInView - 1);
    const label = this.topic ? `Records of ${this.topic}, partition ${this.partition}` : 'Records';
    return html`
      <div class="controls" part="controls">
        <label>Topic
          <select @change=${(e: Event) => this.choose((e.target as HTMLSelectElement).value, 0)}>
            ${this.topicList.length === 0 ? html`<option value="">(none)</option>` : ''}
            ${this.topicList.map((t) => html`<option ?selected=${t === this.topic} value=${t}>${t}</option>`)}
          </select></label>
        <label>Partition
          <select @change=${(e: Event) => this.choose(this.topic ?? '', Number((e.target as HTMLSelectElement).value))}>
            ${Array.from({ length: Math.max(parts, 1) }, (_, i) => html`<option ?selected=${i === this.partition} value=${i}>${i}</option>`)}
          </select></label>
        <form @submit=${(e: Event) => { e.preventDefault(); const v = ((e.target as HTMLFormElement).elements.namedItem('offset') as HTMLInputElement).value; if (v !== '') this.showOffset(Number(v)); }}>
          <label>Offset <input name="offset" type="number" min="0" inputmode="numeric" placeholder=${String(low)}></label>
          <button type="submit">Go</button>
        </form>
        <form @submit=${(e: Event) => { e.preventDefault(); void this.goToTime(((e.target as HTMLFormElement).elements.namedItem('time') as HTMLInputElement).value); }}>
          <label>Time <input name="time" type="datetime-local" step="1"></label>
          <button type="submit">Go</button>
        </form>
        <div class="pager" role="group" aria-label="Paging">
          <button @click=${() => this.showOffset(low)} ?disabled=${high <= low}>Earliest</button>
          <button @click=${() => this.page(-1)} ?disabled=${firstVisible <= low}>Previous page</button>
          <button @click=${() => this.page(1)} ?disabled=${lastVisible >= high - 1}>Next page</button>
          <button @click=${() => this.showOffset(high - 1, 'end')} ?disabled=${high <= low}>Latest</button>
        </div>
      </div>
      <div class="status muted" part="status">
        <span>${high > low ? `Offsets ${firstVisible.toLocaleString('en-US')}–${lastVisible.toLocaleString('en-US')} of ${low.toLocaleString('en-US')}–${(high - 1).toLocaleString('en-US')}` : 'No records in this partition'}</span>
        <span>${this.error ? html`<span class="danger" role="alert">${this.error}</span>` : `${(high - low).toLocaleString('en-US')} records`}</span>
      </div>
      <div class="head" aria-hidden="true"><span>Offset</span><span class="ts">Timestamp</span><span>Key</span><span>Value</span></div>
      <div class="viewport" part="list" role="listbox" tabindex="0" aria-label=${label}
        style=${g.rows < 64 ? `height: min(var(--lanes-browser-height, 420px), ${Math.max(2, g.rows) * ROW_PX + 2}px)` : ''}
        aria-activedescendant=${this.active !== null && this.active >= low + w.first && this.active < low + w.first + w.count ? `r-${this.active}` : ''}
        @scroll=${this.onScroll} @keydown=${this.onKey}>
        <div class="content" style="height:${w.contentPx}px">
          <div class="rows" style="transform:translateY(${w.topPx}px)">
            ${Array.from({ length: w.count }, (_, i) => this.renderRow(low + w.first + i, w.first + i + 1, g.rows))}
          </div>
        </div>
      </div>
      ${this.renderDetails()}`;
  }

  private renderRow(offset: number, pos: number, size: number) {
    const r = this.record(offset);
    const selected = offset === this.active;
    return html`<div class="row" part="row" role="option" id="r-${offset}" aria-selected=${selected ? 'true' : 'false'} aria-posinset=${pos} aria-setsize=${size}
      @click=${() => this.showOffset(offset, 'reveal')}>
      <span class="off">${offset}</span>
      ${r === undefined ? html`<span class="ts muted">…</span><span class="muted">loading</span><span></span>`
        : r === null ? html`<span class="ts"></span><span class="gap">removed by compaction or retention</span><span></span>`
        : html`<span class="ts">${time(r.timestamp)}</span><span>${preview(r.key)}</span><span>${preview(r.value)}</span>`}
    </div>`;
  }

  private renderDetails() {
    if (this.active === null) return html`<div class="details muted" part="details">Select a record to see its key, headers and value.</div>`;
    const r = this.record(this.active);
    if (!r) return html`<div class="details muted" part="details">Offset ${this.active}: ${r === null ? 'removed by compaction or retention' : 'loading…'}</div>`;
    const headers = Object.entries(r.headers ?? {});
    return html`<dl class="details" part="details" aria-label="Record at offset ${r.offset}">
      <dt>Offset</dt><dd>${r.offset}</dd>
      <dt>Timestamp</dt><dd>${time(r.timestamp)} <span class="muted">(${r.timestamp})</span></dd>
      <dt>Key</dt><dd>${preview(r.key)}</dd>
      <dt>Headers</dt><dd>${headers.length === 0 ? html`<span class="muted">none</span>` : headers.map(([k, v]) => html`<div>${k}: ${Array.isArray(v) ? v.map(preview).join(', ') : preview(v)}</div>`)}</dd>
      <dt>Value</dt><dd><pre>${pretty(r.value)}</pre></dd>
    </dl>`;
  }

  private async goToTime(value: string): Promise<void> {
    const admin = this.live.admin;
    if (!value || !admin || !this.topic) return;
    try {
      const at = await admin.fetchTopicOffsetsByTimestamp(this.topic, new Date(value).getTime());
      const o = at.find((x) => x.partition === this.partition);
      if (o) this.showOffset(Number(o.offset));
    } catch (e) {
      this.error = errorText(e);
    }
  }
}

declare global {
  interface HTMLElementTagNameMap { 'lanes-record-browser': LanesRecordBrowser }
}
