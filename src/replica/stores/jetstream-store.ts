/**
 * ReplicaStore on NATS JetStream: several stateless replica servers in front of one cluster.
 * Everything durable lives in JetStream; a server's memory holds only caches derived from it.
 *
 * Layout (h = first 20 hex of sha256(tenant NUL topic)):
 * - one stream per tenant-topic-partition, `LANES_<h>_<p>`, subjects `lanes.<h>.<p>.>`,
 *   R3 (configurable), file storage; one message per record batch: data = payload, headers
 *   `L-Base` (replica base offset), `L-Count`, `L-First`, `L-Max`, `L-Crc`, `L-Seq`.
 * - a batch with a dedupe key is published on its own subject
 *   `lanes.<h>.<p>.b.<sha(source)>.<producerId>.<epoch>.<baseSequence>`: the dedupe index is
 *   the stream itself (get last message by that subject), written atomically with the batch.
 * - (jetstream-meta.ts) stream `LANES_META` (R3): `lanes_meta.topics.<tenant>` holds the tenant's topics (JSON
 *   topic -> partitions), `lanes_meta.pid.<tenant>` its next producer id. Updates are
 *   compare-and-set on the stream's last sequence (read, publish with
 *   `Nats-Expected-Last-Sequence`, retry on conflict). The stream-level check is used, not
 *   KV's per-subject revision: nats-server 2.9 checks the latter against applied state only,
 *   so two concurrent updates of one key on a cluster can both pass.
 * - KV bucket `lanes_groups` (no direct gets: reads go to the leader): one key per committed
 *   partition, `<tenant>.<hex group>.<hex topic>.<partition>` -> JSON { offset, metadata }.
 *
 * Invariants:
 * - Dense offsets with several servers: every publish carries `Nats-Expected-Last-Sequence`
 *   = the stream's last sequence this server knows, and `L-Base` = the next offset derived
 *   from that last message. A publish succeeds only if no one wrote since, so bases tile.
 * - Exactly once with no window: before a batch is published, its subject is looked up on
 *   the stream leader; a publish whose expectation fails (someone wrote) refreshes the tail
 *   and looks up again, so the same batch cannot be written twice by racing servers.
 * - An ambiguous publish (timeout, leader change) is retried only after the tail is refreshed
 *   and the dedupe lookup repeated: an acknowledged or half-acknowledged batch is never doubled.
 * - Per partition, one append at a time per server (a promise chain), in call order.
 */
import {
  connect, headers as natsHeaders, StorageType, DiscardPolicy, RetentionPolicy,
  type JetStreamClient, type JetStreamManager, type KV, type NatsConnection, type StoredMsg,
} from 'nats';
import { BrokerUnavailableError, OffsetOutOfRangeError, TopicNotFoundError } from '../../errors.js';
import type { ReplicaBatch } from '../../protocol/replica-wire.js';
import type {
  AppendBatch, AppendResult, GroupOffset, ReadBounds, ReadResult, ReplicaStore, StoreTopic, Watermarks,
} from '../store.js';
import { getMessage, isStreamMissing, isTransient, isWrongLast, JetStreamMeta, sha } from './jetstream-meta.js';

/** Options of {@link JetStreamStore.connect}. */
export interface JetStreamStoreOptions {
  servers: string[];
  /** Stream and KV replicas (default 3). */
  replicas?: number;
  /** Longest a call keeps retrying through leader elections and reconnects (ms). Default 30,000. */
  retryForMs?: number;
}

interface Tail { lastSeq: number; next: number }

/** The JetStream-backed replica store. */
export class JetStreamStore implements ReplicaStore {
  readonly kind = 'jetstream';
  private readonly tails = new Map<string, Tail>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly starts = new Map<string, Map<number, number>>();
  private readonly known = new Map<string, number>();
  private closed = false;
  private connected = true;
  private readonly meta: JetStreamMeta;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    groupsKv: KV,
    private readonly replicas: number,
    private readonly retryForMs: number,
  ) {
    this.meta = new JetStreamMeta(jsm, js, groupsKv, (fn) => this.retry(fn));
  }

  /** Connects to the cluster and binds (or creates) the KV buckets. */
  static async connect(o: JetStreamStoreOptions): Promise<JetStreamStore> {
    const nc = await connect({ servers: o.servers, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 10_000, name: 'lanes-replica' });
    const timeout = 10_000;
    const jsm = await nc.jetstreamManager({ timeout });
    const js = nc.jetstream({ timeout });
    const replicas = o.replicas ?? 3;
    const store = new JetStreamStore(nc, jsm, js, await js.views.kv('lanes_groups', { replicas, history: 1, timeout, allow_direct: false }), replicas, o.retryForMs ?? 30_000);
    void (async () => {
      for await (const st of nc.status()) {
        if (st.type === 'disconnect') store.connected = false;
        else if (st.type === 'reconnect') store.connected = true;
      }
    })().catch(() => undefined);
    await store.retry(() => store.addStreamConfig('LANES_META', 'lanes_meta.>', 'lanes replica topics and producer ids'));
    return store;
  }

  // -------------------------------------------------------------------------------------------
  // helpers

  /** Runs `fn`, retrying transient failures with backoff for up to retryForMs. */
  private async retry<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryForMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (this.closed || !isTransient(e) || Date.now() > deadline) {
          if (isTransient(e)) throw new BrokerUnavailableError(`JetStream is unavailable: ${(e as Error).message}`, { cause: e });
          throw e;
        }
        await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2)));
      }
    }
  }

  private ids(tenant: string, topic: string, partition: number) {
    const h = sha(`${tenant}\u0000${topic}`, 20);
    return { stream: `LANES_${h}_${partition}`, prefix: `lanes.${h}.${partition}` };
  }

  private msg(stream: string, q: { seq: number } | { last_by_subj: string }): Promise<StoredMsg | null> {
    return getMessage(this.jsm, stream, q);
  }

  private static tailOf(m: StoredMsg): Tail {
    return { lastSeq: m.seq, next: Number(m.header.get('L-Base')) + Number(m.header.get('L-Count')) };
  }

  /** The stream's last sequence and next offset, read from the leader. */
  private async refresh(stream: string, prefix: string): Promise<Tail> {
    const m = await this.msg(stream, { last_by_subj: `${prefix}.>` });
    const tail = m ? JetStreamStore.tailOf(m) : { lastSeq: 0, next: 0 };
    this.tails.set(stream, tail);
    return tail;
  }

  /** Serializes work on one partition within this server. */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.then(() => undefined, () => undefined);
    this.chains.set(key, settled);
    void settled.then(() => { if (this.chains.get(key) === settled) this.chains.delete(key); });
    return run;
  }

  // -------------------------------------------------------------------------------------------
  // topics

  async listTopics(tenant: string): Promise<StoreTopic[]> {
    const map = await this.meta.topicsOf(tenant);
    return Object.keys(map).sort().map((topic) => ({ topic, partitions: map[topic]! }));
  }

  async getTopic(tenant: string, topic: string): Promise<StoreTopic | null> {
    const map = await this.meta.topicsOf(tenant);
    return Object.hasOwn(map, topic) ? { topic, partitions: map[topic]! } : null;
  }

  async ensureTopic(tenant: string, topic: string, partitions: number): Promise<{ topic: StoreTopic; created: boolean }> {
    const key = `${tenant}\u0000${topic}`;
    if ((this.known.get(key) ?? 0) >= partitions) return { topic: { topic, partitions: this.known.get(key)! }, created: false };
    const map = await this.meta.topicsOf(tenant);
    const have = Object.hasOwn(map, topic) ? map[topic]! : 0;
    if (have < partitions) {
      // Streams first, then the registry: a partition listed always has its stream.
      for (let p = have; p < partitions; p++) await this.addStream(tenant, topic, p);
    }
    let created = false;
    const now = await this.meta.casMeta<Record<string, number>>(`lanes_meta.topics.${tenant}`, (cur) => {
      const n = cur && Object.hasOwn(cur, topic) ? cur[topic]! : 0;
      if (n >= partitions) return null;
      created = n === 0;
      return { ...(cur ?? {}), [topic]: partitions };
    });
    const count = now![topic]!;
    this.known.set(key, count);
    return { topic: { topic, partitions: count }, created };
  }

  private async addStream(tenant: string, topic: string, partition: number): Promise<void> {
    const { stream, prefix } = this.ids(tenant, topic, partition);
    await this.retry(() => this.addStreamConfig(stream, `${prefix}.>`, `lanes replica ${tenant}/${topic}/${partition}`));
  }

  private async addStreamConfig(stream: string, subject: string, description: string): Promise<void> {
    try {
      await this.jsm.streams.info(stream);
      return;
    } catch (e) {
      if (!isStreamMissing(e)) throw e;
    }
    try {
      await this.jsm.streams.add({
        name: stream, subjects: [subject], num_replicas: this.replicas, storage: StorageType.File,
        retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old, max_msgs: -1, max_bytes: -1, max_age: 0,
        duplicate_window: 1_000_000_000, description,
      });
    } catch (e) {
      if (!/already in use/i.test(String((e as Error).message))) throw e;
    }
  }

  async watermarks(tenant: string, topic: string): Promise<Watermarks[]> {
    const t = await this.getTopic(tenant, topic);
    if (!t) throw new TopicNotFoundError(`topic ${topic} does not exist`, { details: { topic } });
    return Promise.all(Array.from({ length: t.partitions }, async (_, partition) => {
      const { stream, prefix } = this.ids(tenant, topic, partition);
      const tail = await this.retry(() => this.refresh(stream, prefix));
      return { partition, low: 0, high: tail.next };
    }));
  }

  // -------------------------------------------------------------------------------------------
  // appends

  async append(tenant: string, batches: readonly AppendBatch[]): Promise<AppendResult[]> {
    const need = new Map<string, number>();
    for (const b of batches) need.set(b.topic, Math.max(need.get(b.topic) ?? 0, b.partition + 1));
    for (const [topic, n] of need) await this.ensureTopic(tenant, topic, n);
    // Partitions proceed in parallel; batches of one partition in order.
    const byPartition = new Map<string, number[]>();
    batches.forEach((b, i) => {
      const k = `${b.topic}\u0000${b.partition}`;
      byPartition.set(k, [...(byPartition.get(k) ?? []), i]);
    });
    const results: AppendResult[] = new Array(batches.length);
    await Promise.all([...byPartition.values()].map(async (idx) => {
      const first = batches[idx[0]!]!;
      const { stream, prefix } = this.ids(tenant, first.topic, first.partition);
      await this.serial(stream, async () => {
        // Look every batch up at once (one round trip for all), then publish the new ones in
        // order, each with one round trip. A publish that conflicts or fails falls back to
        // appendOne, which refreshes the tail and looks up again first. Sound because a
        // publish succeeds only on the tail this server read, and the lookups ran after that
        // tail was read or after our own writes on it; a batch written by anyone since would
        // have moved the tail.
        if (!this.tails.has(stream)) await this.retry(() => this.refresh(stream, prefix));
        const seen = await this.retry(() => Promise.all(idx.map((i) => (batches[i]!.dedupe ? this.msg(stream, { last_by_subj: this.subjectOf(prefix, batches[i]!) }) : null))));
        const mine = new Map<string, AppendResult>();
        let fallback = false;
        for (let k = 0; k < idx.length; k++) {
          const i = idx[k]!, b = batches[i]!;
          const subject = this.subjectOf(prefix, b);
          const m = seen[k];
          if (m) { results[i] = { topic: b.topic, partition: b.partition, baseOffset: Number(m.header.get('L-Base')), count: Number(m.header.get('L-Count')), duplicate: true }; continue; }
          const again = b.dedupe ? mine.get(subject) : undefined;
          if (again) { results[i] = { ...again, duplicate: true }; continue; }
          const tail = this.tails.get(stream);
          if (fallback || !tail || b.count === 0) {
            fallback = true;
            results[i] = await this.appendOne(stream, prefix, b);
          } else {
            try {
              results[i] = await this.publish(stream, subject, b, tail);
            } catch (e) {
              this.tails.delete(stream);
              fallback = true;
              if (!isWrongLast(e) && !isTransient(e)) throw e;
              results[i] = await this.appendOne(stream, prefix, b);
            }
          }
          if (b.dedupe) mine.set(subject, results[i]!);
        }
      });
    }));
    return results;
  }

  private subjectOf(prefix: string, b: AppendBatch): string {
    const d = b.dedupe;
    return d ? `${prefix}.b.${sha(d.source, 24)}.${d.producerId}.${d.producerEpoch}.${d.baseSequence}` : `${prefix}.n`;
  }

  /** Publishes a batch on the tail this server knows; throws on a conflict (wrong last sequence). */
  private async publish(stream: string, subject: string, b: AppendBatch, tail: Tail): Promise<AppendResult> {
    const h = natsHeaders();
    h.set('L-Base', String(tail.next));
    h.set('L-Count', String(b.count));
    h.set('L-First', String(b.firstTimestamp));
    h.set('L-Max', String(b.maxTimestamp));
    h.set('L-Crc', String(b.crc));
    if (b.dedupe) h.set('L-Seq', String(b.dedupe.baseSequence));
    const ack = await this.js.publish(subject, b.payload, { headers: h, expect: { lastSequence: tail.lastSeq, streamName: stream } });
    this.tails.set(stream, { lastSeq: ack.seq, next: tail.next + b.count });
    this.rememberStart(stream, tail.next, ack.seq);
    return { topic: b.topic, partition: b.partition, baseOffset: tail.next, count: b.count, duplicate: false };
  }

  private async appendOne(stream: string, prefix: string, b: AppendBatch): Promise<AppendResult> {
    const subject = this.subjectOf(prefix, b);
    const result = (base: number, count: number, duplicate: boolean): AppendResult => ({ topic: b.topic, partition: b.partition, baseOffset: base, count, duplicate });
    return this.retry(async () => {
      for (;;) {
        let tail = this.tails.get(stream);
        if (!tail) tail = await this.refresh(stream, prefix);
        if (b.dedupe) {
          const seen = await this.msg(stream, { last_by_subj: subject });
          if (seen) return result(Number(seen.header.get('L-Base')), Number(seen.header.get('L-Count')), true);
        }
        if (b.count === 0) return result(tail.next, 0, false);
        try {
          return await this.publish(stream, subject, b, tail);
        } catch (e) {
          // Someone else wrote (or our cache is stale): refresh, look the batch up again.
          this.tails.delete(stream);
          if (isWrongLast(e)) continue;
          throw e;
        }
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // reads

  private rememberStart(stream: string, offset: number, seq: number): void {
    let m = this.starts.get(stream);
    if (!m) this.starts.set(stream, (m = new Map()));
    if (m.size > 100_000) m.clear();
    m.set(offset, seq);
  }

  /** Sequence of the message holding `offset` (binary search over L-Base, cached). */
  private async seqOf(stream: string, offset: number, tail: Tail): Promise<number> {
    const cached = this.starts.get(stream)?.get(offset);
    if (cached !== undefined) return cached;
    let lo = 1, hi = tail.lastSeq;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const m = await this.msg(stream, { seq: mid });
      const base = m ? Number(m.header.get('L-Base')) : Infinity;
      if (base <= offset) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  async read(tenant: string, topic: string, partition: number, offset: number, bounds: ReadBounds): Promise<ReadResult> {
    const t = await this.getTopic(tenant, topic);
    if (!t || partition < 0 || partition >= t.partitions) throw new TopicNotFoundError(`${topic}-${partition} does not exist`, { details: { topic, partition } });
    const { stream, prefix } = this.ids(tenant, topic, partition);
    return this.retry(async () => {
      const tail = await this.refresh(stream, prefix);
      const high = tail.next;
      if (offset < 0 || offset > high) throw new OffsetOutOfRangeError(`offset ${offset} is outside [0, ${high}] of ${topic}-${partition}`, { details: { topic, partition, offset, low: 0, high } });
      const batches: ReplicaBatch[] = [];
      if (offset === high) return { low: 0, high, batches };
      let seq = await this.seqOf(stream, offset, tail);
      let records = 0, bytes = 0;
      const window = 8;
      while (seq <= tail.lastSeq && records < bounds.maxRecords && bytes < bounds.maxBytes) {
        const seqs = Array.from({ length: Math.min(window, tail.lastSeq - seq + 1) }, (_, i) => seq + i);
        const msgs = await Promise.all(seqs.map((s) => this.msg(stream, { seq: s })));
        for (const m of msgs) {
          seq++;
          if (!m) continue;
          const base = Number(m.header.get('L-Base')), count = Number(m.header.get('L-Count'));
          if (base + count <= offset) continue;
          batches.push({
            baseOffset: base, count, firstTimestamp: Number(m.header.get('L-First')), maxTimestamp: Number(m.header.get('L-Max')),
            crc: Number(m.header.get('L-Crc')), payload: m.data,
          });
          this.rememberStart(stream, base + count, m.seq + 1);
          records += base + count - Math.max(offset, base);
          bytes += m.data.length;
          if (records >= bounds.maxRecords || bytes >= bounds.maxBytes) break;
        }
      }
      return { low: 0, high, batches };
    });
  }

  // -------------------------------------------------------------------------------------------
  // producers and groups

  async allocateProducerId(tenant: string): Promise<number> {
    return this.meta.allocateProducerId(tenant);
  }

  async lastSequence(tenant: string, source: string, producerId: number, producerEpoch: number, topic: string, partition: number): Promise<number | null> {
    const t = await this.getTopic(tenant, topic);
    if (!t || partition >= t.partitions) return null;
    const { stream, prefix } = this.ids(tenant, topic, partition);
    const m = await this.retry(() => this.msg(stream, { last_by_subj: `${prefix}.b.${sha(source, 24)}.${producerId}.${producerEpoch}.*` }));
    return m ? Number(m.header.get('L-Seq')) + Number(m.header.get('L-Count')) - 1 : null;
  }

  async commitOffsets(tenant: string, groupId: string, offsets: readonly GroupOffset[]): Promise<void> {
    return this.meta.commitOffsets(tenant, groupId, offsets);
  }

  async fetchOffsets(tenant: string, groupId: string, topics: readonly string[] | null): Promise<GroupOffset[]> {
    return this.meta.fetchOffsets(tenant, groupId, topics);
  }

  async listGroups(tenant: string): Promise<string[]> {
    return this.meta.listGroups(tenant);
  }

  health(): { ok: boolean; detail?: string } {
    if (this.closed || this.nc.isClosed()) return { ok: false, detail: 'NATS connection closed' };
    return this.connected ? { ok: true } : { ok: false, detail: 'reconnecting to NATS' };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.allSettled([...this.chains.values()]);
    this.closed = true;
    await this.nc.drain().catch(() => this.nc.close());
  }
}
