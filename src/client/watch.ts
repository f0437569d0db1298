/**
 * `client.watch({ topics, groups })`: live changes of the log as an async iterator, for
 * dashboards and dev tools. The options are checked here; the watch itself (watch-loop.ts) is
 * loaded on the first `next()`.
 */
import { InvalidArgumentError } from '../errors.js';
import type { PartitionOffsets } from '../types.js';
import type { Connection } from './connection.js';

/** A change seen by `client.watch`. Offsets are decimal strings, as everywhere in the API. */
export type WatchEvent =
  /** The set of watched topics that exist changed (sorted names). */
  | { type: 'topics'; topics: string[] }
  /** A topic's watermarks changed (records appended, deleted or compacted; partitions added). */
  | { type: 'offsets'; topic: string; partitions: PartitionOffsets[] }
  /** A group's state or generation changed: a rebalance started or completed, or it emptied. */
  | { type: 'group'; groupId: string; state: string; generationId: number }
  /** A group's committed offsets changed. */
  | { type: 'committed'; groupId: string; offsets: { topic: string; partition: number; offset: string }[] };

/** Options of `client.watch`. */
export interface WatchOptions {
  /** Topics to watch; every (non-internal) topic when omitted. */
  topics?: string[];
  /** Consumer groups to watch. */
  groups?: string[];
  /** Ends the watch when aborted. */
  signal?: AbortSignal;
  /** Least time between two broker answers, in ms (default 50): bounds the event rate under heavy writes. */
  minIntervalMs?: number;
}

/** A running watch: `for await (const e of watch)`; `close()` ends it. */
export interface Watch extends AsyncIterableIterator<WatchEvent> {
  close(): void;
}

/** Creates a watch on a connection (see `Client.watch`); its loop loads on the first `next()`. */
export function createWatch(conn: Connection, options: WatchOptions = {}): Watch {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`watch: options must be an object; got ${String(options)}`);
  const { topics, groups, signal } = options;
  if (signal !== undefined && (typeof signal?.addEventListener !== 'function' || typeof signal.aborted !== 'boolean')) {
    throw new InvalidArgumentError('watch: `signal` must be an AbortSignal');
  }
  if (topics !== undefined && (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string' || t === ''))) {
    throw new InvalidArgumentError('watch: `topics` must be an array of topic names');
  }
  if (groups !== undefined && (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string' || g === ''))) {
    throw new InvalidArgumentError('watch: `groups` must be an array of group ids');
  }
  const minIntervalMs = options.minIntervalMs ?? 50;
  // Above 2^31-1 ms a timer fires at once (browsers and Node clamp it to 1 ms): refused.
  if (!Number.isFinite(minIntervalMs) || minIntervalMs < 0 || minIntervalMs > 0x7fffffff) throw new InvalidArgumentError(`watch: \`minIntervalMs\` must be a number from 0 to 2147483647; got ${String(options.minIntervalMs)}`);
  let inner: Watch | undefined;
  let closed = false;
  const gen = (async function* () {
    const w = (await import('./watch-loop.js')).runWatch(conn, { ...options, minIntervalMs });
    if (closed) return w.close();
    yield* (inner = w);
  })();
  return Object.assign(gen, { close() { closed = true; inner?.close(); void gen.return(undefined); } });
}
