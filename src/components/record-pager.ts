/**
 * Reads pages of a partition (offset ranges) with one free consumer (Kafka's assign()), for the
 * record browser. A page request assigns the partition at the page's first offset; eachBatch
 * collects records until the page's last offset or the high watermark, then pauses the
 * partition, so the consumer reads nothing between requests.
 *
 * Invariants:
 * - Requests run one at a time, in the order asked; a page holds only records whose offsets
 *   are inside [from, from + limit): a compacted partition's page has gaps, never extra records.
 * - Between requests the partition is paused: an idle browser costs no reads.
 * - A request that sees no record for `timeoutMs` answers with what it has (a partition
 *   truncated or compacted meanwhile never hangs the browser).
 */
import type { Client, Consumer, EachBatchPayload, KafkaMessage } from '../index.js';

/** One page of a partition. */
export interface RecordPage {
  topic: string;
  partition: number;
  from: number;
  /** Records with offsets in [from, from + limit), in offset order. */
  records: KafkaMessage[];
  /** The partition's high watermark when the page was read. */
  high: number;
}

interface Want {
  topic: string;
  partition: number;
  from: number;
  end: number;
  records: KafkaMessage[];
  high: number;
  done: (page: RecordPage) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/** A page reader over one free consumer. */
export class RecordPager {
  private consumer: Consumer | null = null;
  private starting: Promise<void> | null = null;
  private want: Want | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly client: Client, private readonly timeoutMs = 3000) {}

  /** Reads the records of offsets [from, from + limit) of a partition whose high watermark is `high`. */
  read(topic: string, partition: number, from: number, limit: number, high: number): Promise<RecordPage> {
    const run = this.queue.then(() => this.readNow(topic, partition, from, limit, high));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async readNow(topic: string, partition: number, from: number, limit: number, high: number): Promise<RecordPage> {
    const empty = { topic, partition, from, records: [], high };
    if (this.closed || from >= high || limit <= 0) return empty;
    const consumer = await this.start();
    return new Promise<RecordPage>((resolve) => {
      const want: Want = { topic, partition, from, end: Math.min(from + limit, high), records: [], high, done: resolve };
      const finish = () => {
        if (this.want !== want) return;
        clearTimeout(want.timer);
        this.want = null;
        resolve({ topic, partition, from, records: want.records, high: want.high });
      };
      want.done = finish;
      want.timer = setTimeout(finish, this.timeoutMs);
      this.want = want;
      // assign() replaces the previous partition; a pause outlives assignments (as in KafkaJS),
      // so the partition is resumed explicitly.
      consumer.assign([{ topic, partition, offset: String(from) }]);
      consumer.resume([{ topic, partitions: [partition] }]);
    });
  }

  private async start(): Promise<Consumer> {
    if (!this.starting) {
      const consumer = this.client.consumer({ maxWaitTimeInMs: 1000, maxRecordsPerPartition: 500, autoOffsetReset: 'earliest' });
      this.consumer = consumer;
      this.starting = (async () => {
        await consumer.connect();
        await consumer.run({ eachBatchAutoResolve: true, eachBatch: (p) => this.onBatch(p) });
      })();
    }
    await this.starting;
    return this.consumer!;
  }

  private async onBatch({ batch, pause }: EachBatchPayload): Promise<void> {
    const w = this.want;
    if (!w || w.topic !== batch.topic || w.partition !== batch.partition) { pause(); return; }
    w.high = Math.max(w.high, Number(batch.highWatermark));
    for (const m of batch.messages) {
      const o = Number(m.offset);
      if (o >= w.from && o < w.end) w.records.push(m);
    }
    const last = Number(batch.messages[batch.messages.length - 1]?.offset ?? w.from - 1);
    if (last + 1 >= w.end || last + 1 >= Number(batch.highWatermark)) {
      pause();
      w.done({ topic: w.topic, partition: w.partition, from: w.from, records: w.records, high: w.high });
    }
  }

  /** Stops the consumer and disconnects it. */
  async close(): Promise<void> {
    this.closed = true;
    this.want?.done({ topic: this.want.topic, partition: this.want.partition, from: this.want.from, records: this.want.records, high: this.want.high });
    const c = this.consumer;
    this.consumer = null;
    if (c) { await this.starting?.catch(() => undefined); await c.disconnect().catch(() => undefined); }
  }
}
