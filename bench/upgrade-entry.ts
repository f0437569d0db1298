/**
 * The page side of bench/upgrade.mjs: writes a version-1 log of a given shape with raw
 * IndexedDB (the stores version 1 created, batch rows as version 1 stored them), then opens it
 * with the current code, which runs the upgrade, while the heap is sampled.
 */
import { openLogDb, DB_VERSION } from '../src/log/log-db.js';
import { openVersion1 } from '../test/helpers/version1-db.js';

/** Sizes of one fill: `rows` batch rows of `recordsPerRow` records and `payloadBytes` each, over `partitions`. */
export interface Shape { rows: number; recordsPerRow: number; payloadBytes: number; partitions: number }

const MB = 1024 * 1024;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const used = (): number => (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize;

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
}

/** Writes a version-1 database `name` holding `shape`; answers the bytes of payload written. */
export async function fillV1(name: string, shape: Shape): Promise<{ rows: number; records: number; payloadMB: number; ms: number }> {
  const t0 = performance.now();
  const db = await openVersion1(name);
  const payload = new Uint8Array(shape.payloadBytes);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 2654435761) >>> 24;
  const next = new Array<number>(shape.partitions).fill(0);
  const now = Date.now();
  let tx = db.transaction(['batches'], 'readwrite');
  for (let i = 0; i < shape.rows; i++) {
    const partition = i % shape.partitions;
    const baseOffset = next[partition]!;
    next[partition] = baseOffset + shape.recordsPerRow;
    tx.objectStore('batches').put({
      topic: 'orders', partition, baseOffset, lastOffsetDelta: shape.recordsPerRow - 1, count: shape.recordsPerRow,
      firstTimestamp: now, maxTimestamp: now, timestampType: 'CreateTime', logAppendTime: -1, producerId: -1, producerEpoch: 0,
      baseSequence: -1, crc: 0, sizeBytes: 61 + shape.payloadBytes, payload: payload.slice(), segment: 0, cleanedAt: -1,
    });
    // About 8 MB per transaction, so the fill's own memory stays small.
    if ((i + 1) % Math.max(1, Math.floor(8 * MB / shape.payloadBytes)) === 0) {
      await new Promise<void>((r, j) => { tx.oncomplete = () => r(); tx.onabort = () => j(tx.error); });
      tx = db.transaction(['batches'], 'readwrite');
    }
  }
  await new Promise<void>((r, j) => { tx.oncomplete = () => r(); tx.onabort = () => j(tx.error); });
  db.close();
  return { rows: shape.rows, records: shape.rows * shape.recordsPerRow, payloadMB: (shape.rows * shape.payloadBytes) / MB, ms: performance.now() - t0 };
}

type UpgradeFigures = { version: number; ms: number; heapBeforeMB: number; heapPeakMB: number; liveMaxMB: number; heapAfterMB: number; samples: number; rows: number };

/**
 * Runs `openDb` (an open that upgrades) while sampling the heap every 10 ms and, after a
 * collection, every 250 ms; answers the open's time, the heap before (after two collections),
 * its sampled peak, the largest heap left after a collection during the upgrade, and the row
 * count of the upgraded store (`count`).
 */
async function sampled<D extends { version: number; close(): void }>(openDb: () => Promise<D>, count: (db: D) => Promise<number>): Promise<UpgradeFigures> {
  gc(); gc();
  const before = used();
  let peak = before;
  let samples = 0;
  const timer = setInterval(() => { samples++; const u = used(); if (u > peak) peak = u; }, 10);
  // What the upgrade holds (after a collection), every 250 ms: the sampled peak above also
  // counts garbage that no collection has taken yet.
  let liveMax = 0;
  const live = setInterval(() => { gc(); gc(); const u = used(); if (u > liveMax) liveMax = u; }, 250);
  const t0 = performance.now();
  const db = await openDb();
  const ms = performance.now() - t0;
  clearInterval(timer);
  clearInterval(live);
  const u = used();
  if (u > peak) peak = u;
  const rows = await count(db);
  const version = db.version;
  db.close();
  gc(); gc();
  return { version, ms, heapBeforeMB: before / MB, heapPeakMB: peak / MB, liveMaxMB: liveMax / MB, heapAfterMB: used() / MB, samples, rows };
}

/** Opens `name` with the current code (the upgrade runs), sampled as `sampled` says. */
export function upgrade(name: string): Promise<UpgradeFigures> {
  return sampled(() => openLogDb(indexedDB, name), (db) => db.count('batches'));
}

/**
 * The baseline: version 2's step as it was first written (one cursor over the old rows, one put
 * per row), run by a raw open at version 2, sampled the same way.
 */
export function upgradeByCursor(name: string): Promise<UpgradeFigures> {
  return sampled(() => {
    const open = indexedDB.open(name, 2);
    open.onupgradeneeded = () => {
      const db = open.result;
      const old = open.transaction!.objectStore('batches');
      old.name = 'batches-v1';
      const next = db.createObjectStore('batches');
      const cursor = old.openCursor();
      cursor.onsuccess = () => {
        const c = cursor.result;
        if (!c) return db.deleteObjectStore('batches-v1');
        next.put(c.value, c.primaryKey);
        c.continue();
      };
    };
    return req(open);
  }, (db) => req(db.transaction(['batches']).objectStore('batches').count()));
}

/** Deletes a database. */
export function drop(name: string): Promise<void> {
  return new Promise((resolve) => { const r = indexedDB.deleteDatabase(name); r.onsuccess = r.onerror = r.onblocked = () => resolve(); });
}

export { DB_VERSION };
