/**
 * The uploader's status as a UI shows it [pure]: derived from the sync state machine's state
 * (`sync-state.ts`) and the time; nothing here changes state.
 *
 * Invariants:
 * - `state` is 'uploading' while a push is open, else what {@link nextAction} would do now.
 * - Pending counts leave out mirrored topics (they are never pushed); they include the records
 *   of held partitions (`blocked`), which are not replicated.
 * - `blocked` lists the held partitions sorted by topic then partition.
 */
import { nextAction, type BlockedPartition, type SyncFailure, type SyncState } from './sync-state.js';

/** Pending records and bytes of one topic. */
export interface TopicPending {
  records: number;
  bytes: number;
}

/** The status a UI shows, derived from the state. */
export interface SyncStatusCore {
  online: boolean;
  /** What the uploader is doing: idle (all replicated), uploading, waiting (linger/backoff), offline, unauthorized (waiting for a fresh token), standby (another context uploads). */
  state: 'idle' | 'uploading' | 'waiting' | 'offline' | 'unauthorized' | 'standby';
  pendingRecords: number;
  pendingBytes: number;
  topics: Record<string, TopicPending>;
  lastSuccessAt: number | null;
  lastError: (SyncFailure & { at: number }) | null;
  /** While a backlog uploads: records uploaded of the backlog, and its size. */
  progress: { uploaded: number; total: number } | null;
  /** When the next retry is due, while backing off. */
  retryAt: number | null;
  /** Partitions held back because the replica refused their next batch for good (the others keep uploading). */
  blocked: BlockedPartition[];
}

/** Derives the status of a state at `now`. */
export function syncStatusOf(s: SyncState, now: number): SyncStatusCore {
  // A Map, turned into a plain object at the end: `topics['constructor'] ??= ...` would read
  // Object.prototype's member, and `topics['__proto__'] = ...` would replace the prototype.
  const topics = new Map<string, TopicPending>();
  let records = 0, bytes = 0;
  for (const p of Object.values(s.partitions)) {
    if (p.mirrored) continue;
    let t = topics.get(p.topic);
    if (!t) topics.set(p.topic, (t = { records: 0, bytes: 0 }));
    const r = p.logEnd - p.replicated;
    t.records += r;
    t.bytes += p.pendingBytes;
    records += r;
    bytes += p.pendingBytes;
  }
  const a = nextAction(s, now);
  let state: SyncStatusCore['state'];
  if (s.inFlight.length > 0) state = 'uploading';
  else if (a.kind === 'idle') {
    state = a.reason === 'nothing-pending' ? 'idle' : a.reason === 'no-lock' ? 'standby' : a.reason === 'offline' ? 'offline' : a.reason === 'unauthorized' ? 'unauthorized' : 'uploading';
  } else state = a.kind === 'push' ? 'uploading' : 'waiting';
  const total = Math.max(s.backlogRecords, records);
  return {
    online: s.online, state, pendingRecords: records, pendingBytes: bytes, topics: Object.fromEntries(topics),
    lastSuccessAt: s.lastSuccessAt, lastError: s.lastError,
    progress: s.backlogRecords > 0 ? { uploaded: total - records, total } : null,
    retryAt: s.retryAt > now ? s.retryAt : null,
    blocked: Object.values(s.blocked).sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition)),
  };
}
