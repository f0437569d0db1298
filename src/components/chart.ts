/**
 * Small charts in plain SVG: a sparkline of a series over time, labelled for screen readers
 * (role="img" with the latest value and the range in words).
 */
import { svg, html, type TemplateResult } from 'lit';

/** A series of samples: one value per time bucket, oldest first. */
export interface Series {
  values: number[];
  /** Words for the value's unit, e.g. "records/s". */
  unit: string;
}

/**
 * Keeps a time-bucketed series (one bucket per `bucketMs`, `size` buckets). Values in a bucket
 * are summed (rates) or replaced (levels).
 */
export class TimeSeries {
  private start = 0;
  private buckets: number[] = [];

  constructor(private readonly size = 60, private readonly bucketMs = 1000, private readonly mode: 'sum' | 'last' = 'sum') {}

  private advance(now: number): void {
    const bucket = Math.floor(now / this.bucketMs);
    if (this.buckets.length === 0) { this.start = bucket; this.buckets.push(0); return; }
    const lastBucket = this.start + this.buckets.length - 1;
    const fill = this.mode === 'last' ? this.buckets[this.buckets.length - 1]! : 0;
    for (let b = lastBucket + 1; b <= bucket; b++) this.buckets.push(fill);
    if (this.buckets.length > this.size) {
      const drop = this.buckets.length - this.size;
      this.buckets.splice(0, drop);
      this.start += drop;
    }
  }

  /** Adds (sum) or sets (last) the value of the current bucket. */
  record(value: number, now = Date.now()): void {
    this.advance(now);
    const i = this.buckets.length - 1;
    this.buckets[i] = this.mode === 'sum' ? this.buckets[i]! + value : value;
  }

  /** The buckets up to now, oldest first, padded to `size`. */
  values(now = Date.now()): number[] {
    if (this.buckets.length > 0) this.advance(now);
    const pad = new Array<number>(Math.max(0, this.size - this.buckets.length)).fill(0);
    return [...pad, ...this.buckets];
  }
}

/** A compact number: 1234 -> "1.2k". */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** A sparkline with its label and the latest value. */
export function sparkline(label: string, s: Series, opts: { width?: number; height?: number; part?: string; summary?: 'last' | 'sum' } = {}): TemplateResult {
  const w = opts.width ?? 160, h = opts.height ?? 36;
  const v = s.values;
  const max = Math.max(1, ...v);
  // Rates read better as a total over the window; levels (lag) as their latest value.
  const last = opts.summary === 'sum' ? v.reduce((a, b) => a + b, 0) : v[v.length - 1] ?? 0;
  const step = v.length > 1 ? w / (v.length - 1) : w;
  const pts = v.map((y, i) => `${(i * step).toFixed(1)},${(h - 2 - (y / max) * (h - 4)).toFixed(1)}`).join(' ');
  const area = `0,${h} ${pts} ${w},${h}`;
  const peak = Math.max(0, ...v);
  const words = opts.summary === 'sum'
    ? `${label}: ${compact(last)} ${s.unit} in the last ${v.length} seconds, at most ${compact(peak)} in one second`
    : `${label}: ${compact(last)} ${s.unit} now, at most ${compact(peak)} in the last ${v.length} seconds`;
  return html`<figure class="spark" part=${opts.part ?? 'chart'}>
    <figcaption><span class="spark-label">${label}</span> <strong class="num">${compact(last)}</strong> <span class="muted">${s.unit}</span></figcaption>
    <svg role="img" aria-label=${words} viewBox="0 0 ${w} ${h}" width=${w} height=${h} preserveAspectRatio="none">
      ${svg`<polygon points=${area} fill="var(--_accent)" fill-opacity="0.14"></polygon>
      <polyline points=${pts} fill="none" stroke="var(--_accent)" stroke-width="1.5" vector-effect="non-scaling-stroke"></polyline>`}
    </svg>
  </figure>`;
}
