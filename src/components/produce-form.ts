/**
 * `<lanes-produce-form>`: sends a record (topic, optional partition, key, headers, value) with
 * the client's producer, and says where it landed.
 */
import { html, css } from 'lit';
import type { Client, IHeaders, Producer } from '../index.js';
import { LanesElement } from './lanes-element.js';
import { errorText } from './live.js';
import { theme } from './theme.js';

/**
 * A form that produces one record.
 *
 * @element lanes-produce-form
 * @attr database - a lanes database to open when no `client` property is set
 * @attr topic - the topic filled in at first
 * @attr theme - `light` or `dark` (default: the system's preference)
 * @fires lanes-produced - a record was written; `detail: { topic, partition, offset }`
 * @csspart form - the form
 * @csspart result - the line that says where the record landed, or the error
 */
export class LanesProduceForm extends LanesElement {
  static override properties = { ...LanesElement.properties, topic: { type: String }, result: { state: true }, failed: { state: true }, busy: { state: true } };
  static override styles = [theme, css`
    form { display: grid; gap: 10px 12px; grid-template-columns: repeat(auto-fit, minmax(10em, 1fr)); padding: 12px; }
    .wide { grid-column: 1 / -1; }
    textarea { font-family: var(--_mono); min-height: 5.5em; resize: vertical; }
    .actions { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
    label { display: flex; }
  `];

  /** The topic filled in at first. */
  declare topic: string | undefined;
  declare private result: string;
  declare private failed: boolean;
  declare private busy: boolean;
  private producer: Producer | null = null;

  constructor() {
    super();
    this.result = '';
    this.failed = false;
    this.busy = false;
  }

  protected override clientChanged(client: Client): void {
    this.producer = client.producer();
  }

  protected override clientGone(): void {
    const p = this.producer;
    this.producer = null;
    void p?.disconnect().catch(() => undefined);
  }

  private async send(e: Event): Promise<void> {
    e.preventDefault();
    const f = e.target as HTMLFormElement;
    const get = (n: string) => (f.elements.namedItem(n) as HTMLInputElement | HTMLTextAreaElement).value;
    const producer = this.producer;
    if (!producer) return;
    const topic = get('topic').trim();
    const valueText = get('value');
    let value: unknown = valueText;
    try { value = JSON.parse(valueText); } catch { /* sent as text */ }
    // A name given on several lines is a repeated header (an array); every name is an own
    // property, `__proto__` included (a plain assignment would drop it).
    const headers: IHeaders = {};
    for (const line of get('headers').split('\n')) {
      const i = line.indexOf('=');
      if (!line.trim() || i <= 0) continue;
      const name = line.slice(0, i).trim(), v = line.slice(i + 1).trim();
      const prev = Object.hasOwn(headers, name) ? headers[name] : undefined;
      Object.defineProperty(headers, name, { value: prev === undefined ? v : [prev, v].flat(), enumerable: true, writable: true, configurable: true });
    }
    const partition = get('partition');
    this.busy = true;
    try {
      await producer.connect();
      const [r] = await producer.send({ topic, messages: [{ key: get('key') || null, value: value as string, headers, partition: partition === '' ? undefined : Number(partition) }] });
      this.failed = false;
      this.result = `Written to ${topic} partition ${r!.partition} at offset ${r!.baseOffset}.`;
      this.dispatchEvent(new CustomEvent('lanes-produced', { detail: { topic, partition: r!.partition, offset: r!.baseOffset }, bubbles: true, composed: true }));
    } catch (err) {
      this.failed = true;
      this.result = errorText(err);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`<form part="form" @submit=${this.send} aria-label="Produce a record">
      <label>Topic <input name="topic" required .value=${this.topic ?? ''} autocomplete="off"></label>
      <label>Partition <input name="partition" type="number" min="0" placeholder="by key"></label>
      <label>Key <input name="key" placeholder="none" autocomplete="off"></label>
      <label class="wide">Headers (name=value, one per line) <textarea name="headers" rows="2"></textarea></label>
      <label class="wide">Value (JSON or text) <textarea name="value" rows="4">{"hello": "lanes"}</textarea></label>
      <div class="actions wide">
        <button class="primary" type="submit" ?disabled=${this.busy || !this.lanes}>Send</button>
        <span part="result" role="status" class=${this.failed ? 'danger' : 'muted'}>${this.result}</span>
      </div>
    </form>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'lanes-produce-form': LanesProduceForm }
}
