/**
 * `<lanes-group-view>`: consumer groups with their members (which tab, static or not), who owns
 * which partition, committed offsets and lag per partition, and a chart of the group's lag.
 * Rereads a group when `client.watch` reports a rebalance, a commit or an append to a topic the
 * group reads.
 *
 * Invariants:
 * - What is shown comes from the running watch's admin only: a start for a client the element
 *   no longer uses (its client was replaced while the start awaited the broker) stops there, and
 *   a reread whose admin is no longer the watch's (the watch restarted for new groups, or the
 *   client was replaced) drops its result.
 * - Rereads are coalesced per admin: one runs at a time, and one more follows if events came
 *   meanwhile. A reread left on an admin that is no longer used does not hold up the next
 *   one: its calls may never be answered once that admin's connection has closed.
 * - The watch's first answer describes the whole watched state (watch-loop.ts), so the groups
 *   there are show as soon as the watch runs, idle ones included.
 */
import { html, css } from 'lit';
import type { Admin, Client, GroupInfo, WatchEvent } from '../index.js';
import { sparkline, TimeSeries, compact } from './chart.js';
import { LanesElement } from './lanes-element.js';
import { Live, errorText } from './live.js';
import { chartStyles, theme } from './theme.js';

/** One partition of a group, as shown. */
interface PartitionLag { topic: string; partition: number; owner: string | null; committed: number | null; high: number; lag: number }
/** A group, as shown. */
interface GroupRow { info: GroupInfo; partitions: PartitionLag[] }

/**
 * Consumer groups: members, assignments, committed offsets and lag, live.
 *
 * @element lanes-group-view
 * @attr database - a lanes database to open when no `client` property is set
 * @attr group - show only this group (default: every group of the database)
 * @attr theme - `light` or `dark` (default: the system's preference)
 * @csspart group - the card of one group
 * @csspart header - a group's header (name, state, generation, chart)
 * @csspart members - the members table
 * @csspart partitions - the partitions table (owner, committed, high, lag)
 * @csspart chart - the lag chart
 * @cssprop --lanes-accent - accent colour (charts)
 */
export class LanesGroupView extends LanesElement {
  static override properties = { ...LanesElement.properties, group: { type: String }, groups: { state: true }, error: { state: true } };
  static override styles = [theme, chartStyles, css`
    .grow { flex: 1; }
    h2 { font-family: var(--_mono); }
    h3 { padding: 10px 12px 4px; font-size: 0.85em; color: var(--_muted); text-transform: uppercase; letter-spacing: 0.03em; }
    .meta { display: flex; gap: 12px; flex-wrap: wrap; align-items: center; }
    .lag-high { color: var(--_warn); font-weight: 600; }
  `];

  /** Show only this group. */
  declare group: string | undefined;
  declare private groups: GroupRow[];
  declare private error: string;
  private live = new Live();
  private lagSeries = new Map<string, TimeSeries>();
  private known: string[] = [];
  /** The reread running, and the admin it reads through. */
  private refreshing: { admin: Admin; done: Promise<void> } | null = null;
  private again = false;
  /** Raised each time the client is replaced or gone: a start of an earlier one stops. */
  private session = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.groups = [];
    this.error = '';
  }

  protected override clientChanged(client: Client): void {
    this.groups = [];
    void this.begin(client, ++this.session);
    this.ticker = setInterval(() => { if (this.lagSeries.size) this.requestUpdate(); }, 1000);
  }

  private async begin(client: Client, session: number): Promise<void> {
    // The groups to watch: the one asked for, or every group known now (a group that appears
    // later shows up when its first commit or rebalance touches a watched topic).
    let ids = this.group ? [this.group] : [];
    if (!this.group) {
      const admin = client.admin();
      try {
        await admin.connect();
        ids = (await admin.listGroups()).groups.map((g) => g.groupId).sort();
      } catch (e) {
        if (session === this.session) this.error = errorText(e);
        return;
      } finally { void admin.disconnect(); }
    }
    // The client was replaced meanwhile: the start for the new one is under way.
    if (session !== this.session) return;
    this.known = ids;
    await this.live.start(client, { groups: ids }, (e) => this.onEvent(e), (e) => { this.error = errorText(e); });
  }

  protected override clientGone(): void {
    this.session++;
    this.live.stop();
    clearInterval(this.ticker);
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('group') && changed.get('group') !== undefined && this.lanes) { this.clientGone(); this.clientChanged(this.lanes); }
  }

  private onEvent(_e: WatchEvent): void {
    // Every event may change what is shown (membership, commits, high watermarks).
    this.reread();
  }

  /** Rereads what is shown through the watch's admin, coalescing calls while a reread on it runs. */
  private reread(): void {
    const admin = this.live.admin;
    // Not watching yet (connecting): the watch's first answer brings a reread.
    if (!admin) return;
    if (this.refreshing?.admin === admin) { this.again = true; return; }
    const run = { admin: admin, done: this.refresh(admin) };
    this.refreshing = run;
    this.again = false;
    void run.done.finally(() => {
      if (this.refreshing !== run) return;
      this.refreshing = null;
      if (this.again) { this.again = false; this.reread(); }
    });
  }

  private async refresh(admin: Admin): Promise<void> {
    /** False once the watch this reread belongs to was stopped: its result is dropped. */
    const current = () => this.live.admin === admin;
    try {
      let ids = this.known;
      if (!this.group) {
        ids = (await admin.listGroups()).groups.map((g) => g.groupId).sort();
        if (!current()) return;
        if (ids.join('\u0000') !== this.known.join('\u0000') && this.lanes) {
          // A new group appeared: watch it too (the new watch's first answer rereads).
          this.known = ids;
          const client = this.lanes;
          queueMicrotask(() => { void this.live.start(client, { groups: ids }, (e) => this.onEvent(e), (e) => { this.error = errorText(e); }); });
          return;
        }
      }
      if (ids.length === 0) { this.groups = []; this.error = ''; return; }
      const { groups } = await admin.describeGroups(ids);
      const rows: GroupRow[] = [];
      for (const info of groups) {
        const committed = await admin.fetchOffsets({ groupId: info.groupId });
        const topics = new Set<string>([...committed.map((c) => c.topic), ...info.members.flatMap((m) => Object.keys(m.memberAssignment))]);
        const partitions: PartitionLag[] = [];
        for (const topic of [...topics].sort()) {
          let offsets;
          try { offsets = await admin.fetchTopicOffsets(topic); } catch { continue; }
          for (const o of offsets) {
            const c = committed.find((x) => x.topic === topic)?.partitions.find((p) => p.partition === o.partition);
            const at = c && c.offset !== '-1' ? Number(c.offset) : null;
            const owner = info.members.find((m) => Object.hasOwn(m.memberAssignment, topic) && m.memberAssignment[topic]!.includes(o.partition));
            const high = Number(o.high);
            partitions.push({ topic, partition: o.partition, owner: owner ? owner.clientId : null, committed: at, high, lag: high - (at ?? Number(o.low)) });
          }
        }
        if (!current()) return;
        let series = this.lagSeries.get(info.groupId);
        if (!series) { series = new TimeSeries(60, 1000, 'last'); this.lagSeries.set(info.groupId, series); }
        series.record(partitions.reduce((s, p) => s + p.lag, 0));
        rows.push({ info, partitions });
      }
      this.groups = rows;
      this.error = '';
    } catch (e) {
      if (current()) this.error = errorText(e);
    }
  }

  override render() {
    if (this.error) return html`<p class="empty danger" role="alert">${this.error}</p>`;
    if (!this.lanes) return html`<p class="empty">No client: set the <code>client</code> property or a <code>database</code> attribute.</p>`;
    if (this.groups.length === 0) return html`<p class="empty">No consumer groups yet.</p>`;
    return html`${this.groups.map((g) => this.renderGroup(g))}`;
  }

  private renderGroup({ info, partitions }: GroupRow) {
    const id = `g-${info.groupId.replace(/[^\w-]/g, '_')}`;
    const stateClass = info.state === 'Stable' ? 'ok' : info.state === 'PreparingRebalance' ? 'warn' : 'muted';
    const totalLag = partitions.reduce((s, p) => s + p.lag, 0);
    return html`<section class="card" part="group" aria-labelledby=${id}>
      <div class="card-head" part="header">
        <div class="grow">
          <h2 id=${id}>${info.groupId}</h2>
          <div class="meta muted">
            <span class="badge ${stateClass}">${info.state === 'PreparingRebalance' ? 'Rebalancing' : info.state}</span>
            <span>generation ${info.generationId}</span>
            <span>${info.members.length} member${info.members.length === 1 ? '' : 's'}</span>
            ${info.protocol ? html`<span>${info.protocol}</span>` : ''}
            <span>lag ${compact(totalLag)}</span>
          </div>
        </div>
        ${sparkline(`${info.groupId} lag`, { values: this.lagSeries.get(info.groupId)?.values() ?? new Array(60).fill(0), unit: 'records behind' }, { width: 140, height: 32 })}
      </div>
      <h3 id="${id}-m">Members</h3>
      <div class="scroll-x">
      <table part="members" aria-labelledby="${id}-m">
        <thead><tr><th scope="col">Client (tab)</th><th scope="col">Member id</th><th scope="col">Static</th><th scope="col">Assignment</th></tr></thead>
        <tbody>${info.members.length === 0 ? html`<tr><td colspan="4" class="muted">No members: no tab consumes for this group now.</td></tr>` : info.members.map((m) => html`<tr>
          <th scope="row" class="mono">${m.clientId}</th>
          <td class="mono muted" title=${m.memberId}>${m.memberId.length > 14 ? `…${m.memberId.slice(-12)}` : m.memberId}</td>
          <td>${m.groupInstanceId ? html`<span title=${m.groupInstanceId}>yes</span>` : 'no'}</td>
          <td class="mono">${Object.entries(m.memberAssignment).map(([t, ps]) => `${t}: ${ps.length ? ps.join(', ') : '—'}`).join('; ') || '—'}</td></tr>`)}</tbody>
      </table></div>
      <h3 id="${id}-p">Partitions</h3>
      <div class="scroll-x">
      <table part="partitions" aria-labelledby="${id}-p">
        <thead><tr><th scope="col">Topic</th><th scope="col" class="num">Partition</th><th scope="col">Owner</th><th scope="col" class="num">Committed</th><th scope="col" class="num">High</th><th scope="col" class="num">Lag</th></tr></thead>
        <tbody>${partitions.map((p) => html`<tr>
          <td class="mono">${p.topic}</td><td class="num mono">${p.partition}</td>
          <td class="mono">${p.owner ?? html`<span class="muted">unassigned</span>`}</td>
          <td class="num mono">${p.committed ?? html`<span class="muted">none</span>`}</td>
          <td class="num mono">${p.high}</td>
          <td class="num mono ${p.lag > 0 ? 'lag-high' : ''}">${p.lag}</td></tr>`)}</tbody>
      </table></div>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'lanes-group-view': LanesGroupView }
}
