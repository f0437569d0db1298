/**
 * The tail window: per partition, the last batches the appender committed, kept in memory so a
 * fetch waiting at the log end is answered from the bytes the broker already holds instead of an
 * IndexedDB read. Reads behind the window go to IndexedDB as before. Pure: no I/O, no clock.
 *
 * Invariants:
 * - Only committed batches enter (the appender adds them after its transaction completed), in
 *   append order. A partition's window is contiguous in offsets and ends where its last batch
 *   ends; a batch that does not follow on starts the window over.
 * - A window belongs to one generation of its topic (the topic row's createdAt): after the topic
 *   is deleted and created again, the old window never answers.
 * - It answers a read only when it holds the batch containing `offset` and every batch after it
 *   up to the log end, all inside the active segment (the cleaner and compaction never rewrite
 *   the active segment's batches) and with `offset` at or above the low watermark; otherwise it
 *   answers undefined and the reader goes to IndexedDB. So it never answers differently from
 *   IndexedDB: same batches, same order.
 * - Memory is bounded: a partition keeps at most `partitionBytes` (but always its last batch),
 *   all partitions together at most `totalBytes`; past it the windows of the partitions appended
 *   to least recently are dropped whole.
 * - Batches are held by reference and never changed; readers copy what they hand out.
 */
import type { RecordBatch } from '../protocol/record-batch.js';

/** Limits of a tail window. */
export interface TailWindowLimits {
  /** Bytes (batch sizeBytes) a partition keeps at most; its last batch is kept whatever its size. */
  partitionBytes: number;
  /** Bytes all partitions keep together at most. */
  totalBytes: number;
}

/** Default limits: a default fetch's worth per partition (1 MiB), 16 MiB in all. */
export const TAIL_LIMITS: TailWindowLimits = { partitionBytes: 1 << 20, totalBytes: 16 << 20 };

/** What a read must match for the window to answer. */
export interface TailBounds {
  /** The topic's generation (its row's createdAt). */
  generation: number;
  /** Base offset of the partition's active segment. */
  activeBase: number;
  /** Low watermark. */
  low: number;
  /** High watermark (log end offset). */
  high: number;
}

/** Memory the window holds, for stats and benchmarks. */
export interface TailWindowStats {
  partitions: number;
  batches: number;
  bytes: number;
}

interface Window {
  generation: number;
  batches: RecordBatch[];
  bytes: number;
}

const end = (b: RecordBatch) => b.baseOffset + b.lastOffsetDelta + 1;

/** The tail windows of every partition of one log. */
export class TailWindow {
  /** Per partition key; Map order is the order partitions were last appended to (oldest first). */
  private windows = new Map<string, Window>();
  private total = 0;
  /** Reads answered from memory and reads left to IndexedDB (stats). */
  hits = 0;
  misses = 0;

  /** The limits of this window (a copy: changing them changes only this window). */
  readonly limits: TailWindowLimits;

  constructor(limits: TailWindowLimits = TAIL_LIMITS) {
    this.limits = { ...limits };
  }

  /** Adds a batch the appender has just committed to partition `key` of topic generation `generation`. */
  add(key: string, generation: number, batch: RecordBatch): void {
    let w = this.windows.get(key);
    if (w) this.windows.delete(key); // re-inserted below: most recently appended last
    const last = w?.batches[w.batches.length - 1];
    if (!w || w.generation !== generation || !last || end(last) !== batch.baseOffset) {
      if (w) this.total -= w.bytes;
      w = { generation, batches: [], bytes: 0 };
    }
    w.batches.push(batch);
    w.bytes += batch.sizeBytes;
    this.total += batch.sizeBytes;
    let drop = 0;
    while (drop < w.batches.length - 1 && w.bytes > this.limits.partitionBytes) {
      const b = w.batches[drop++]!;
      w.bytes -= b.sizeBytes;
      this.total -= b.sizeBytes;
    }
    if (drop > 0) w.batches.splice(0, drop);
    this.windows.set(key, w);
    for (const [k, other] of this.windows) {
      if (this.total <= this.limits.totalBytes || other === w) break;
      this.windows.delete(k);
      this.total -= other.bytes;
    }
  }

  /**
   * The held batches from the one containing `offset` to the log end, when the window covers all
   * of them (see the invariants); undefined otherwise. The array is new; the batches are shared.
   */
  read(key: string, offset: number, at: TailBounds): RecordBatch[] | undefined {
    const w = this.windows.get(key);
    const found = w && w.generation === at.generation && offset >= at.low && offset < at.high ? this.from(w, offset, at) : undefined;
    if (found) this.hits++;
    else this.misses++;
    return found;
  }

  private from(w: Window, offset: number, at: TailBounds): RecordBatch[] | undefined {
    const list = w.batches;
    if (list.length === 0 || offset < list[0]!.baseOffset || end(list[list.length - 1]!) !== at.high) return undefined;
    // Consumers at the log end ask for one of the last batches: search from the end.
    let i = list.length - 1;
    while (i > 0 && list[i]!.baseOffset > offset) i--;
    const first = list[i]!;
    if (first.baseOffset > offset || end(first) <= offset || first.baseOffset < at.activeBase) return undefined;
    return list.slice(i);
  }

  /** Forgets a partition's window (its topic was deleted, or its batches were rewritten). */
  drop(key: string): void {
    const w = this.windows.get(key);
    if (!w) return;
    this.total -= w.bytes;
    this.windows.delete(key);
  }

  /** Forgets every window. */
  clear(): void {
    this.windows.clear();
    this.total = 0;
  }

  /** What the windows hold now. */
  stats(): TailWindowStats {
    let batches = 0;
    for (const w of this.windows.values()) batches += w.batches.length;
    return { partitions: this.windows.size, batches, bytes: this.total };
  }
}
