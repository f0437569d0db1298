/**
 * `<lanes-topic-view>`: topics with their partitions' low, high and replicated watermarks,
 * record counts and a throughput chart, updated live from `client.watch` (appends, new topics,
 * deleted or compacted records).
 */
import { html, css } from 'lit';
import type { Client, WatchEvent } from '../index.js';
import { sparkline, TimeSeries, compact } from './chart.js';
import { LanesElement } from './lanes-element.js';
import { Live, errorText } from './live.js';
import { chartStyles, theme } from './theme.js';

/** A partition row as the view shows it. */
interface PartitionRow { partition: number; low: number; high: number; replicated: number | null }

/**
 * Topics, partitions and watermarks of a lanes database, live.
 *
 * @element lanes-topic-view
 * @attr database - a lanes database to open when no `client` property is set
 * @attr topic - show only this topic
 * @attr theme - `light` or `dark` (default: the system's preference)
 * @fires lanes-select - a partition was chosen; `detail: { topic, partition }`
 * @csspart topic - the card of one topic
 * @csspart header - a topic's header row (name, counts, chart)
 * @csspart table - a topic's partition table
 * @csspart chart - a throughput chart
 * @cssprop --lanes-accent - accent colour (links, charts)
 * @cssprop --lanes-bg - background colour
 * @cssprop --lanes-fg - text colour
 */
export class LanesTopicView extends LanesElement {
  static override properties = { ...LanesElement.properties, topic: { type: String }, topics: { state: true }, error: { state: true } };
  static override styles = [theme, chartStyles, css`
    .meta { display: flex; gap: 16px; flex-wrap: wrap; align-items: baseline; }
    .grow { flex: 1; }
    h2 { font-family: var(--_mono); }
  `];

  /** Show only this topic. */
  declare topic: string | undefined;
  declare private topics: Map<string, PartitionRow[]>;
  declare private error: string;
  private live = new Live();
  private rates = new Map<string, TimeSeries>();
  private ticker: ReturnType<typeof setInterval> | undefined;
  /** Whether the client syncs: the replicated watermark means something only then. */
  private syncOn = false;
  private stopSync: (() => void) | undefined;

  constructor() {
    super();
    this.topics = new Map();
    this.error = '';
  }

  protected override clientChanged(client: Client): void {
    this.topics = new Map();
    this.rates.clear();
    const sync = (client as { sync?: { status(): Promise<{ configured: boolean }>; on(e: 'status', l: (s: { configured: boolean }) => void): () => void } }).sync;
    if (sync) {
      const take = (s: { configured: boolean }) => { if (s.configured !== this.syncOn) { this.syncOn = s.configured; this.requestUpdate(); } };
      this.stopSync = sync.on('status', take);
      void sync.status().then(take, () => undefined);
    }
    void this.live.start(client, { topics: this.topic ? [this.topic] : undefined }, (e) => this.onEvent(e), (e) => { this.error = errorText(e); });
    // Redraws the charts' time axis each second; the data itself only comes from events.
    this.ticker = setInterval(() => { if (this.rates.size) this.requestUpdate(); }, 1000);
  }

  protected override clientGone(): void {
    this.live.stop();
    clearInterval(this.ticker);
    this.stopSync?.();
    this.stopSync = undefined;
    this.syncOn = false;
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('topic') && changed.get('topic') !== undefined && this.lanes) { this.clientGone(); this.clientChanged(this.lanes); }
  }

  private async onEvent(e: WatchEvent): Promise<void> {
    if (e.type === 'topics') {
      const next = new Map<string, PartitionRow[]>();
      for (const t of e.topics) next.set(t, this.topics.get(t) ?? []);
      this.topics = next;
      return;
    }
    if (e.type !== 'offsets') return;
    const before = this.topics.get(e.topic);
    const rows: PartitionRow[] = e.partitions.map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high), replicated: null }));
    // The replicated watermark exists once sync is configured; it is read with the others.
    try {
      const offsets = (await this.live.admin?.fetchTopicOffsets(e.topic)) as ({ partition: number; replicated?: string }[] | undefined);
      for (const o of offsets ?? []) { const r = rows[o.partition]; if (r && o.replicated !== undefined) r.replicated = Number(o.replicated); }
    } catch { /* the topic went away meanwhile: the next event says so */ }
    if (before && before.length) {
      const added = rows.reduce((s, r) => s + Math.max(0, r.high - (before[r.partition]?.high ?? r.high)), 0);
      let series = this.rates.get(e.topic);
      if (!series) { series = new TimeSeries(60, 1000, 'sum'); this.rates.set(e.topic, series); }
      series.record(added);
    }
    this.topics = new Map(this.topics).set(e.topic, rows);
  }

  private select(topic: string, partition: number): void {
    this.dispatchEvent(new CustomEvent('lanes-select', { detail: { topic, partition }, bubbles: true, composed: true }));
  }

  override render() {
    if (this.error) return html`<p class="empty danger" role="alert">${this.error}</p>`;
    if (!this.lanes) return html`<p class="empty">No client: set the <code>client</code> property or a <code>database</code> attribute.</p>`;
    if (this.topics.size === 0) return html`<p class="empty">No topics yet.</p>`;
    return html`${[...this.topics].map(([topic, rows]) => this.renderTopic(topic, rows))}`;
  }

  private renderTopic(topic: string, rows: PartitionRow[]) {
    const records = rows.reduce((s, r) => s + (r.high - r.low), 0);
    const hasReplica = this.syncOn && rows.some((r) => r.replicated !== null);
    const id = `t-${topic.replace(/[^\w-]/g, '_')}`;
    return html`<section class="card" part="topic" aria-labelledby=${id}>
      <div class="card-head" part="header">
        <div class="grow">
          <h2 id=${id}>${topic}</h2>
          <div class="meta muted"><span>${rows.length} partition${rows.length === 1 ? '' : 's'}</span><span>${compact(records)} record${records === 1 ? '' : 's'}</span></div>
        </div>
        ${sparkline(`${topic} appended`, { values: this.rates.get(topic)?.values() ?? new Array(60).fill(0), unit: 'in 60 s' }, { width: 140, height: 32, summary: 'sum' })}
      </div>
      <div class="scroll-x">
      <table part="table">
        <caption class="sr-only">Partitions of ${topic}</caption>
        <thead><tr><th scope="col">Partition</th><th scope="col" class="num">Low</th><th scope="col" class="num">High</th><th scope="col" class="num">Replicated</th><th scope="col" class="num">Records</th></tr></thead>
        <tbody>${rows.map((r) => html`<tr>
          <th scope="row"><button class="link" @click=${() => this.select(topic, r.partition)} aria-label="Browse records of ${topic} partition ${r.partition}">${r.partition}</button></th>
          <td class="num mono">${r.low}</td><td class="num mono">${r.high}</td>
          <td class="num mono">${hasReplica && r.replicated !== null ? r.replicated : html`<span class="muted" title="sync off">—</span>`}</td>
          <td class="num mono">${r.high - r.low}</td></tr>`)}</tbody>
      </table></div>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'lanes-topic-view': LanesTopicView }
}

