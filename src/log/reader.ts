/**
 * Reads of the log: batches from an offset, offsets by timestamp. Reads never hold the log in
 * memory: each returns at most about `maxBytes` of batches (at least one batch, as Kafka).
 * A row read from IndexedDB only to learn that it does not fit has its bytes freed at once.
 * A read at the log end is answered from the batches the appender has just committed (the
 * store's tail window) when it holds every batch from `offset` to the end; the answer is the
 * same as IndexedDB's (same batches, same cut by maxBytes and maxRecords), with copies of the
 * bytes, so a reader (or a transfer to a tab) never changes the window.
 *
 * Invariants:
 * - A batch read from IndexedDB is handed out only once its payload matched its CRC-32C (storage
 *   damaged at rest): a read ends before the first batch that fails, and a read that starts at
 *   one throws its CorruptRecordError (the consumer's crash names the batch). Batches from the
 *   tail window were checksummed by the appender from the bytes it holds and are not checked
 *   again. Consumers do not check: this is the only place stored bytes enter the fetch path.
 */
import { OffsetOutOfRangeError } from '../errors.js';
import { verifyCrc, type RecordBatch } from '../protocol/record-batch.js';
import { scanRecords } from '../protocol/record-scan.js';
import { plainBatches } from '../protocol/compression.js';
import { S, transaction } from './log-db.js';
import type { LogStore } from './log-store.js';

/** What one partition read returns. */
export interface ReadResult {
  batches: RecordBatch[];
  /** High watermark (log end offset) at the time of the read. */
  high: number;
  /** Low watermark (log start offset). */
  low: number;
}

/** Bounds of the rows fetched per getAll while filling maxBytes. */
const MIN_PAGE = 2;
const MAX_PAGE = 64;

/**
 * How many rows to ask for: enough to fill maxBytes at the partition's average batch size
 * (known from its segments), so a read neither over-reads (rows it would drop) nor needs
 * many round trips.
 */
function pageSize(store: LogStore, topic: string, partition: number, maxBytes: number): number {
  const p = store.partition(topic, partition);
  let bytes = p.active.sizeBytes, batches = p.active.batchCount;
  for (let i = p.sealed.length - 1; i >= 0 && batches < 64; i--) { bytes += p.sealed[i]!.sizeBytes; batches += p.sealed[i]!.batchCount; }
  const avg = batches > 0 ? bytes / batches : maxBytes;
  return Math.max(MIN_PAGE, Math.min(MAX_PAGE, Math.floor(maxBytes / Math.max(1, avg))));
}

/**
 * Batches holding records at `offset` and after, up to about `maxBytes` and, when given,
 * until they hold `maxRecords` records (whole batches: the consumer cuts the last one). A read at an offset
 * that compaction removed starts at the next surviving record (the consumer filters records
 * below `offset` out of the first batch). Below the low watermark or past the log end:
 * OffsetOutOfRangeError. At the log end: no batches.
 */
export async function readPartition(store: LogStore, topic: string, partition: number, offset: number, maxBytes: number, maxRecords = Infinity): Promise<ReadResult> {
  await store.usePartition(topic, partition);
  const { low, high } = store.watermarks(topic, partition);
  if (!Number.isSafeInteger(offset) || offset < low || offset > high) {
    throw new OffsetOutOfRangeError(`offset ${offset} is out of range for ${topic}-${partition} (low ${low}, high ${high})`, { details: { topic, partition, offset, low, high } });
  }
  if (offset === high) return { batches: [], high, low };
  const tail = store.tailRead(topic, partition, offset);
  if (tail) return { batches: fill(tail, offset, maxBytes, maxRecords).map((b) => ({ ...b, payload: b.payload.slice() })), high, low };
  const PAGE = pageSize(store, topic, partition, maxBytes);
  const what = `fetch ${topic}-${partition}`;
  const os = transaction(store.db, [S.batches], 'readonly', what).objectStore(S.batches);
  // The batch holding `offset` starts at it (a read that goes on where the last one ended) or
  // before it. The rows from `offset` on and the key of the last row before it are asked for
  // together; that row's value is read only when no row starts at `offset`. Keys, not a value
  // cursor: a value cursor reads ahead, and Firefox's deserialized several 100 kB batches per
  // fetch that nobody used (~15-20% of a read's main thread). One row more than a page: the
  // first one usually is the batch at `offset`.
  const prevKey = os.openKeyCursor(store.partitionRange(topic, partition, -Infinity, offset, true), 'prev');
  const firstPage = os.getAll(store.partitionRange(topic, partition, offset, Infinity), PAGE + 1);
  prevKey.catch(() => undefined); // observed below; an abort rejects both
  const [before, rows] = await Promise.all([prevKey, firstPage]);
  const startsHere = rows[0]?.baseOffset === offset;
  const prev = startsHere ? rows[0] : before ? await os.get(before.primaryKey) : undefined;
  let page = startsHere ? rows.slice(1) : rows;
  const out: RecordBatch[] = [];
  let bytes = 0;
  let records = 0;
  if (prev && prev.baseOffset + prev.lastOffsetDelta >= offset && prev.count > 0) {
    out.push(prev);
    bytes += prev.sizeBytes;
    records += Math.min(prev.count, prev.baseOffset + prev.lastOffsetDelta + 1 - offset);
  }
  for (;;) {
    for (let i = 0; i < page.length; i++) {
      const b = page[i]!;
      if (out.length > 0 && (bytes + b.sizeBytes > maxBytes || records >= maxRecords)) {
        for (let j = i; j < page.length; j++) free(page[j]!.payload);
        return { batches: verified(out), high, low };
      }
      out.push(b);
      bytes += b.sizeBytes;
      records += b.count;
    }
    if (records >= maxRecords) break;
    if (page.length < PAGE) break;
    const next = page[page.length - 1]!.baseOffset + 1;
    page = await transaction(store.db, [S.batches], 'readonly', what).objectStore(S.batches)
      .getAll(store.partitionRange(topic, partition, next, Infinity), PAGE);
  }
  return { batches: verified(out), high, low };
}

/**
 * The batches read from IndexedDB up to the first whose payload fails its CRC-32C check; when
 * the first one fails, its CorruptRecordError (naming topic, partition and baseOffset) is thrown.
 * The batches before a damaged one are delivered first, as a consumer checking each batch before
 * decoding it would; the next read starts at the damaged batch and fails.
 */
function verified(batches: RecordBatch[]): RecordBatch[] {
  for (let i = 0; i < batches.length; i++) {
    try {
      verifyCrc(batches[i]!);
    } catch (e) {
      if (i === 0) throw e;
      return batches.slice(0, i);
    }
  }
  return batches;
}

/**
 * Frees the bytes of a row read from IndexedDB and not returned (the row after the cut, read to
 * learn that it does not fit): its buffer is this read's own, and left to the GC it waits for a
 * major collection (the (d) read peak, bench/ANALYSIS.md). Only a view spanning its whole
 * buffer, and only where `ArrayBuffer#transfer` exists.
 */
function free(payload: Uint8Array): void {
  const buf = payload.buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer };
  if (payload.byteOffset === 0 && payload.byteLength === buf.byteLength && typeof buf.transfer === 'function') buf.transfer(0);
}

/** The first batches of `list` (the first one holds `offset`) within maxBytes and maxRecords, as the IndexedDB path cuts them. */
function fill(list: RecordBatch[], offset: number, maxBytes: number, maxRecords: number): RecordBatch[] {
  const out: RecordBatch[] = [list[0]!];
  let bytes = list[0]!.sizeBytes;
  let records = Math.min(list[0]!.count, list[0]!.baseOffset + list[0]!.lastOffsetDelta + 1 - offset);
  for (let i = 1; i < list.length; i++) {
    const b = list[i]!;
    if (bytes + b.sizeBytes > maxBytes || records >= maxRecords) break;
    out.push(b);
    bytes += b.sizeBytes;
    records += b.count;
  }
  return out;
}

/**
 * The first offset whose timestamp is >= `timestamp` (Kafka's ListOffsets by time), or the
 * high watermark when there is none. Segments' max timestamps pick where to look.
 */
export async function offsetForTimestamp(store: LogStore, topic: string, partition: number, timestamp: number): Promise<number> {
  await store.useSegments(topic, partition);
  const p = store.partition(topic, partition);
  const segments = [...p.sealed, p.active];
  for (const seg of segments) {
    if (seg.batchCount === 0 || seg.maxTimestamp < timestamp || seg.nextOffset <= p.logStartOffset) continue;
    const batches = await plainBatches(await store.readBatches(topic, partition, seg.baseOffset, seg.nextOffset));
    for (const b of batches) {
      if (b.maxTimestamp < timestamp) continue;
      let found = -1;
      if (b.timestampType === 'LogAppendTime') {
        found = Math.max(b.baseOffset, p.logStartOffset);
      } else {
        scanRecords(b.payload, b.baseOffset, (r) => {
          if (found < 0 && r.timestamp >= timestamp && r.offset >= p.logStartOffset) found = r.offset;
        });
      }
      if (found >= 0) return found;
    }
  }
  return p.active.nextOffset;
}
