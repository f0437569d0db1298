/**
 * A minimal Prometheus registry for the replica: counters and histograms with labels,
 * rendered in the text exposition format (version 0.0.4) by `/v1/metrics`.
 *
 * Invariants: counters only grow; a histogram's buckets are cumulative and `le="+Inf"` equals
 * its count; label values are escaped (\\, ", newline).
 */

type Labels = Record<string, string>;

function key(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}="${labels[k]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
}

/** A labelled monotonic counter. */
export class Counter {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  /** Adds `n` (default 1) to the series of `labels`. */
  inc(labels: Labels = {}, n = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + n);
  }
  /** Current value of a series. */
  get(labels: Labels = {}): number {
    return this.values.get(key(labels)) ?? 0;
  }
  /** Text exposition. */
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (!this.values.size) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines.join('\n');
  }
}

/** A labelled histogram of seconds. */
export class Histogram {
  private readonly series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly bounds: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]) {}
  /** Records one observation. */
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) s.buckets[i]!++;
    s.sum += value;
    s.count++;
  }
  /** Text exposition. */
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      this.bounds.forEach((b, i) => lines.push(`${this.name}_bucket{${sep}le="${b}"} ${s.buckets[i]}`));
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      lines.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** The replica's metrics. */
export class ReplicaMetrics {
  readonly requests = new Counter('lanes_replica_requests_total', 'HTTP requests by route and status');
  readonly pushes = new Counter('lanes_replica_push_requests_total', 'Push requests accepted');
  readonly batches = new Counter('lanes_replica_batches_total', 'Pushed record batches (segments of device logs) by outcome: stored or duplicate');
  readonly records = new Counter('lanes_replica_records_total', 'Records stored by pushes');
  readonly bytes = new Counter('lanes_replica_bytes_total', 'Request body bytes received by pushes (as sent, before gunzip)');
  readonly recordsRead = new Counter('lanes_replica_records_read_total', 'Records served by the records and batches routes');
  readonly rejects = new Counter('lanes_replica_rejects_total', 'Requests refused, by reason');
  readonly latency = new Histogram('lanes_replica_request_duration_seconds', 'Request latency by route');
  private readonly extra: { render(): string }[] = [];

  /** Adds another component's metrics (the Kafka listener's) to the exposition. */
  register(m: { render(): string }): void {
    this.extra.push(m);
  }

  /** Text exposition of every metric. */
  render(): string {
    return [this.requests, this.pushes, this.batches, this.records, this.bytes, this.recordsRead, this.rejects, this.latency, ...this.extra]
      .map((m) => m.render()).join('\n') + '\n';
  }
}
