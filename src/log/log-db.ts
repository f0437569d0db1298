/**
 * The only file that names object stores, DB_VERSION and upgrades.
 *
 * The log talks to IndexedDB directly rather than through a promise wrapper: it must run on
 * any injected IDBFactory (fake-indexeddb in Node, without globals), and the append path is
 * a handful of requests per group commit where proxies buy nothing.
 *
 * Stores (all keys are arrays, so one topic-partition is one contiguous key range):
 * - topics      [topic]                               -> TopicRow
 * - partitions  [topic, partition]                    -> PartitionRow (logStartOffset)
 * - segments    [topic, partition, baseOffset]        -> SegmentRow
 * - batches     [topic, partition, baseOffset]        -> RecordBatch (one value per batch)
 * - producers   [producerId, topic, partition]        -> ProducerRow (idempotence state)
 * - meta        key                                   -> any (nextProducerId)
 */
import { QuotaExceededError, StorageError, LanesError } from '../errors.js';
import type { TopicConfig } from '../protocol/topic-config.js';

/** Bump on every schema change, with an upgrade step below. */
export const DB_VERSION = 1;

/** Store names. */
export const S = {
  topics: 'topics',
  partitions: 'partitions',
  segments: 'segments',
  batches: 'batches',
  producers: 'producers',
  meta: 'meta',
} as const;

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

/** Key range constructor: the global one in browsers, injected in Node. */
export type KeyRangeCtor = typeof IDBKeyRange;

/** Opens (and creates or upgrades) a log database. */
export function openLogDb(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    let req: IDBOpenDBRequest;
    try {
      req = factory.open(name, DB_VERSION);
    } catch (e) {
      reject(wrapIdbError(e, `open ${name}`));
      return;
    }
    req.onupgradeneeded = (ev) => {
      const db = req.result;
      if (ev.oldVersion < 1) {
        db.createObjectStore(S.topics, { keyPath: 'topic' });
        db.createObjectStore(S.partitions, { keyPath: ['topic', 'partition'] });
        db.createObjectStore(S.segments, { keyPath: ['topic', 'partition', 'baseOffset'] });
        db.createObjectStore(S.batches, { keyPath: ['topic', 'partition', 'baseOffset'] });
        db.createObjectStore(S.producers, { keyPath: ['producerId', 'topic', 'partition'] });
        db.createObjectStore(S.meta);
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(wrapIdbError(req.error, `open ${name}`));
    req.onblocked = () => { /* an older connection is closing; open completes when it does */ };
  });
}

/** Promise of one request's result. */
export function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/**
 * Resolves when the transaction commits; rejects with a wrapped error when it aborts.
 * A failed request is left to abort the transaction (its default action), so a transaction
 * is all-or-nothing; the first request error is kept because some engines report the quota
 * on the request and abort the transaction with a plain AbortError.
 */
export function done(tx: IDBTransaction, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let requestError: unknown = null;
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(wrapIdbError(isQuota(requestError) ? requestError : tx.error ?? requestError, what));
    tx.onerror = (ev) => { requestError ??= (ev.target as IDBRequest | null)?.error ?? null; };
  });
}

function isQuota(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  const message = (e as { message?: string } | null)?.message ?? '';
  return name === 'QuotaExceededError' || /quota/i.test(message);
}

/**
 * Wraps an IndexedDB failure into a LanesError with the DOMException as `cause`.
 * A QuotaExceededError may surface as the transaction's error or inside an AbortError;
 * either way it becomes QuotaExceededError (not retriable).
 */
export function wrapIdbError(e: unknown, what: string): LanesError {
  if (e instanceof LanesError) return e;
  const name = (e as { name?: string } | null)?.name;
  const message = (e as { message?: string } | null)?.message ?? String(e);
  if (isQuota(e)) {
    return new QuotaExceededError(`storage quota exceeded during ${what}; nothing of it was written`, { cause: e });
  }
  return new StorageError(`IndexedDB failed during ${what}: ${name ?? 'Error'}: ${message}`, { cause: e, details: { name } });
}
