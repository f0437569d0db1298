/**
 * ReplicaStore on SQLite (better-sqlite3): one database file in the data directory, WAL with
 * synchronous=FULL, so a resolved append has been fsynced.
 *
 * Invariants:
 * - A batch row, its dedupe row and the partition's next offset change in one transaction:
 *   after a crash either all three are there or none is.
 * - Appends arriving while a flush is pending are committed together in one transaction
 *   (group commit, one fsync); each append call is its own savepoint, so one failing call
 *   leaves the others' batches in place and writes nothing of its own.
 * - `partitions.next_offset` is the high watermark; batches tile [0, next_offset) densely.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { OffsetOutOfRangeError, StorageError, TopicNotFoundError } from '../../errors.js';
import type { ReplicaBatch } from '../../protocol/replica-wire.js';
import type {
  AppendBatch, AppendResult, GroupOffset, ReadBounds, ReadResult, ReplicaStore, StoreTopic, Watermarks,
} from '../store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS topics (tenant TEXT NOT NULL, topic TEXT NOT NULL, partitions INTEGER NOT NULL, PRIMARY KEY (tenant, topic));
CREATE TABLE IF NOT EXISTS partitions (tenant TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL, PRIMARY KEY (tenant, topic, partition));
CREATE TABLE IF NOT EXISTS batches (tenant TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, base_offset INTEGER NOT NULL,
  count INTEGER NOT NULL, first_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, crc INTEGER NOT NULL, payload BLOB NOT NULL,
  PRIMARY KEY (tenant, topic, partition, base_offset));
CREATE TABLE IF NOT EXISTS dedupe (tenant TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, source TEXT NOT NULL,
  producer_id INTEGER NOT NULL, epoch INTEGER NOT NULL, base_sequence INTEGER NOT NULL, base_offset INTEGER NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (tenant, source, producer_id, epoch, topic, partition, base_sequence)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS producer_ids (tenant TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS group_offsets (tenant TEXT NOT NULL, group_id TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
  offset INTEGER NOT NULL, metadata TEXT, PRIMARY KEY (tenant, group_id, topic, partition)) WITHOUT ROWID;
`;

interface Pending {
  tenant: string;
  batches: readonly AppendBatch[];
  resolve: (r: AppendResult[]) => void;
  reject: (e: unknown) => void;
}

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Directory of the database file (created if missing); ':memory:' for a throwaway store. */
  dataDir: string;
}

/** The embedded replica store. */
export class SqliteStore implements ReplicaStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly q;

  constructor(options: SqliteStoreOptions) {
    let file = ':memory:';
    if (options.dataDir !== ':memory:') {
      mkdirSync(options.dataDir, { recursive: true });
      file = join(options.dataDir, 'replica.sqlite');
    }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const d = this.db;
    this.q = {
      topics: d.prepare<[string], { topic: string; partitions: number }>('SELECT topic, partitions FROM topics WHERE tenant = ? ORDER BY topic'),
      topic: d.prepare<[string, string], { topic: string; partitions: number }>('SELECT topic, partitions FROM topics WHERE tenant = ? AND topic = ?'),
      insTopic: d.prepare('INSERT INTO topics (tenant, topic, partitions) VALUES (?, ?, ?) ON CONFLICT (tenant, topic) DO UPDATE SET partitions = max(partitions, excluded.partitions)'),
      insPartition: d.prepare('INSERT OR IGNORE INTO partitions (tenant, topic, partition, next_offset) VALUES (?, ?, ?, 0)'),
      marks: d.prepare<[string, string], { partition: number; next_offset: number }>('SELECT partition, next_offset FROM partitions WHERE tenant = ? AND topic = ? ORDER BY partition'),
      next: d.prepare<[string, string, number], { next_offset: number }>('SELECT next_offset FROM partitions WHERE tenant = ? AND topic = ? AND partition = ?'),
      setNext: d.prepare('UPDATE partitions SET next_offset = ? WHERE tenant = ? AND topic = ? AND partition = ?'),
      insBatch: d.prepare('INSERT INTO batches (tenant, topic, partition, base_offset, count, first_ts, max_ts, crc, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      findDedupe: d.prepare<unknown[], { base_offset: number; count: number }>('SELECT base_offset, count FROM dedupe WHERE tenant = ? AND source = ? AND producer_id = ? AND epoch = ? AND topic = ? AND partition = ? AND base_sequence = ?'),
      insDedupe: d.prepare('INSERT INTO dedupe (tenant, topic, partition, source, producer_id, epoch, base_sequence, base_offset, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      lastSeq: d.prepare<unknown[], { s: number | null }>('SELECT max(base_sequence + count - 1) AS s FROM dedupe WHERE tenant = ? AND source = ? AND producer_id = ? AND epoch = ? AND topic = ? AND partition = ?'),
      startBatch: d.prepare<[string, string, number, number], { b: number | null }>('SELECT max(base_offset) AS b FROM batches WHERE tenant = ? AND topic = ? AND partition = ? AND base_offset <= ?'),
      readFrom: d.prepare<[string, string, number, number], { base_offset: number; count: number; first_ts: number; max_ts: number; crc: number; payload: Buffer }>(
        'SELECT base_offset, count, first_ts, max_ts, crc, payload FROM batches WHERE tenant = ? AND topic = ? AND partition = ? AND base_offset >= ? ORDER BY base_offset'),
      pidGet: d.prepare<[string], { next: number }>('SELECT next FROM producer_ids WHERE tenant = ?'),
      pidSet: d.prepare('INSERT INTO producer_ids (tenant, next) VALUES (?, ?) ON CONFLICT (tenant) DO UPDATE SET next = excluded.next'),
      commit: d.prepare('INSERT INTO group_offsets (tenant, group_id, topic, partition, offset, metadata) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, group_id, topic, partition) DO UPDATE SET offset = excluded.offset, metadata = excluded.metadata'),
      fetch: d.prepare<[string, string], { topic: string; partition: number; offset: number; metadata: string | null }>('SELECT topic, partition, offset, metadata FROM group_offsets WHERE tenant = ? AND group_id = ? ORDER BY topic, partition'),
      groups: d.prepare<[string], { group_id: string }>('SELECT DISTINCT group_id FROM group_offsets WHERE tenant = ? ORDER BY group_id'),
    };
  }

  /** Raw write of pre-built rows, bypassing dedupe and offsets (the benchmark's baseline). */
  rawInsert(rows: readonly { tenant: string; topic: string; partition: number; baseOffset: number; batch: AppendBatch }[]): void {
    this.db.transaction(() => {
      for (const r of rows) this.q.insBatch.run(r.tenant, r.topic, r.partition, r.baseOffset, r.batch.count, r.batch.firstTimestamp, r.batch.maxTimestamp, r.batch.crc, r.batch.payload);
    })();
  }

  async listTopics(tenant: string): Promise<StoreTopic[]> {
    return this.guard(() => this.q.topics.all(tenant));
  }

  async getTopic(tenant: string, topic: string): Promise<StoreTopic | null> {
    return this.guard(() => this.q.topic.get(tenant, topic) ?? null);
  }

  async ensureTopic(tenant: string, topic: string, partitions: number) {
    return this.guard(() => this.db.transaction(() => {
      const before = this.q.topic.get(tenant, topic);
      this.ensureSync(tenant, topic, partitions);
      return { topic: this.q.topic.get(tenant, topic)!, created: !before };
    })());
  }

  private ensureSync(tenant: string, topic: string, partitions: number): void {
    const t = this.q.topic.get(tenant, topic);
    if (t && t.partitions >= partitions) return;
    this.q.insTopic.run(tenant, topic, partitions);
    for (let p = t?.partitions ?? 0; p < partitions; p++) this.q.insPartition.run(tenant, topic, p);
  }

  async watermarks(tenant: string, topic: string): Promise<Watermarks[]> {
    return this.guard(() => {
      if (!this.q.topic.get(tenant, topic)) throw new TopicNotFoundError(`topic ${topic} does not exist`, { details: { topic } });
      return this.q.marks.all(tenant, topic).map((r) => ({ partition: r.partition, low: 0, high: r.next_offset }));
    });
  }

  append(tenant: string, batches: readonly AppendBatch[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new StorageError('the replica store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ tenant, batches, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every pending append in one transaction, each in its own savepoint. */
  private flush(): void {
    this.flushScheduled = false;
    const work = this.pending;
    this.pending = [];
    const outcomes: ({ ok: AppendResult[] } | { err: unknown })[] = [];
    const one = this.db.transaction((p: Pending) => this.appendSync(p.tenant, p.batches));
    try {
      this.db.transaction(() => {
        for (const p of work) {
          try { outcomes.push({ ok: one(p) }); } catch (e) { outcomes.push({ err: e }); }
        }
      })();
    } catch (e) {
      const err = new StorageError(`SQLite commit failed: ${(e as Error).message}`, { cause: e, retriable: true });
      for (const p of work) p.reject(err);
      return;
    }
    work.forEach((p, i) => {
      const o = outcomes[i]!;
      if ('ok' in o) p.resolve(o.ok); else p.reject(o.err);
    });
  }

  private appendSync(tenant: string, batches: readonly AppendBatch[]): AppendResult[] {
    const q = this.q;
    const out: AppendResult[] = [];
    for (const b of batches) {
      this.ensureSync(tenant, b.topic, b.partition + 1);
      const d = b.dedupe;
      if (d) {
        const seen = q.findDedupe.get(tenant, d.source, d.producerId, d.producerEpoch, b.topic, b.partition, d.baseSequence);
        if (seen) {
          out.push({ topic: b.topic, partition: b.partition, baseOffset: seen.base_offset, count: seen.count, duplicate: true });
          continue;
        }
      }
      const next = q.next.get(tenant, b.topic, b.partition)!.next_offset;
      if (b.count > 0) {
        q.insBatch.run(tenant, b.topic, b.partition, next, b.count, b.firstTimestamp, b.maxTimestamp, b.crc, b.payload);
        q.setNext.run(next + b.count, tenant, b.topic, b.partition);
      }
      if (d) q.insDedupe.run(tenant, b.topic, b.partition, d.source, d.producerId, d.producerEpoch, d.baseSequence, next, b.count);
      out.push({ topic: b.topic, partition: b.partition, baseOffset: next, count: b.count, duplicate: false });
    }
    return out;
  }

  async read(tenant: string, topic: string, partition: number, offset: number, bounds: ReadBounds): Promise<ReadResult> {
    return this.guard(() => this.db.transaction(() => {
      const t = this.q.topic.get(tenant, topic);
      if (!t || partition < 0 || partition >= t.partitions) {
        throw new TopicNotFoundError(`${topic}-${partition} does not exist`, { details: { topic, partition } });
      }
      const high = this.q.next.get(tenant, topic, partition)!.next_offset;
      if (offset < 0 || offset > high) {
        throw new OffsetOutOfRangeError(`offset ${offset} is outside [0, ${high}] of ${topic}-${partition}`, { details: { topic, partition, offset, low: 0, high } });
      }
      const batches: ReplicaBatch[] = [];
      if (offset === high) return { low: 0, high, batches };
      const start = this.q.startBatch.get(tenant, topic, partition, offset)?.b ?? 0;
      let records = 0, bytes = 0;
      for (const r of this.q.readFrom.iterate(tenant, topic, partition, start)) {
        batches.push({ baseOffset: r.base_offset, count: r.count, firstTimestamp: r.first_ts, maxTimestamp: r.max_ts, crc: r.crc, payload: new Uint8Array(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength) });
        records += r.base_offset + r.count - Math.max(offset, r.base_offset);
        bytes += r.payload.byteLength;
        if (records >= bounds.maxRecords || bytes >= bounds.maxBytes) break;
      }
      return { low: 0, high, batches };
    })());
  }

  async allocateProducerId(tenant: string): Promise<number> {
    return this.guard(() => this.db.transaction(() => {
      const n = this.q.pidGet.get(tenant)?.next ?? 0;
      this.q.pidSet.run(tenant, n + 1);
      return n;
    })());
  }

  async lastSequence(tenant: string, source: string, producerId: number, producerEpoch: number, topic: string, partition: number): Promise<number | null> {
    return this.guard(() => this.q.lastSeq.get(tenant, source, producerId, producerEpoch, topic, partition)?.s ?? null);
  }

  async commitOffsets(tenant: string, groupId: string, offsets: readonly GroupOffset[]): Promise<void> {
    this.guard(() => this.db.transaction(() => {
      for (const o of offsets) this.q.commit.run(tenant, groupId, o.topic, o.partition, o.offset, o.metadata);
    })());
  }

  async fetchOffsets(tenant: string, groupId: string, topics: readonly string[] | null): Promise<GroupOffset[]> {
    return this.guard(() => {
      const rows = this.q.fetch.all(tenant, groupId);
      return rows.filter((r) => !topics || topics.includes(r.topic)).map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset, metadata: r.metadata }));
    });
  }

  async listGroups(tenant: string): Promise<string[]> {
    return this.guard(() => this.q.groups.all(tenant).map((r) => r.group_id));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pending.length) this.flush();
    this.db.close();
  }

  /** Runs a synchronous query; SQLite failures become StorageError, LanesErrors pass through. */
  private guard<T>(fn: () => T): T {
    if (this.closed) throw new StorageError('the replica store is closed');
    try {
      return fn();
    } catch (e) {
      if (e instanceof Error && e.name === 'SqliteError') throw new StorageError(`SQLite: ${e.message}`, { cause: e, retriable: true });
      throw e;
    }
  }
}
