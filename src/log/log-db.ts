/**
 * The only file that names object stores, DB_VERSION and upgrades. The schema is an idb
 * `DBSchema`; the rest of log/ reads and writes through idb's typed stores.
 *
 * Stores (all keys are arrays, so one topic-partition is one contiguous key range):
 * - topics      [topic]                               -> TopicRow
 * - partitions  [topic, partition]                    -> PartitionRow (logStartOffset)
 * - segments    [topic, partition, baseOffset]        -> SegmentRow
 * - batches     [topic, partition, baseOffset]        -> RecordBatch (one value per batch; from version 2 the
 *                                                       key is given with each put, see batchKey)
 * - producers   [producerId, topic, partition]        -> ProducerRow (idempotence state)
 * - meta        key                                   -> nextProducerId (number); sync's keys (sync-meta.ts);
 *                                                       ['txn', transactionalId] -> { producerId, producerEpoch };
 *                                                       ['txnOpen', transactionalId] -> OpenTxn;
 *                                                       ['aborted', topic, partition] -> AbortedRange[] (txn-index.ts)
 *
 * Version 2: the partition's last batch may carry state newer than its rows (log/carried-state.ts),
 * and the batches store takes its keys out of line: with a key path, Chromium deserializes a
 * copy of every value put (payload included) to read its key.
 *
 * Invariants:
 * - `UPGRADES[v]` turns a database of version v into version v + 1 without losing a row;
 *   DB_VERSION is UPGRADES.length. Upgrading from every earlier version is tested against a
 *   database written by that version's code (test/log/fixtures/).
 * - A connection closes itself as soon as another one asks to delete or upgrade the database
 *   (`versionchange`), and when the browser closes it (site data cleared): a deletion or
 *   upgrade never waits for lanes. The owner is told and decides what to reopen.
 * - Code older than the database never writes to it: its open fails with
 *   IncompatibleVersionError before any transaction.
 *
 * idb's wrappers test `instanceof IDBRequest` (and the other IDB classes) against globals. In
 * Node without IndexedDB globals, opening on an injected fake-indexeddb factory defines that
 * implementation's IDBRequest, IDBOpenDBRequest, IDBDatabase, IDBTransaction, IDBObjectStore,
 * IDBIndex, IDBCursor and IDBCursorWithValue as globals, once (not IDBKeyRange nor indexedDB,
 * which callers inject). A factory of an implementation other than the realm's is refused.
 */
import { unwrap, wrap, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { IncompatibleVersionError, InvalidArgumentError, QuotaExceededError, StorageError, LanesError } from '../errors.js';
import type { RecordBatch } from '../protocol/record-batch.js';
import type { TopicConfig } from '../protocol/topic-config.js';

/** A topic as stored. */
export interface TopicRow {
  topic: string;
  numPartitions: number;
  config: TopicConfig;
  createdAt: number;
  /** Internal topics (`__consumer_offsets`) are hidden from listTopics. */
  internal: boolean;
}

/** A partition as stored: only what cannot be derived from its segments. */
export interface PartitionRow {
  topic: string;
  partition: number;
  logStartOffset: number;
}

/** A segment: a contiguous run of batches; immutable once sealed (the cleaner bumps `version`). */
export interface SegmentRow {
  topic: string;
  partition: number;
  baseOffset: number;
  /** One past the last offset written into the segment. */
  nextOffset: number;
  sizeBytes: number;
  batchCount: number;
  recordCount: number;
  firstTimestamp: number;
  maxTimestamp: number;
  createdAt: number;
  /** When the segment was sealed, or -1 for the active segment. */
  sealedAt: number;
  /** Raised each time the cleaner rewrites the segment; (baseOffset, version) names its contents. */
  version: number;
}

/** One producer's recent batches on one partition, so a retried batch is written once. */
export interface ProducerRow {
  producerId: number;
  topic: string;
  partition: number;
  epoch: number;
  lastSequence: number;
  /** The last few batches (Kafka keeps 5): enough to answer any in-flight retry. */
  recent: { firstSeq: number; lastSeq: number; baseOffset: number; logAppendTime: number }[];
  updatedAt: number;
}

/** The log database's schema. */
export interface LogSchema extends DBSchema {
  topics: { key: string; value: TopicRow };
  partitions: { key: [string, number]; value: PartitionRow };
  segments: { key: [string, number, number]; value: SegmentRow };
  batches: { key: [string, number, number]; value: RecordBatch };
  producers: { key: [number, string, number]; value: ProducerRow };
  meta: { key: MetaKey; value: MetaValue };
}

/** Keys of the meta store: the producer id counter, and sync's keys (see sync-meta.ts). */
export type MetaKey = 'nextProducerId' | 'deviceId' | 'syncConfig' | ['replicated', string, number] | ['mirror', string] | ['txn', string]
  | ['txnOpen', string] | ['aborted', string, number];
/** Values of the meta store (each key's type is fixed by the module that writes it). */
export type MetaValue = number | string | object;

/** An open log database. */
export type LogDb = IDBPDatabase<LogSchema>;
/** A store of the log database. */
export type LogStoreName = StoreNames<LogSchema>;
/** A transaction of the log database over any stores. */
export type LogTx = IDBPTransaction<LogSchema, LogStoreName[], IDBTransactionMode>;

/** Store names. */
export const S = {
  topics: 'topics',
  partitions: 'partitions',
  segments: 'segments',
  batches: 'batches',
  producers: 'producers',
  meta: 'meta',
} as const satisfies Record<LogStoreName, LogStoreName>;

type Upgrade = (db: IDBPDatabase<LogSchema>, tx: IDBPTransaction<LogSchema, LogStoreName[], 'versionchange'>, KR: KeyRangeCtor | undefined) => void;

/** Bytes of batch rows the version 2 upgrade reads at once: its memory, whatever the log's size. */
export const UPGRADE_READ_BYTES = 1 << 20;

/**
 * Schema steps: UPGRADES[v] takes a database of version v to v + 1 (v = 0: a new database).
 * A step may only add stores and indexes or rewrite rows in place; it runs inside the
 * versionchange transaction, so a failed step leaves the database at its old version.
 */
const UPGRADES: readonly Upgrade[] = [
  (db) => {
    db.createObjectStore(S.topics, { keyPath: 'topic' });
    db.createObjectStore(S.partitions, { keyPath: ['topic', 'partition'] });
    db.createObjectStore(S.segments, { keyPath: ['topic', 'partition', 'baseOffset'] });
    db.createObjectStore(S.batches, { keyPath: ['topic', 'partition', 'baseOffset'] });
    db.createObjectStore(S.producers, { keyPath: ['producerId', 'topic', 'partition'] });
    db.createObjectStore(S.meta);
  },
  // Version 2. An append writes only its batch, which carries the active segment's counters and
  // its producer's state (carried-state.ts), so the segment row and the producers row of the
  // last writer may be older than the log: code of version 1 would trust those rows and reuse
  // offsets, and the version keeps it out. A version 1 database already has that form (its rows
  // are current, its batches carry nothing). The batches store moves to out-of-line keys (same
  // keys, same values): renamed, copied into a new store, then dropped.
  (db, tx, KR) => {
    const rawDb = unwrap(db) as IDBDatabase;
    const old = (unwrap(tx) as IDBTransaction).objectStore(S.batches);
    old.name = 'batches-v1';
    const next = rawDb.createObjectStore(S.batches);
    if (KR) copyBatchesInChunks(old, next, KR, () => rawDb.deleteObjectStore('batches-v1'));
    else copyBatchesByCursor(old, next, () => rawDb.deleteObjectStore('batches-v1'));
  },
];

/**
 * Copies version 1's batch rows into `next`, a few MB per read (getAll with a count, from after
 * the last key copied): one round trip per read rather than per row, which is what a log of
 * many small batches (one row per append) spends its upgrade on, and memory bounded by
 * UPGRADE_READ_BYTES plus one row. A version 1 row's key is its [topic, partition, baseOffset].
 */
function copyBatchesInChunks(old: IDBObjectStore, next: IDBObjectStore, KR: KeyRangeCtor, end: () => void): void {
  let count = 8;
  const read = (after: IDBValidKey | null): void => {
    const r = old.getAll(after === null ? null : KR.lowerBound(after, true), count);
    r.onsuccess = () => {
      const rows = r.result as RecordBatch[];
      let bytes = 0;
      for (const b of rows) {
        next.put(b, [b.topic, b.partition, b.baseOffset]);
        bytes += b.sizeBytes > 0 ? b.sizeBytes : b.payload?.byteLength ?? 0;
      }
      if (rows.length < count) return end();
      const last = rows[rows.length - 1]!;
      // The next read's size follows the rows seen so far.
      count = Math.max(1, Math.min(1000, Math.floor(UPGRADE_READ_BYTES / Math.max(1, bytes / rows.length))));
      read([last.topic, last.partition, last.baseOffset]);
    };
  };
  read(null);
}

/** The same copy one row at a time, where no key range constructor is at hand. */
function copyBatchesByCursor(old: IDBObjectStore, next: IDBObjectStore, end: () => void): void {
  const cursor = old.openCursor();
  cursor.onsuccess = () => {
    const c = cursor.result;
    if (!c) return end();
    next.put(c.value, c.primaryKey);
    c.continue();
  };
}

/** The schema version this code writes: one per upgrade step. */
export const DB_VERSION = UPGRADES.length;

/** Key range constructor: the global one in browsers, injected in Node. */
export type KeyRangeCtor = typeof IDBKeyRange;

/** Why an open connection went away. */
export type LostReason = 'versionchange' | 'closed';

/** Options of openLogDb. */
export interface OpenLogDbOptions {
  /**
   * Called once when the connection is gone: another connection deletes or upgrades the
   * database (`versionchange`; this connection has already closed itself), or the browser
   * closed it (site data cleared).
   */
  onLost?: (reason: LostReason, newVersion: number | null) => void;
  /**
   * How long an open may wait for older connections that ignore `versionchange` (code that
   * predates this handling) before it fails with StorageError. Default 10000 ms.
   */
  blockedTimeoutMs?: number;
  /** The key range constructor of `factory`'s implementation (default: the global one), for upgrades. */
  IDBKeyRange?: KeyRangeCtor;
}

const IDB_CLASSES = ['IDBRequest', 'IDBOpenDBRequest', 'IDBDatabase', 'IDBTransaction', 'IDBObjectStore', 'IDBIndex', 'IDBCursor', 'IDBCursorWithValue'] as const;

/** Makes idb's `instanceof` checks work for `factory` (see the module comment). */
async function ensureIdbClasses(factory: IDBFactory): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.IDBRequest === 'function') return;
  const specifier = 'fake-indexeddb'; // a variable, so bundlers leave this optional import alone
  let mod: Record<string, unknown> | undefined;
  try {
    mod = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
  } catch { /* not installed */ }
  const Factory = mod?.IDBFactory as (new () => IDBFactory) | undefined;
  if (!mod || !Factory || !(factory instanceof Factory)) {
    throw new InvalidArgumentError('this IDBFactory has no IndexedDB classes in this realm: inject a fake-indexeddb factory, or define the IDB* globals of its implementation', { details: { field: 'indexedDB' } });
  }
  for (const n of IDB_CLASSES) if (g[n] === undefined) Object.defineProperty(g, n, { value: mod[n], configurable: true, writable: true });
}

/**
 * Opens (and creates or upgrades) a log database. Fails with IncompatibleVersionError when the
 * database is newer than this code, and with StorageError when older connections that ignore
 * `versionchange` keep an upgrade blocked past `blockedTimeoutMs`.
 */
export async function openLogDb(factory: IDBFactory, name: string, o: OpenLogDbOptions = {}): Promise<LogDb> {
  await ensureIdbClasses(factory);
  let request: IDBOpenDBRequest;
  try {
    request = factory.open(name, DB_VERSION);
  } catch (e) {
    throw wrapIdbError(e, `open ${name}`);
  }
  if (!(request instanceof IDBRequest)) {
    throw new InvalidArgumentError('the injected IDBFactory is of another IndexedDB implementation than this realm\'s globals', { details: { field: 'indexedDB' } });
  }
  let gaveUp: LanesError | undefined;
  let blockedTimer: ReturnType<typeof setTimeout> | undefined;
  request.addEventListener('upgradeneeded', (ev) => {
    // The older connections have closed: what remains is the upgrade itself, which may take
    // seconds on a large log and is not "blocked".
    clearTimeout(blockedTimer);
    const db = wrap(request.result) as unknown as IDBPDatabase<LogSchema>;
    const tx = wrap(request.transaction!) as unknown as IDBPTransaction<LogSchema, LogStoreName[], 'versionchange'>;
    const KR = o.IDBKeyRange ?? (globalThis as { IDBKeyRange?: KeyRangeCtor }).IDBKeyRange;
    for (let v = ev.oldVersion; v < DB_VERSION; v++) UPGRADES[v]!(db, tx, KR);
  });
  const blocked = new Promise<never>((_, reject) => {
    request.addEventListener('blocked', (ev) => {
      blockedTimer = setTimeout(() => {
        gaveUp = new StorageError(`opening ${name} at version ${DB_VERSION} is blocked: a connection at version ${ev.oldVersion} does not close`, {
          retriable: true, details: { database: name, oldVersion: ev.oldVersion, newVersion: DB_VERSION },
        });
        reject(gaveUp);
      }, o.blockedTimeoutMs ?? 10_000);
      (blockedTimer as { unref?: () => void }).unref?.();
    });
  });
  blocked.catch(() => undefined);
  let db: LogDb;
  try {
    db = await Promise.race([wrap(request) as Promise<unknown> as Promise<LogDb>, blocked]);
  } catch (e) {
    // An open that gave up may still succeed later: close that connection at once.
    if (gaveUp) request.addEventListener('success', () => request.result.close());
    const errName = (e as { name?: string } | null)?.name;
    if (errName === 'VersionError') throw await incompatible(factory, name, e);
    throw wrapIdbError(e, `open ${name}`);
  } finally {
    clearTimeout(blockedTimer);
  }
  let lost = false;
  const lose = (reason: LostReason, newVersion: number | null) => {
    if (lost) return;
    lost = true;
    o.onLost?.(reason, newVersion);
  };
  db.addEventListener('versionchange', (ev) => {
    db.close();
    lose('versionchange', ev.newVersion);
  });
  db.addEventListener('close', () => lose('closed', null));
  return db;
}

/** The IncompatibleVersionError of an open that met a newer database; reads its version without writing. */
async function incompatible(factory: IDBFactory, name: string, cause: unknown): Promise<IncompatibleVersionError> {
  const found = await new Promise<number | undefined>((resolve) => {
    try {
      const r = factory.open(name); // no version: opens the current one, never upgrades an existing database
      r.onupgradeneeded = () => r.transaction?.abort(); // it was deleted meanwhile: create nothing
      r.onsuccess = () => { const v = r.result.version; r.result.close(); resolve(v); };
      r.onerror = () => resolve(undefined);
    } catch {
      resolve(undefined);
    }
  });
  return new IncompatibleVersionError(
    `database ${name} has schema version ${found ?? 'newer'}, newer than version ${DB_VERSION} of this code: reload the page to run the newer lanes; nothing was written`,
    { cause, details: { database: name, databaseVersion: found ?? null, codeVersion: DB_VERSION } },
  );
}

/**
 * Resolves when the transaction commits; rejects with a wrapped error when it aborts.
 * `requests` are the promises of the transaction's write requests: their failures show as the
 * transaction's abort, so they are only observed here (never left unhandled). A failed request
 * is left to abort the transaction (its default action), so a transaction is all-or-nothing;
 * the first request error is kept because some engines report the quota on the request and
 * abort the transaction with a plain AbortError.
 */
export function done(tx: Pick<LogTx, 'mode'>, what: string, requests: readonly Promise<unknown>[] = []): Promise<void> {
  for (const r of requests) r.catch(() => undefined);
  const raw = unwrap(tx as LogTx);
  return new Promise((resolve, reject) => {
    let requestError: unknown = null;
    raw.addEventListener('complete', () => resolve());
    raw.addEventListener('abort', () => reject(wrapIdbError(isQuota(requestError) ? requestError : raw.error ?? requestError, what)));
    raw.addEventListener('error', (ev) => { requestError ??= (ev.target as IDBRequest | null)?.error ?? null; });
  });
}

/** The key of a batch row (the batches store takes keys out of line). */
export function batchKey(b: Pick<RecordBatch, 'topic' | 'partition' | 'baseOffset'>): [string, number, number] {
  return [b.topic, b.partition, b.baseOffset];
}

/**
 * A write transaction of the append path, on the plain IndexedDB objects: idb wraps a
 * transaction in a proxy with a cached completion promise (three listeners, two cache entries)
 * and each request in a promise, none of which the appender needs, because `done` reports the
 * transaction's outcome including a failed request. Values stay typed by the schema.
 * Measured (bench/ANALYSIS.md, "the awaited send's own time"): an awaited 1,000-record send
 * went from 1.67 to 1.39-1.47 ms with this and the encoder change, 0.35x -> 0.41x of the
 * pre-encoded floor; reads and the cleaner keep idb's typed proxies.
 */
export interface WriteTx {
  /** Puts a row; `key` for stores with out-of-line keys (batches, see batchKey). */
  put<N extends LogStoreName>(store: N, value: LogSchema[N]['value'], key?: LogSchema[N]['key']): void;
  /** Deletes a row. */
  delete<N extends LogStoreName>(store: N, key: LogSchema[N]['key']): void;
  /**
   * Asks the transaction to commit now, once its last request is issued, instead of when its
   * requests' success events have run (auto-commit): that saves a round trip to the storage
   * backend per transaction (IndexedDB 3.0 `commit()`, Chromium 76, Firefox 74, Safari 15). No
   * request may be issued afterwards. Where `commit` is missing, or the transaction is already
   * finishing (a request failed), auto-commit or the abort takes its course.
   */
  commit(): void;
  /** Resolves when the transaction commits; rejects with a wrapped error when it aborts (as {@link done}). */
  readonly done: Promise<void>;
}

/** Starts a write transaction of the append path (see WriteTx); a closed or closing connection throws a StorageError. */
export function writeTransaction(db: LogDb, stores: LogStoreName[], what: string): WriteTx {
  let raw: IDBTransaction & { commit?: () => void };
  try {
    raw = (unwrap(db) as IDBDatabase).transaction(stores, 'readwrite');
  } catch (e) {
    throw wrapIdbError(e, what);
  }
  const done = new Promise<void>((resolve, reject) => {
    let requestError: unknown = null;
    raw.oncomplete = () => resolve();
    raw.onabort = () => reject(wrapIdbError(isQuota(requestError) ? requestError : raw.error ?? requestError, what));
    // The first request error is kept: some engines report the quota on the request and abort
    // the transaction with a plain AbortError.
    raw.onerror = (ev) => { requestError ??= (ev.target as IDBRequest | null)?.error ?? null; };
  });
  // Unobserved until the caller awaits it (a failed put aborts the transaction before that).
  done.catch(() => undefined);
  return {
    put: (store, value, key) => {
      // No key argument at all for in-line keys: an explicit undefined must not read as a key given.
      if (key === undefined) raw.objectStore(store).put(value);
      else raw.objectStore(store).put(value, key);
    },
    delete: (store, key) => { raw.objectStore(store).delete(key); },
    commit: () => {
      try {
        raw.commit?.();
      } catch { /* not active any more: done reports how it ended */ }
    },
    done,
  };
}

/** Starts a transaction, turning a closed or closing connection into a StorageError. */
export function transaction<N extends LogStoreName, M extends IDBTransactionMode = 'readonly'>(db: LogDb, stores: N[], mode?: M, what = 'transaction'): IDBPTransaction<LogSchema, N[], M> {
  let tx: IDBPTransaction<LogSchema, N[], M>;
  try {
    tx = db.transaction(stores, mode);
  } catch (e) {
    throw wrapIdbError(e, what);
  }
  tx.done.catch(() => undefined); // idb's own completion promise: an abort is reported by done() or the request
  return tx;
}

function isQuota(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  const message = (e as { message?: string } | null)?.message ?? '';
  return name === 'QuotaExceededError' || /quota/i.test(message);
}

/**
 * Wraps an IndexedDB failure into a LanesError with the DOMException as `cause`.
 * A QuotaExceededError may surface as the transaction's error or inside an AbortError;
 * either way it becomes QuotaExceededError (not retriable). A connection that is closing
 * (the database is being deleted or upgraded) is a retriable StorageError: the broker reopens.
 */
export function wrapIdbError(e: unknown, what: string): LanesError {
  if (e instanceof LanesError) return e;
  const name = (e as { name?: string } | null)?.name;
  const message = (e as { message?: string } | null)?.message ?? String(e);
  if (isQuota(e)) {
    return new QuotaExceededError(`storage quota exceeded during ${what}; nothing of it was written`, { cause: e });
  }
  if (name === 'InvalidStateError') {
    return new StorageError(`the database was closed during ${what} (deleted, upgraded or cleared by another connection); retry: the broker reopens it`, { cause: e, retriable: true, details: { name } });
  }
  return new StorageError(`IndexedDB failed during ${what}: ${name ?? 'Error'}: ${message}`, { cause: e, details: { name } });
}
