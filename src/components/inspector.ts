/**
 * `<lanes-inspector>`: the whole view of a lanes database in one element: topics and
 * watermarks, a record browser, consumer groups with lag, a produce form and the sync status,
 * as keyboard-usable tabs.
 */
import { html, css } from 'lit';
import type { Client } from '../index.js';
import { LanesElement } from './lanes-element.js';
import { theme } from './theme.js';
import './topic-view.js';
import './group-view.js';
import './record-browser.js';
import './produce-form.js';
import './sync-status.js';
import type { LanesRecordBrowser } from './record-browser.js';

const TABS = [
  { id: 'topics', label: 'Topics' },
  { id: 'records', label: 'Records' },
  { id: 'groups', label: 'Groups' },
  { id: 'produce', label: 'Produce' },
] as const;

/** A tab of the inspector. */
export type InspectorTab = (typeof TABS)[number]['id'];

/**
 * Topics, records, groups, producing and sync of a lanes database.
 *
 * @element lanes-inspector
 * @attr database - a lanes database to open when no `client` property is set
 * @attr tab - the tab shown: `topics` (default), `records`, `groups` or `produce`
 * @attr theme - `light` or `dark` (default: the system's preference)
 * @fires lanes-select - a partition was chosen in the topics tab (the records tab opens on it)
 * @fires lanes-produced - a record was written with the produce form
 * @csspart header - the title bar with the database name and the sync status
 * @csspart tabs - the tab list
 * @csspart tab - one tab
 * @csspart panel - the shown tab's panel
 * @cssprop --lanes-accent - accent colour; every `--lanes-*` property reaches the parts
 */
export class LanesInspector extends LanesElement {
  static override properties = { ...LanesElement.properties, tab: { type: String, reflect: true } };
  static override styles = [theme, css`
    :host { border: 1px solid var(--_border); border-radius: calc(var(--_radius) + 2px); overflow: hidden; }
    header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; justify-content: space-between; padding: 12px 16px; border-bottom: 1px solid var(--_border); }
    .title { display: flex; align-items: baseline; gap: 10px; }
    .title h2 { font-size: 1.1em; letter-spacing: -0.01em; }
    [role='tablist'] { display: flex; gap: 2px; padding: 0 12px; border-bottom: 1px solid var(--_border); background: var(--_surface); overflow-x: auto; }
    [role='tab'] { border: 0; border-bottom: 2px solid transparent; border-radius: 0; background: none; padding: 10px 14px; min-height: 40px; color: var(--_muted); font-weight: 500; }
    [role='tab'][aria-selected='true'] { color: var(--_fg); border-bottom-color: var(--_accent); font-weight: 600; }
    [role='tab']:focus-visible { outline-offset: -4px; }
    [role='tabpanel'] { padding: 16px; }
    [role='tabpanel'][hidden] { display: none; }
    .flush { padding: 0; }
    .flush lanes-record-browser, .flush lanes-produce-form { border: 0; }
  `];

  /** The tab shown. */
  declare tab: InspectorTab;

  constructor() {
    super();
    this.tab = 'topics';
  }

  protected override clientChanged(_client: Client): void { this.requestUpdate(); }
  protected override clientGone(_client: Client): void { this.requestUpdate(); }

  private show(tab: InspectorTab, focus = false): void {
    this.tab = tab;
    if (focus) void this.updateComplete.then(() => (this.renderRoot.querySelector(`#tab-${tab}`) as HTMLElement | null)?.focus());
  }

  private onTabKey(e: KeyboardEvent): void {
    const i = TABS.findIndex((t) => t.id === this.tab);
    const to = e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i + TABS.length - 1) % TABS.length
      : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : -1;
    if (to < 0) return;
    e.preventDefault();
    this.show(TABS[to]!.id, true);
  }

  private onSelect(e: CustomEvent<{ topic: string; partition: number }>): void {
    this.show('records');
    const browser = this.renderRoot.querySelector('lanes-record-browser') as LanesRecordBrowser | null;
    if (browser) { browser.topic = e.detail.topic; browser.partition = e.detail.partition; }
  }

  override render() {
    const c = this.lanes;
    const db = this.database ?? '';
    return html`
      <header part="header">
        <div class="title"><h2>lanes inspector</h2>${db ? html`<span class="muted mono">${db}</span>` : ''}</div>
        <lanes-sync-status .client=${c} theme=${this.theme ?? ''}></lanes-sync-status>
      </header>
      <div role="tablist" part="tabs" aria-label="Inspector sections" @keydown=${this.onTabKey}>
        ${TABS.map((t) => html`<button role="tab" part="tab" id="tab-${t.id}" aria-controls="panel-${t.id}"
          aria-selected=${this.tab === t.id ? 'true' : 'false'} tabindex=${this.tab === t.id ? '0' : '-1'}
          @click=${() => this.show(t.id)}>${t.label}</button>`)}
      </div>
      <div role="tabpanel" part="panel" id="panel-topics" aria-labelledby="tab-topics" ?hidden=${this.tab !== 'topics'}>
        <lanes-topic-view .client=${c} theme=${this.theme ?? ''} @lanes-select=${this.onSelect}></lanes-topic-view>
      </div>
      <div role="tabpanel" part="panel" class="flush" id="panel-records" aria-labelledby="tab-records" ?hidden=${this.tab !== 'records'}>
        <lanes-record-browser .client=${c} theme=${this.theme ?? ''}></lanes-record-browser>
      </div>
      <div role="tabpanel" part="panel" id="panel-groups" aria-labelledby="tab-groups" ?hidden=${this.tab !== 'groups'}>
        <lanes-group-view .client=${c} theme=${this.theme ?? ''}></lanes-group-view>
      </div>
      <div role="tabpanel" part="panel" class="flush" id="panel-produce" aria-labelledby="tab-produce" ?hidden=${this.tab !== 'produce'}>
        <lanes-produce-form .client=${c} theme=${this.theme ?? ''}></lanes-produce-form>
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'lanes-inspector': LanesInspector }
}
