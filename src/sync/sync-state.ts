/**
 * The sync state machine [pure]: what to upload next per partition, what the replica
 * acknowledged, what is in flight, when to retry, whether the uploader may run at all.
 * The I/O shell (`sync-agent.ts`) feeds it events and performs the action {@link nextAction}
 * names; nothing here reads a clock, a random source, the network or IndexedDB.
 *
 * Offsets are the device's local log offsets; `replicated` is the end of what the replica
 * acknowledged (every local record below it is held by the replica).
 *
 * Invariants:
 * - `replicated` of a partition never decreases, and a push of a partition always starts at its
 *   `replicated` offset: after a reload or crash the agent resumes exactly where the replica's
 *   acknowledgements stopped (the replica dedupes the overlap it may see again).
 * - At most `maxInFlightRequests` push requests are in flight. A push starts only when the
 *   uploader holds the sync lock, believes it is online, has a usable token, and the backoff
 *   deadline has passed.
 * - Per partition, requests go out in offset order and one at a time: a push that carries a
 *   partition already in flight continues where that range ends, and is sent only once every
 *   earlier push sharing a partition with it succeeded ({@link pushReady}); so the replica
 *   stores each partition's batches in order. A partition is in at most two pushes at once (one
 *   on the wire, the next one read and compressed, ready to go), and a push of partitions not in
 *   flight is preferred, so different partitions travel in parallel.
 * - Acknowledgements apply in order per partition: a success reported for a push whose earlier
 *   pushes are still open is kept and applied after them. A failed push drops every push that
 *   waits on it (they were not sent; their ranges go again from `replicated`).
 * - A partition is part of a push when it has unsent records in a sealed segment, or when its
 *   unsent tail (active segment) is older than `lingerMs`; or when another partition already
 *   makes the push happen (the request carries every partition with something to send).
 * - Mirrored topics (the local copy of a replica topic) are never pushed back: no loops.
 * - Backoff after consecutive failures: `min(maxRetryTime, initialRetryTime * multiplier^(n-1))`,
 *   scaled by a jitter factor in [1 - factor, 1 + factor) from the injected random number;
 *   a success, a fresh token, an `online` event or a new lock holder resets it.
 * - A wall clock set back never stretches a wait: a backoff deadline further away than the
 *   longest backoff, or a tail appended "in the future", means the clock went back, and the
 *   wait is over (else an hour's step back held uploads for an hour).
 * - A batch the replica refuses for good (a 4xx naming that batch, e.g. a record over its
 *   record limit) holds back its partition only (`blocked`): no backoff for the others, which
 *   keep uploading; the held partition is not pushed again until a trigger that could change the
 *   answer: an explicit `retry`, a new lock holder (reload, service worker) or coming back
 *   online. It is released too once its batch is no longer the next to send (acknowledged by
 *   another uploader, or gone from the log).
 * - An Unauthorized answer parks the uploader (`auth: 'expired'`) until a fresh token arrives;
 *   nothing is retried with the token the replica refused.
 * - Events for unknown partitions create them; a removed topic drops its partitions and its
 *   ranges in open pushes, so the answer of a push in flight for it is ignored for that topic
 *   (a topic deleted and created again starts from what the shell reports, not from the old
 *   topic's acknowledgements).
 */
import type { SyncBlockedPartition } from '../protocol/broker-api.js';
import { tpKey } from '../protocol/topic-partition.js';

/** Backoff settings, with KafkaJS's retry names. */
export interface BackoffConfig {
  initialRetryTime: number;
  maxRetryTime: number;
  multiplier: number;
  /** Jitter: each delay is scaled by a factor in [1 - factor, 1 + factor). */
  factor: number;
}

/** Tunables of the uploader. */
export interface SyncConfig {
  /** How long the active segment's tail may wait for more records before it is pushed. */
  lingerMs: number;
  /** Upper bound of one push request's (uncompressed) record bytes. */
  maxRequestBytes: number;
  /** Push requests open at once (being read, compressed, sent or waiting for their turn), KafkaJS's name. */
  maxInFlightRequests: number;
  backoff: BackoffConfig;
}

/** Defaults: a short linger, 1 MiB requests, 4 open at once, KafkaJS-like backoff up to 30 s. */
export const DEFAULT_SYNC_CONFIG: SyncConfig = {
  lingerMs: 200,
  maxRequestBytes: 1024 * 1024,
  maxInFlightRequests: 4,
  backoff: { initialRetryTime: 300, maxRetryTime: 30_000, multiplier: 2, factor: 0.2 },
};

/** One partition as the uploader sees it. */
export interface SyncPartition {
  topic: string;
  partition: number;
  /** End of what the replica acknowledged (local offsets). */
  replicated: number;
  /** The local log end offset. */
  logEnd: number;
  /** End of the last sealed segment (records below it are in immutable segments). */
  sealedEnd: number;
  /** Stored bytes not yet acknowledged (as the shell estimates them from segments). */
  pendingBytes: number;
  /** When the oldest unsent tail record was appended, or -1 when the tail is sent. */
  tailSince: number;
  /** End offset of the last range in flight for this partition (the next push starts there), or -1. */
  inFlightTo: number;
  /** A mirror target: never pushed. */
  mirrored: boolean;
}

/** Why the last push failed, as the shell classifies it. */
export interface SyncFailure {
  /** network: unreachable; unauthorized: token refused or expired; rejected: the replica refused the data (4xx); server: 5xx. */
  kind: 'network' | 'unauthorized' | 'rejected' | 'server';
  message: string;
  code?: string;
  /** The part of the request the replica named as at fault (e.g. `batches[2].records[0]`). */
  field?: string;
}

/** A partition held back because the replica refused its next batch for good (the status's `blocked` entries). */
export type BlockedPartition = SyncBlockedPartition;

/** One local range a push carries. */
export interface PushRange {
  topic: string;
  partition: number;
  from: number;
  to: number;
}

/** A push request started and not yet settled. */
export interface InFlightPush {
  id: number;
  ranges: PushRange[];
  /** Earlier open pushes sharing a partition with this one: it is sent after they succeed. */
  after: number[];
  /** Acknowledgements reported before an earlier push settled, applied once they are (or null). */
  acks: PushAck[] | null;
}

/** The uploader's whole state. */
export interface SyncState {
  config: SyncConfig;
  partitions: Record<string, SyncPartition>;
  online: boolean;
  /** ok: usable; expired: refused by the replica, waiting for a fresh one; missing: none configured. */
  auth: 'ok' | 'expired' | 'missing';
  holdsLock: boolean;
  /** Open pushes, oldest first. */
  inFlight: InFlightPush[];
  /** Ids handed to pushes; the next push gets `lastPushId + 1`. */
  lastPushId: number;
  /** Consecutive failures. */
  attempt: number;
  /** No push before this time (backoff). */
  retryAt: number;
  lastSuccessAt: number | null;
  lastError: (SyncFailure & { at: number }) | null;
  /** Partitions held back by a permanent refusal, by {@link tpKey}. */
  blocked: Record<string, BlockedPartition>;
  /** Records pending when the current backlog started uploading (for progress), or 0. */
  backlogRecords: number;
}

/** Partition facts reported by the shell. */
export interface PartitionFacts {
  topic: string;
  partition: number;
  replicated?: number;
  logEnd: number;
  sealedEnd: number;
  pendingBytes: number;
  mirrored?: boolean;
}

/** An acknowledgement of one partition's range. */
export interface PushAck {
  topic: string;
  partition: number;
  /** The new end of what the replica holds (local offsets). */
  replicated: number;
  /** Stored bytes the acknowledged batches took, subtracted from pendingBytes. */
  bytes: number;
}

/** Inputs of the reducer. Every event that may schedule work carries `now`. */
export type SyncEvent =
  | { type: 'partitions'; now: number; partitions: PartitionFacts[] }
  | { type: 'appended'; now: number } & PartitionFacts
  | { type: 'removed'; topic: string }
  | { type: 'online'; now: number }
  | { type: 'offline' }
  /** Someone asked to retry now (a retry button): the backoff is dropped. */
  | { type: 'retry'; now: number }
  | { type: 'lock'; now: number; held: boolean }
  | { type: 'token'; now: number; present: boolean }
  | { type: 'replicated'; topic: string; partition: number; replicated: number }
  | { type: 'pushStarted'; id: number; ranges: PushRange[] }
  | { type: 'pushSucceeded'; id: number; now: number; acks: PushAck[] }
  /** `refused`: the batch the replica refused for good (a rejection naming it), which holds back its partition only. */
  | { type: 'pushFailed'; id: number; now: number; random: number; error: SyncFailure; refused?: { topic: string; partition: number; baseOffset: number } };

/** What the shell should do next. */
export type SyncAction =
  /** in-flight: what is pending is in flight already, or `maxInFlightRequests` pushes are open. */
  | { kind: 'idle'; reason: 'nothing-pending' | 'no-lock' | 'offline' | 'unauthorized' | 'in-flight' }
  | { kind: 'wait'; until: number; reason: 'linger' | 'backoff' }
  /** `to`: where a held partition's push must stop (its refused batch), when it is held. */
  | { kind: 'push'; id: number; partitions: { topic: string; partition: number; from: number; to?: number }[]; maxBytes: number };

export { tpKey };

/** A fresh state. */
export function initialSyncState(config: Partial<SyncConfig> = {}, auth: SyncState['auth'] = 'ok', online = true): SyncState {
  return {
    config: { ...DEFAULT_SYNC_CONFIG, ...config, backoff: { ...DEFAULT_SYNC_CONFIG.backoff, ...config.backoff } },
    partitions: {}, online, auth, holdsLock: false, inFlight: [], lastPushId: 0, attempt: 0, retryAt: 0,
    lastSuccessAt: null, lastError: null, blocked: {}, backlogRecords: 0,
  };
}

function merge(prev: SyncPartition | undefined, f: PartitionFacts, now: number): SyncPartition {
  const replicated = Math.max(prev?.replicated ?? 0, f.replicated ?? 0);
  const logEnd = Math.max(f.logEnd, replicated);
  const hasTail = logEnd > Math.max(replicated, f.sealedEnd, prev?.inFlightTo ?? -1);
  return {
    topic: f.topic, partition: f.partition, replicated, logEnd,
    sealedEnd: Math.min(Math.max(f.sealedEnd, prev?.sealedEnd ?? 0), logEnd),
    pendingBytes: Math.max(0, f.pendingBytes),
    tailSince: hasTail ? (prev && prev.tailSince >= 0 ? prev.tailSince : now) : -1,
    inFlightTo: prev?.inFlightTo ?? -1,
    mirrored: f.mirrored ?? prev?.mirrored ?? false,
  };
}

function pendingRecords(s: SyncState): number {
  let n = 0;
  for (const p of Object.values(s.partitions)) if (!p.mirrored) n += p.logEnd - p.replicated;
  return n;
}

/** Delay before retry `attempt` (1-based), jittered by `random` in [0, 1). */
export function backoffDelay(b: BackoffConfig, attempt: number, random: number): number {
  const base = Math.min(b.maxRetryTime, b.initialRetryTime * b.multiplier ** Math.max(0, attempt - 1));
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(base * (1 - b.factor + 2 * b.factor * r));
}

function resetBackoff(s: SyncState): SyncState {
  return { ...s, attempt: 0, retryAt: 0 };
}

/** Drops every hold: a trigger that could change the replica's answer. */
function release(s: SyncState): SyncState {
  return Object.keys(s.blocked).length === 0 ? s : { ...s, blocked: {} };
}

/** Keeps the holds whose batch is still the partition's next to send. */
function pruneBlocked(s: SyncState): SyncState {
  let blocked: Record<string, BlockedPartition> | null = null;
  for (const [k, b] of Object.entries(s.blocked)) {
    const p = s.partitions[k];
    if (p && p.replicated <= b.baseOffset && b.baseOffset < p.logEnd) continue;
    blocked ??= { ...s.blocked };
    delete blocked[k];
  }
  return blocked ? { ...s, blocked } : s;
}

/** The reducer: the state after `e`. Never mutates its input. */
export function reduceSync(s: SyncState, e: SyncEvent): SyncState {
  switch (e.type) {
    case 'partitions': {
      const partitions = { ...s.partitions };
      for (const f of e.partitions) partitions[tpKey(f.topic, f.partition)] = merge(partitions[tpKey(f.topic, f.partition)], f, e.now);
      return pruneBlocked({ ...s, partitions });
    }
    case 'appended': {
      const k = tpKey(e.topic, e.partition);
      return pruneBlocked({ ...s, partitions: { ...s.partitions, [k]: merge(s.partitions[k], e, e.now) } });
    }
    case 'removed': {
      const partitions: Record<string, SyncPartition> = {};
      for (const [k, p] of Object.entries(s.partitions)) if (p.topic !== e.topic) partitions[k] = p;
      const inFlight = s.inFlight.map((f) => (f.ranges.some((r) => r.topic === e.topic) ? { ...f, ranges: f.ranges.filter((r) => r.topic !== e.topic) } : f));
      return pruneBlocked({ ...s, partitions, inFlight });
    }
    case 'online':
      return s.online ? s : release(resetBackoff({ ...s, online: true }));
    case 'retry':
      return release(resetBackoff(s));
    case 'offline':
      return { ...s, online: false };
    case 'lock':
      return e.held === s.holdsLock ? s : e.held ? release(resetBackoff({ ...s, holdsLock: true })) : { ...s, holdsLock: false };
    case 'token':
      return e.present ? resetBackoff({ ...s, auth: 'ok' }) : { ...s, auth: 'missing' };
    case 'replicated': {
      const k = tpKey(e.topic, e.partition);
      const p = s.partitions[k];
      if (!p || e.replicated <= p.replicated) return s;
      return pruneBlocked({ ...s, partitions: { ...s.partitions, [k]: advance(p, e.replicated, 0) } });
    }
    case 'pushStarted': {
      if (e.id !== s.lastPushId + 1 || s.inFlight.length >= s.config.maxInFlightRequests) return s;
      // A range must start where its partition's acknowledged or in-flight data ends: past it
      // (an earlier push failed while this one was read) it would leave a hole at the replica.
      for (const r of e.ranges) {
        const p = s.partitions[tpKey(r.topic, r.partition)];
        if (p && r.from > Math.max(p.replicated, p.inFlightTo)) return s;
      }
      const partitions = { ...s.partitions };
      for (const r of e.ranges) {
        const p = partitions[tpKey(r.topic, r.partition)];
        if (p) partitions[tpKey(r.topic, r.partition)] = { ...p, inFlightTo: Math.max(p.inFlightTo, r.to) };
      }
      const keys = new Set(e.ranges.map((r) => tpKey(r.topic, r.partition)));
      const after = s.inFlight.filter((f) => f.ranges.some((r) => keys.has(tpKey(r.topic, r.partition)))).map((f) => f.id);
      const backlogRecords = s.backlogRecords > 0 ? s.backlogRecords : pendingRecords(s);
      return { ...s, partitions, inFlight: [...s.inFlight, { id: e.id, ranges: e.ranges, after, acks: null }], lastPushId: e.id, backlogRecords };
    }
    case 'pushSucceeded': {
      if (!s.inFlight.some((f) => f.id === e.id && f.acks === null)) return s;
      let next: SyncState = { ...s, inFlight: s.inFlight.map((f) => (f.id === e.id ? { ...f, acks: e.acks } : f)) };
      // Apply, in order, every acknowledged push none of whose earlier pushes is still open.
      for (let progress = true; progress;) {
        progress = false;
        for (const f of next.inFlight) {
          if (f.acks === null || f.after.some((id) => next.inFlight.some((g) => g.id === id))) continue;
          next = applyAcks(next, f);
          progress = true;
          break;
        }
      }
      next = pruneBlocked({ ...next, attempt: 0, retryAt: 0, lastSuccessAt: e.now });
      return pendingRecords(next) === 0 ? { ...next, backlogRecords: 0 } : next;
    }
    case 'pushFailed': {
      if (!s.inFlight.some((f) => f.id === e.id)) return s;
      // The failed push and every push waiting on it (directly or through another) are dropped.
      const dropped = new Set([e.id]);
      for (const f of s.inFlight) if (f.after.some((id) => dropped.has(id))) dropped.add(f.id);
      const inFlight = s.inFlight.filter((f) => !dropped.has(f.id));
      const attempt = s.attempt + 1;
      const base: SyncState = { ...s, inFlight, partitions: inFlightEnds(s.partitions, inFlight), lastError: { ...e.error, at: e.now } };
      if (e.error.kind === 'unauthorized') return { ...base, auth: 'expired', attempt: 0, retryAt: 0 };
      // A refusal of one batch for good holds back its partition only; the others go on at once.
      const r = e.refused;
      const k = r && tpKey(r.topic, r.partition);
      const p = k && s.partitions[k];
      if (e.error.kind === 'rejected' && r && k && p && r.baseOffset >= p.replicated && s.inFlight.find((f) => f.id === e.id)!.ranges.some((x) => x.topic === r.topic && x.partition === r.partition)) {
        const held: BlockedPartition = { topic: r.topic, partition: r.partition, baseOffset: r.baseOffset, code: e.error.code ?? 'REJECTED', message: e.error.message, at: e.now };
        return { ...base, blocked: { ...s.blocked, [k]: held } };
      }
      return { ...base, attempt, retryAt: e.now + backoffDelay(s.config.backoff, attempt, e.random) };
    }
  }
}

/** Applies a settled push's acknowledgements and closes it. */
function applyAcks(s: SyncState, f: InFlightPush): SyncState {
  const inFlight = s.inFlight.filter((g) => g.id !== f.id);
  const partitions = inFlightEnds(s.partitions, inFlight);
  for (const a of f.acks ?? []) {
    // A range dropped since (its topic was removed) acknowledges nothing of what is there now.
    if (!f.ranges.some((r) => r.topic === a.topic && r.partition === a.partition)) continue;
    const k = tpKey(a.topic, a.partition);
    const p = partitions[k];
    if (p) partitions[k] = advance(p, a.replicated, a.bytes);
  }
  return { ...s, inFlight, partitions };
}

/** Partitions with `inFlightTo` recomputed from the open pushes. */
function inFlightEnds(ps: Record<string, SyncPartition>, open: readonly InFlightPush[]): Record<string, SyncPartition> {
  const ends = new Map<string, number>();
  for (const f of open) for (const r of f.ranges) {
    const k = tpKey(r.topic, r.partition);
    ends.set(k, Math.max(ends.get(k) ?? -1, r.to));
  }
  const out: Record<string, SyncPartition> = {};
  for (const [k, p] of Object.entries(ps)) {
    const to = ends.get(k) ?? -1;
    out[k] = p.inFlightTo === to ? p : { ...p, inFlightTo: to };
  }
  return out;
}

/**
 * Whether the shell may send push `id` now: 'send' once every earlier push sharing a partition
 * with it succeeded and was applied, 'wait' while one is open, 'dropped' when it is no longer
 * open (an earlier push failed, or it settled).
 */
export function pushReady(s: SyncState, id: number): 'send' | 'wait' | 'dropped' {
  const f = s.inFlight.find((g) => g.id === id);
  if (!f || f.acks !== null) return 'dropped';
  return f.after.some((a) => s.inFlight.some((g) => g.id === a)) ? 'wait' : 'send';
}

function advance(p: SyncPartition, replicated: number, bytes: number): SyncPartition {
  const r = Math.max(p.replicated, replicated);
  const logEnd = Math.max(p.logEnd, r);
  return {
    ...p, replicated: r, logEnd, sealedEnd: Math.min(Math.max(p.sealedEnd, 0), logEnd),
    pendingBytes: r >= logEnd ? 0 : Math.max(0, p.pendingBytes - bytes),
    tailSince: r >= logEnd ? -1 : p.tailSince,
  };
}

/** Whether a partition has something to upload. */
function hasPending(p: SyncPartition): boolean {
  return !p.mirrored && p.logEnd > p.replicated;
}

/** What to do now. A push gets the id the shell must report in pushStarted/Succeeded/Failed. */
export function nextAction(s: SyncState, now: number): SyncAction {
  // A held partition sends what comes before its refused batch, then waits for a trigger that
  // could change the replica's answer.
  const limitOf = (p: SyncPartition) => s.blocked[tpKey(p.topic, p.partition)]?.baseOffset ?? p.logEnd;
  const pending = Object.values(s.partitions).filter((p) => hasPending(p) && p.replicated < limitOf(p));
  if (pending.length === 0) return { kind: 'idle', reason: 'nothing-pending' };
  if (!s.holdsLock) return { kind: 'idle', reason: 'no-lock' };
  if (s.auth !== 'ok') return { kind: 'idle', reason: 'unauthorized' };
  if (!s.online) return { kind: 'idle', reason: 'offline' };
  if (s.inFlight.length >= s.config.maxInFlightRequests) return { kind: 'idle', reason: 'in-flight' };
  // Where the next push of a partition starts: after its range in flight, if any. A partition in
  // two open pushes (one on the wire, the next one waiting) gets no third.
  const open = new Map<string, number>();
  for (const f of s.inFlight) for (const r of f.ranges) open.set(tpKey(r.topic, r.partition), (open.get(tpKey(r.topic, r.partition)) ?? 0) + 1);
  const startOf = (p: SyncPartition) => Math.max(p.replicated, p.inFlightTo);
  const sendable = pending.filter((p) => startOf(p) < limitOf(p) && (open.get(tpKey(p.topic, p.partition)) ?? 0) < 2);
  if (sendable.length === 0) return { kind: 'idle', reason: 'in-flight' };
  const b = s.config.backoff;
  if (now < s.retryAt && s.retryAt - now <= b.maxRetryTime * (1 + b.factor) + 1) return { kind: 'wait', until: s.retryAt, reason: 'backoff' };
  const due = (p: SyncPartition) => p.sealedEnd > startOf(p) || (p.tailSince >= 0 && (now - p.tailSince >= s.config.lingerMs || p.tailSince > now));
  if (!sendable.some(due)) {
    let until = Infinity;
    for (const p of sendable) if (p.tailSince >= 0) until = Math.min(until, p.tailSince + s.config.lingerMs);
    // A pending partition without a tail timestamp (facts loaded at start) is due at once.
    if (until === Infinity) until = now;
    if (until > now) return { kind: 'wait', until, reason: 'linger' };
  }
  // Partitions not in flight first (they travel in parallel), then the oldest work: sealed
  // backlog, then by how long the tail waited.
  const inFlightFirst = (p: SyncPartition) => Number(p.inFlightTo < 0);
  const sealed = (p: SyncPartition) => Number(p.sealedEnd > startOf(p));
  sendable.sort((a, b) => inFlightFirst(b) - inFlightFirst(a) || sealed(b) - sealed(a) || (a.tailSince < 0 ? -1 : b.tailSince < 0 ? 1 : a.tailSince - b.tailSince));
  return {
    kind: 'push', id: s.lastPushId + 1, maxBytes: s.config.maxRequestBytes,
    partitions: sendable.map((p) => (s.blocked[tpKey(p.topic, p.partition)] ? { topic: p.topic, partition: p.partition, from: startOf(p), to: limitOf(p) } : { topic: p.topic, partition: p.partition, from: startOf(p) })),
  };
}
