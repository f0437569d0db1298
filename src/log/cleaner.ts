/**
 * The log cleaner: retention (delete policy), compaction (compact policy), deleteRecords, and
 * sealing of active segments older than segment.ms.
 *
 * Invariants:
 * - The cleaner never blocks appends for long: it reads in read-only transactions and writes
 *   one segment per short transaction; it never touches the active segment's batches.
 * - Every write runs under LogStore.exclusive and rereads the partition state inside it, so an
 *   append committing meanwhile neither loses the cleaner's change nor has its own lost.
 * - Offsets never change. Compaction keeps, per key, only the record with the highest offset
 *   below the last stable offset (active segment included, aborted transactions left out) and
 *   rewrites sealed segments with the survivors at their original offsets; the log end stays.
 * - Transactions (Kafka's cleaner, KIP-98): nothing at or after the last stable offset (an open
 *   transaction's first record) is read into the offset map or changed, so a read-committed
 *   reader never loses the last committed value of a key to an open or aborted write. Batches
 *   of aborted transactions are removed. A marker stays while data of its transaction is left;
 *   once none is, its aborted range (ABORT) leaves the transaction index in the same IndexedDB
 *   transaction, and the marker goes delete.retention.ms after that clean (`cleanedAt`).
 *   Producer states (`producers`) are never touched.
 * - A tombstone (keyed record with null value) survives until delete.retention.ms after the
 *   cleaner first rewrote its batch (`cleanedAt`), so slow consumers still see the delete.
 * - Retention deletes whole sealed segments, oldest first; the low watermark moves to the
 *   first remaining offset and never goes back.
 * - A transaction that deletes batches first writes the partition's active segment row and its
 *   carrier's producers row (carried-state.ts), so no state lives only in a deleted batch.
 */
import { rebuildPayload, payloadCrc, type RecordBatch } from '../protocol/record-batch.js';
import { scanRecords, type RecordView } from '../protocol/record-scan.js';
import { BATCH_OVERHEAD } from './appender.js';
import type { CleanerStats } from '../protocol/broker-api.js';
import { batchKey, done, S, transaction, type SegmentRow } from './log-db.js';
import { sealSegment, type LogStore, type PartitionState } from './log-store.js';
import { deleteRecordsTarget, tpKey } from '../protocol/topic-partition.js';
import { plainBatches } from '../protocol/compression.js';
import { CleanerTxns } from './txn-index.js';
import { rowsBeforeDeleting } from './carried-state.js';

type DeletingTx = ReturnType<typeof deletingTx>;
/** A write transaction over the stores a cleaner step that deletes batches writes (and meta, for the transaction index). */
const deletingTx = (store: LogStore, what: string, meta = false) => transaction(store.db, meta ? [S.segments, S.batches, S.partitions, S.producers, S.meta] : [S.segments, S.batches, S.partitions, S.producers], 'readwrite', what);

/** Writes the state a partition's last batch carries into its rows (see rowsBeforeDeleting); returns the state to install after commit. */
function saveCarried(store: LogStore, tx: DeletingTx, p: PartitionState, writes: Promise<unknown>[]): PartitionState {
  const r = rowsBeforeDeleting(p, (id) => store.producerState(id, p.topic, p.partition));
  writes.push(tx.objectStore(S.segments).put(r.segment));
  if (r.producer) writes.push(tx.objectStore(S.producers).put(r.producer));
  return { ...p, carrier: undefined };
}

export type { CleanerStats };

/** Page size when scanning a partition to build the compaction offset map. */
const SCAN_PAGE = 64;

/** Runs retention and compaction over every partition (or those of `topics`). */
export async function runCleaner(store: LogStore, topics?: string[]): Promise<CleanerStats> {
  const stats: CleanerStats = { segmentsSealed: 0, segmentsDeleted: 0, segmentsCompacted: 0, recordsRemoved: 0, tombstonesRemoved: 0 };
  const names = topics ?? [...store.topics.keys()];
  await store.useAll();
  for (const name of names) {
    const t = store.topics.get(name);
    if (!t) continue;
    for (let p = 0; p < t.numPartitions; p++) {
      if (store.closed || !store.topics.has(name)) return stats;
      await sealAged(store, name, p, stats);
      if (t.config.cleanupPolicy.compact) await compactPartition(store, name, p, stats);
      if (t.config.cleanupPolicy.delete) await enforceRetention(store, name, p, stats);
      await dropSegmentsBelowStart(store, name, p, stats);
    }
  }
  return stats;
}

/** Seals a non-empty active segment older than segment.ms, so retention and compaction can reach it. */
function sealAged(store: LogStore, topic: string, partition: number, stats: CleanerStats): Promise<void> {
  return store.exclusive(async () => {
    if (store.closed || !store.topics.has(topic)) return;
    const cfg = store.topic(topic).config;
    const p = store.partition(topic, partition);
    const now = store.now();
    if (p.active.batchCount === 0 || now - p.active.createdAt < cfg.segmentMs) return;
    const { state, sealed } = sealSegment(p, now);
    const what = `seal segment ${topic}-${partition}@${sealed.baseOffset}`;
    const tx = transaction(store.db, [S.segments], 'readwrite', what);
    await done(tx, what, [tx.objectStore(S.segments).put(sealed), tx.objectStore(S.segments).put(state.active)]);
    store.setPartition(state);
    stats.segmentsSealed++;
  });
}

/**
 * Deletes sealed segments found in the snapshot `snap` (only the cleaner removes sealed
 * segments, so they are still there) and raises the low watermark.
 */
function deleteSegments(store: LogStore, snap: PartitionState, doomed: SegmentRow[], newStart: number, stats: CleanerStats): Promise<void> {
  return store.exclusive(async () => {
    if (store.closed || !store.topics.has(snap.topic)) return;
    const p = store.partition(snap.topic, snap.partition);
    if (doomed.length === 0 && newStart <= p.logStartOffset) return;
    const what = `delete segments of ${p.topic}-${p.partition}`;
    const tx = deletingTx(store, what);
    const writes: Promise<unknown>[] = [];
    const saved = saveCarried(store, tx, p, writes);
    for (const s of doomed) {
      writes.push(tx.objectStore(S.batches).delete(store.partitionRange(p.topic, p.partition, s.baseOffset, s.nextOffset, true)));
      writes.push(tx.objectStore(S.segments).delete([p.topic, p.partition, s.baseOffset]));
    }
    const logStartOffset = Math.max(p.logStartOffset, newStart);
    writes.push(tx.objectStore(S.partitions).put({ topic: p.topic, partition: p.partition, logStartOffset }));
    await done(tx, what, writes);
    const gone = new Set(doomed.map((s) => s.baseOffset));
    store.setPartition({ ...saved, logStartOffset, sealed: p.sealed.filter((s) => !gone.has(s.baseOffset)) });
    stats.segmentsDeleted += doomed.length;
  });
}

/** retention.ms and retention.bytes: delete the oldest sealed segments past either limit. */
async function enforceRetention(store: LogStore, topic: string, partition: number, stats: CleanerStats): Promise<void> {
  const cfg = store.topic(topic).config;
  const p = store.partition(topic, partition);
  const now = store.now();
  let size = store.partitionBytes(p);
  const doomed: SegmentRow[] = [];
  // With sync on, a segment the replica has not acknowledged stays unless the topic says otherwise.
  const guard = store.syncEnabled && cfg.syncRetentionUnreplicated !== 'delete' ? store.replicatedOf(topic, partition) : Infinity;
  for (const s of p.sealed) {
    if (s.nextOffset > guard) break;
    const byTime = cfg.retentionMs >= 0 && s.maxTimestamp >= 0 && now - s.maxTimestamp > cfg.retentionMs;
    const byBytes = cfg.retentionBytes >= 0 && size - s.sizeBytes >= cfg.retentionBytes;
    const empty = s.batchCount === 0 && s.nextOffset <= p.logStartOffset;
    if (!byTime && !byBytes && !empty) break;
    doomed.push(s);
    size -= s.sizeBytes;
  }
  if (doomed.length === 0) return;
  const next = p.sealed[doomed.length]?.baseOffset ?? p.active.baseOffset;
  await deleteSegments(store, p, doomed, next, stats);
}

/**
 * Quota pressure: deletes, in every partition, the oldest sealed segments the sync replica
 * already holds (never one it does not). Answers how many segments went.
 */
export async function dropReplicatedSegments(store: LogStore): Promise<number> {
  await store.useAll();
  const stats: CleanerStats = { segmentsSealed: 0, segmentsDeleted: 0, segmentsCompacted: 0, recordsRemoved: 0, tombstonesRemoved: 0 };
  for (const p of [...store.partitions.values()]) {
    const t = store.topics.get(p.topic);
    if (!t || t.internal) continue;
    const held = store.replicatedOf(p.topic, p.partition);
    const doomed: SegmentRow[] = [];
    for (const s of p.sealed) { if (s.nextOffset > held) break; doomed.push(s); }
    if (doomed.length === 0) continue;
    const next = p.sealed[doomed.length]?.baseOffset ?? p.active.baseOffset;
    await deleteSegments(store, p, doomed, next, stats);
  }
  return stats.segmentsDeleted;
}

/** Sealed segments wholly below the low watermark (after deleteRecords) go. */
async function dropSegmentsBelowStart(store: LogStore, topic: string, partition: number, stats: CleanerStats): Promise<void> {
  const p = store.partition(topic, partition);
  const doomed = p.sealed.filter((s) => s.nextOffset <= p.logStartOffset);
  if (doomed.length) await deleteSegments(store, p, doomed, p.logStartOffset, stats);
}

/**
 * What each partition looked like when it was last compacted, and when its first kept tombstone
 * or marker falls due: a run that finds the same log (same end, same last stable offset, same
 * sealed segments, same config) before that time has nothing to do, and skips reading the
 * partition twice over.
 */
const lastClean = new WeakMap<LogStore, Map<string, { shape: string; due: number }>>();

function shapeOf(store: LogStore, p: PartitionState): string {
  const t = store.topic(p.topic);
  const last = p.sealed[p.sealed.length - 1];
  const stable = store.txns.lastStable(p.topic, p.partition, p.active.nextOffset);
  return `${t.createdAt}:${t.config.deleteRetentionMs}:${p.active.nextOffset}:${stable}:${p.sealed.length}:${last?.baseOffset}:${last?.version}`;
}

/**
 * Compaction: builds key -> latest offset over the stable part of the partition (below the last
 * stable offset, aborted transactions left out), then rewrites each sealed segment that holds a
 * superseded record, an aborted transaction's batch, an expired tombstone or an expired marker.
 */
async function compactPartition(store: LogStore, topic: string, partition: number, stats: CleanerStats): Promise<void> {
  const p = store.partition(topic, partition);
  if (p.sealed.length === 0) return;
  let memo = lastClean.get(store);
  if (!memo) lastClean.set(store, (memo = new Map()));
  const memoKey = tpKey(topic, partition);
  const before = memo.get(memoKey);
  if (before && before.shape === shapeOf(store, p) && store.now() < before.due) return;
  let due = Infinity;
  // Kafka's first uncleanable offset: nothing at or after the last stable offset is read into
  // the map or changed. Below it every transaction has ended, so what follows holds for the
  // whole run even while transactions commit or abort meanwhile.
  const stable = store.txns.lastStable(topic, partition, p.active.nextOffset);
  const txns = new CleanerTxns(store.txns, topic, partition);
  const latest = new Map<string, number>();
  let from = -Infinity;
  for (;;) {
    const page = await plainBatches(await store.readBatches(topic, partition, from, stable, SCAN_PAGE));
    for (const b of page) {
      if (txns.isAborted(b) || b.control) continue;
      scanRecords(b.payload, b.baseOffset, (r) => { if (r.keyId !== null) latest.set(r.keyId, r.offset); });
    }
    if (page.length < SCAN_PAGE) break;
    from = page[page.length - 1]!.baseOffset + 1;
  }
  const cfg = store.topic(topic).config;
  for (const seg of [...p.sealed]) {
    if (seg.baseOffset >= stable) break;
    if (store.closed || !store.topics.has(topic)) return;
    const now = store.now();
    // Compressed batches are read uncompressed; a rewritten one is stored uncompressed.
    const raw = await store.readBatches(topic, partition, seg.baseOffset, seg.nextOffset);
    const stored = new Set(raw);
    const batches = await plainBatches(raw);
    const puts: RecordBatch[] = [];
    const deletes: number[] = [];
    let removed = 0, tombs = 0;
    for (const b of batches) {
      // At or after the last stable offset: kept as written (and counted in the segment's row).
      if (b.baseOffset >= stable) continue;
      if (b.control) {
        // A marker goes once no data of its transaction is left and delete.retention.ms has
        // passed since the cleaner first found it so (`cleanedAt`); until then it stays.
        if (!txns.onMarker(b)) continue;
        if (b.cleanedAt >= 0 && now - b.cleanedAt >= cfg.deleteRetentionMs) { deletes.push(b.baseOffset); removed += b.count; continue; }
        due = Math.min(due, (b.cleanedAt >= 0 ? b.cleanedAt : now) + cfg.deleteRetentionMs);
        if (b.cleanedAt < 0) puts.push({ ...b, crc: stored.has(b) ? b.crc : payloadCrc(b.payload), cleanedAt: now });
        continue;
      }
      if (txns.isAborted(b)) { deletes.push(b.baseOffset); removed += b.count; continue; }
      const kept: RecordView[] = [];
      let changed = false;
      let hasTombstone = false;
      scanRecords(b.payload, b.baseOffset, (r) => {
        if (r.keyId !== null && latest.get(r.keyId)! > r.offset) { changed = true; removed++; return; }
        if (r.keyId !== null && r.tombstone) {
          if (b.cleanedAt >= 0 && now - b.cleanedAt >= cfg.deleteRetentionMs) { changed = true; removed++; tombs++; return; }
          hasTombstone = true;
          due = Math.min(due, (b.cleanedAt >= 0 ? b.cleanedAt : now) + cfg.deleteRetentionMs);
        }
        kept.push(r);
      });
      if (kept.length > 0) txns.onDataKept(b);
      const firstClean = hasTombstone && b.cleanedAt < 0;
      if (!changed && !firstClean) continue;
      if (kept.length === 0) { deletes.push(b.baseOffset); continue; }
      const payload = changed ? rebuildPayload(b.payload, b.baseOffset, kept) : b.payload;
      let first = Infinity, max = -1;
      for (const k of kept) { first = Math.min(first, k.timestamp); max = Math.max(max, k.timestamp); }
      const appendTime = b.timestampType === 'LogAppendTime';
      puts.push({
        ...b, payload, count: kept.length, crc: changed || !stored.has(b) ? payloadCrc(payload) : b.crc, sizeBytes: payload.length + BATCH_OVERHEAD,
        firstTimestamp: appendTime ? b.firstTimestamp : first, maxTimestamp: appendTime ? b.maxTimestamp : max,
        cleanedAt: b.cleanedAt >= 0 ? b.cleanedAt : now,
      });
    }
    // ABORT markers this segment found alone: their ranges leave the index with this write.
    const gone = txns.takeFinishedAborts();
    if (puts.length === 0 && deletes.length === 0 && gone.length === 0) continue;
    const remaining = batches.filter((b) => !deletes.includes(b.baseOffset)).map((b) => puts.find((x) => x.baseOffset === b.baseOffset) ?? b);
    const nextSeg: SegmentRow = {
      ...seg, version: seg.version + 1, batchCount: remaining.length,
      recordCount: remaining.reduce((n, b) => n + b.count, 0),
      sizeBytes: remaining.reduce((n, b) => n + b.sizeBytes, 0),
    };
    const written = await store.exclusive(async () => {
      if (store.closed || !store.topics.has(topic)) return false;
      const what = `compact ${topic}-${partition}@${seg.baseOffset}`;
      const index = gone.length ? store.txns.withoutAborted(topic, partition, gone) : undefined;
      const tx = deletingTx(store, what, index !== undefined);
      const writes: Promise<unknown>[] = [];
      const saved = saveCarried(store, tx, store.partition(topic, partition), writes);
      for (const b of puts) writes.push(tx.objectStore(S.batches).put(b, batchKey(b)));
      for (const o of deletes) writes.push(tx.objectStore(S.batches).delete([topic, partition, o]));
      writes.push(tx.objectStore(S.segments).put(nextSeg));
      if (index) {
        const meta = tx.objectStore(S.meta);
        writes.push(index.list.length ? meta.put(index.list, index.key) : meta.delete(index.key));
      }
      await done(tx, what, writes);
      if (index) store.txns.setAborted(topic, partition, index.list);
      store.setPartition({ ...saved, sealed: saved.sealed.map((s) => (s.baseOffset === seg.baseOffset ? nextSeg : s)) });
      return true;
    });
    if (!written) return;
    stats.segmentsCompacted++;
    stats.recordsRemoved += removed;
    stats.tombstonesRemoved += tombs;
  }
  if (!store.closed && store.topics.has(topic)) memo.set(memoKey, { shape: shapeOf(store, store.partition(topic, partition)), due });
}

/**
 * Kafka's deleteRecords: moves the low watermark to `offset` (-1: the high watermark).
 * Batches wholly below it are deleted now; the rest of their segments go on the next clean.
 */
export async function deleteRecords(store: LogStore, topic: string, partition: number, offset: number): Promise<number> {
  await store.usePartition(topic, partition);
  return store.exclusive(() => deleteRecordsNow(store, topic, partition, offset));
}

async function deleteRecordsNow(store: LogStore, topic: string, partition: number, offset: number): Promise<number> {
  const p = store.partition(topic, partition);
  const high = p.active.nextOffset;
  const target = deleteRecordsTarget(topic, partition, offset, p.logStartOffset, high);
  if (target === p.logStartOffset) return target;
  const what = `deleteRecords ${topic}-${partition}`;
  // The batch that may straddle `target`: the key of the last one starting at or before it,
  // then that one row. A backward value cursor reads ahead: Firefox deserializes several
  // batches per response that nobody uses (as reader.ts found, bench/ANALYSIS.md).
  const bos = transaction(store.db, [S.batches], 'readonly', what).objectStore(S.batches);
  const last = await bos.openKeyCursor(store.partitionRange(topic, partition, -Infinity, target), 'prev');
  const straddle = last ? await bos.get(last.primaryKey) : undefined;
  const deleteBelow = straddle && straddle.baseOffset + straddle.lastOffsetDelta >= target ? straddle.baseOffset : target;
  const tx = deletingTx(store, what);
  const writes: Promise<unknown>[] = [];
  const saved = saveCarried(store, tx, p, writes);
  writes.push(
    tx.objectStore(S.batches).delete(store.partitionRange(topic, partition, -Infinity, deleteBelow, true)),
    tx.objectStore(S.partitions).put({ topic, partition, logStartOffset: target }),
  );
  await done(tx, what, writes);
  store.setPartition({ ...saved, logStartOffset: Math.max(saved.logStartOffset, target) });
  return target;
}
