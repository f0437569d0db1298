/**
 * The log's transaction index: which transactions are open (records written, no marker yet)
 * and which ranges of which producers were aborted, per partition. From it follow Kafka's last
 * stable offset (LSO) and what a read-committed reader may see.
 *
 * A transaction's records are written to the log as they are sent (batches flagged
 * `transactional`), so read-uncommitted readers see them at once. Its end writes one control
 * batch (a COMMIT or ABORT marker, one offset, never delivered) on every partition it touched.
 *
 * Invariants:
 * - The index changes only in the same IndexedDB transaction as the log rows it describes:
 *   the first records of a transaction on a partition write its `['txnOpen', id]` row, and the
 *   markers delete it and (on abort) extend `['aborted', topic, partition]`; the cleaner drops
 *   an aborted range once none of its data batches is left, with the write that first finds
 *   its marker alone. After a crash the index read back at open therefore matches the log.
 * - LSO(tp) = the smallest first offset of an open transaction on tp, else the high watermark.
 *   Read-committed readers get batches below the LSO only.
 * - A transactional batch of producer P at offset o is aborted iff an aborted range of P on
 *   its partition holds o. Control batches are aborted for nobody but delivered to nobody.
 */
import { payloadCrc, type RecordBatch } from '../protocol/record-batch.js';
import { tpKey } from '../protocol/topic-partition.js';
import type { MetaKey } from './log-db.js';
import type { KeyRangeCtor } from './log-db.js';

/** A transaction whose records are in the log and whose markers are not. */
export interface OpenTxn {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  /** When its first record was written (ms); it is aborted `timeoutMs` later. */
  startedAt: number;
  timeoutMs: number;
  /** Partitions written and the offset of the transaction's first record on each. */
  partitions: { topic: string; partition: number; firstOffset: number }[];
}

/** An aborted transaction's span on one partition: its first record to its ABORT marker. */
export interface AbortedRange {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

/** Meta key of an open transaction. */
export const openKey = (transactionalId: string): MetaKey => ['txnOpen', transactionalId];
/** Meta key of a partition's aborted ranges. */
export const abortedKey = (topic: string, partition: number): MetaKey => ['aborted', topic, partition];

const EMPTY_CRC = payloadCrc(new Uint8Array(0));

/** The in-memory index (loaded at open, then kept by the writes that change it). */
export class TxnIndex {
  /** Open transactions by transactionalId. */
  readonly open = new Map<string, OpenTxn>();
  /** Aborted ranges by partition key, in offset order. */
  readonly aborted = new Map<string, AbortedRange[]>();

  /**
   * Reads the index stored with the log, inside the caller's transaction on `meta` (the log's
   * open reads it together with the rest, in one IndexedDB transaction).
   */
  async load(meta: { getAll(q: IDBKeyRange): Promise<unknown[]>; getAllKeys(q: IDBKeyRange): Promise<unknown[]> }, KR: KeyRangeCtor): Promise<void> {
    const range = (tag: string) => KR.bound([tag], [tag, []]);
    const [openKeys, openRows, abKeys, abRows] = await Promise.all([
      meta.getAllKeys(range('txnOpen')), meta.getAll(range('txnOpen')),
      meta.getAllKeys(range('aborted')), meta.getAll(range('aborted')),
    ]);
    openRows.forEach((row, i) => this.open.set((openKeys[i] as [string, string])[1], row as OpenTxn));
    abRows.forEach((row, i) => {
      const [, topic, partition] = abKeys[i] as [string, string, number];
      this.aborted.set(tpKey(topic, partition), row as AbortedRange[]);
    });
  }

  /** Kafka's last stable offset of a partition whose high watermark is `high`. */
  lastStable(topic: string, partition: number, high: number): number {
    let lso = high;
    if (this.open.size === 0) return lso;
    for (const t of this.open.values()) {
      for (const p of t.partitions) if (p.topic === topic && p.partition === partition && p.firstOffset < lso) lso = p.firstOffset;
    }
    return lso;
  }

  /** True when the transactional record of `producerId` at `offset` belongs to an aborted transaction. */
  isAborted(topic: string, partition: number, producerId: number, offset: number): boolean {
    const list = this.aborted.get(tpKey(topic, partition));
    if (!list) return false;
    for (let i = list.length - 1; i >= 0; i--) {
      const r = list[i]!;
      if (r.producerId === producerId && r.firstOffset <= offset && offset <= r.lastOffset) return true;
    }
    return false;
  }

  /**
   * The partition's aborted ranges without those of `gone` (matched by producer and marker
   * offset), with the meta key to store them under; undefined when none of them is listed.
   */
  withoutAborted(topic: string, partition: number, gone: readonly AbortedRange[]): { key: MetaKey; list: AbortedRange[] } | undefined {
    const list = this.aborted.get(tpKey(topic, partition)) ?? [];
    const kept = list.filter((r) => !gone.some((g) => g.producerId === r.producerId && g.lastOffset === r.lastOffset));
    return kept.length === list.length ? undefined : { key: abortedKey(topic, partition), list: kept };
  }

  /** Installs a partition's committed aborted ranges (an empty list removes the entry). */
  setAborted(topic: string, partition: number, list: AbortedRange[]): void {
    if (list.length) this.aborted.set(tpKey(topic, partition), list);
    else this.aborted.delete(tpKey(topic, partition));
  }

  /**
   * What a reader may see of batches read from a partition: read-committed readers get the
   * batches below the LSO, with aborted ones emptied; everyone gets control batches emptied.
   * An emptied batch keeps its offsets and carries no records, so a consumer moves past it.
   */
  visible(topic: string, partition: number, batches: RecordBatch[], high: number, readUncommitted: boolean): { batches: RecordBatch[]; lastStable: number } {
    const lastStable = this.lastStable(topic, partition, high);
    if (!batches.some((b) => b.transactional)) return { batches, lastStable };
    const out: RecordBatch[] = [];
    for (const b of batches) {
      if (!readUncommitted && b.baseOffset >= lastStable) break;
      if (b.control || (!readUncommitted && b.transactional && this.isAborted(topic, partition, b.producerId, b.baseOffset))) out.push(emptied(b));
      else out.push(b);
    }
    return { batches: out, lastStable };
  }
}

/**
 * The cleaner's view of transactions during one run over a partition (Kafka's
 * CleanedTransactionMetadata). It is shown the batches below the last stable offset in offset
 * order, and answers which batches belong to aborted transactions (removed, never in the
 * offset map) and which markers are alone (no data of their transaction is left after this
 * run). Since a producer has at most one transaction open at a time, its transactional batches
 * between two of its markers on a partition are the later marker's transaction.
 */
export class CleanerTxns {
  /** Producers with data of their current transaction kept so far in this run. */
  private readonly dataLeft = new Set<number>();
  private finished: AbortedRange[] = [];

  constructor(private readonly index: TxnIndex, private readonly topic: string, private readonly partition: number) {}

  /** True when `b` is a data batch of an aborted transaction. */
  isAborted(b: RecordBatch): boolean {
    return b.transactional === true && !b.control && this.index.isAborted(this.topic, this.partition, b.producerId, b.baseOffset);
  }

  /** Notes a data batch that keeps records after this run. */
  onDataKept(b: RecordBatch): void {
    if (b.transactional) this.dataLeft.add(b.producerId);
  }

  /**
   * Notes a marker; true when no data of its transaction is left, so that it may go once
   * delete.retention.ms has passed. An ABORT marker found alone also ends its aborted range:
   * nothing is left for the range to hide (see takeFinishedAborts).
   */
  onMarker(b: RecordBatch): boolean {
    const alone = !this.dataLeft.delete(b.producerId);
    if (alone && b.control === 'ABORT' && this.index.isAborted(this.topic, this.partition, b.producerId, b.baseOffset)) {
      this.finished.push({ producerId: b.producerId, firstOffset: -1, lastOffset: b.baseOffset });
    }
    return alone;
  }

  /** The aborted ranges ended since the last call (matched by producer and marker offset). */
  takeFinishedAborts(): AbortedRange[] {
    const out = this.finished;
    this.finished = [];
    return out;
  }
}

/**
 * A batch with its records taken out (same offsets): what readers get for markers and aborted
 * batches. Its payload is a buffer of its own: fetch answers transfer payload buffers to the
 * tab, and a buffer shared between batches would be detached by the first transfer.
 */
export function emptied(b: RecordBatch): RecordBatch {
  const { compression: _c, ...rest } = b;
  return { ...rest, count: 0, payload: new Uint8Array(0), crc: EMPTY_CRC, sizeBytes: 64 };
}
