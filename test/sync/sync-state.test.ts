import { describe, expect, it } from 'vitest';
import {
  backoffDelay, initialSyncState, nextAction, pushReady, reduceSync, tpKey,
  type SyncEvent, type SyncState,
} from '../../src/sync/sync-state.js';
import { syncStatusOf } from '../../src/sync/sync-status.js';

const cfg = { lingerMs: 100, maxRequestBytes: 1000, backoff: { initialRetryTime: 100, maxRetryTime: 1000, multiplier: 2, factor: 0.2 } };

function run(s: SyncState, ...events: SyncEvent[]): SyncState {
  return events.reduce(reduceSync, s);
}

/** A state holding the lock with one partition of `topic` that has `end` records, `sealed` of them sealed. */
function ready(end: number, sealed: number, now = 0, topic = 't'): SyncState {
  return run(initialSyncState(cfg),
    { type: 'lock', now, held: true },
    { type: 'partitions', now, partitions: [{ topic, partition: 0, replicated: 0, logEnd: end, sealedEnd: sealed, pendingBytes: end * 10 }] });
}

function push(s: SyncState, now: number) {
  const a = nextAction(s, now);
  if (a.kind !== 'push') throw new Error(`expected a push, got ${JSON.stringify(a)}`);
  return a;
}

describe('sync-state: what to send', () => {
  it('sends nothing when nothing is pending', () => {
    const s = run(initialSyncState(cfg), { type: 'lock', now: 0, held: true });
    expect(nextAction(s, 0)).toEqual({ kind: 'idle', reason: 'nothing-pending' });
  });

  it('pushes sealed segments at once, starting at the replicated offset', () => {
    const s = run(ready(10, 8), { type: 'replicated', topic: 't', partition: 0, replicated: 3 });
    const a = push(s, 0);
    expect(a.partitions).toEqual([{ topic: 't', partition: 0, from: 3 }]);
    expect(a.id).toBe(1);
    expect(a.maxBytes).toBe(1000);
  });

  it('lets the active tail linger, then pushes it', () => {
    const s = ready(5, 0, 1000);
    expect(nextAction(s, 1050)).toEqual({ kind: 'wait', until: 1100, reason: 'linger' });
    expect(push(s, 1100).partitions[0]!.from).toBe(0);
  });

  it('keeps the linger of the oldest unsent tail record when more records arrive', () => {
    let s = ready(0, 0, 0);
    s = run(s, { type: 'appended', now: 10, topic: 't', partition: 0, logEnd: 1, sealedEnd: 0, pendingBytes: 10 });
    s = run(s, { type: 'appended', now: 90, topic: 't', partition: 0, logEnd: 2, sealedEnd: 0, pendingBytes: 20 });
    expect(nextAction(s, 95)).toEqual({ kind: 'wait', until: 110, reason: 'linger' });
    expect(nextAction(s, 110).kind).toBe('push');
  });

  it('takes every pending partition once one is due, sealed backlog first', () => {
    let s = ready(3, 0, 0, 'a');
    s = run(s, { type: 'appended', now: 0, topic: 'b', partition: 1, logEnd: 9, sealedEnd: 7, pendingBytes: 90 });
    const a = push(s, 1);
    expect(a.partitions.map((p) => `${p.topic}-${p.partition}`)).toEqual(['b-1', 'a-0']);
  });

  it('never pushes a mirrored topic (no loops)', () => {
    const s = run(initialSyncState(cfg), { type: 'lock', now: 0, held: true },
      { type: 'partitions', now: 0, partitions: [{ topic: 'm', partition: 0, logEnd: 50, sealedEnd: 50, pendingBytes: 500, mirrored: true }] });
    expect(nextAction(s, 10_000)).toEqual({ kind: 'idle', reason: 'nothing-pending' });
    expect(syncStatusOf(s, 0).pendingRecords).toBe(0);
  });

  it('counts pending records per topic for topics named constructor and __proto__', () => {
    const s = run(initialSyncState(cfg), { type: 'lock', now: 0, held: true },
      { type: 'partitions', now: 0, partitions: [
        { topic: 'constructor', partition: 0, logEnd: 3, sealedEnd: 0, pendingBytes: 30 },
        { topic: 'constructor', partition: 1, logEnd: 2, sealedEnd: 0, pendingBytes: 20 },
        { topic: '__proto__', partition: 0, logEnd: 4, sealedEnd: 0, pendingBytes: 40 },
      ] });
    const { topics, pendingRecords } = syncStatusOf(s, 0);
    expect(pendingRecords).toBe(9);
    expect(Object.getPrototypeOf(topics)).toBe(Object.prototype);
    expect(Object.entries(topics)).toEqual([['constructor', { records: 5, bytes: 50 }], ['__proto__', { records: 4, bytes: 40 }]]);
  });

  it('drops a removed topic', () => {
    const s = run(ready(5, 5), { type: 'removed', topic: 't' });
    expect(s.partitions).toEqual({});
    expect(nextAction(s, 0).kind).toBe('idle');
  });

  it('a topic removed and created again while its push travels starts over: the old push acknowledges nothing of it', () => {
    let s = ready(5, 5);
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [{ topic: 't', partition: 0, from: 0, to: 5 }] },
      { type: 'removed', topic: 't' },
      // created again: 3 new records, none replicated
      { type: 'partitions', now: 1, partitions: [{ topic: 't', partition: 0, replicated: 0, logEnd: 3, sealedEnd: 3, pendingBytes: 30 }] });
    expect(s.partitions[tpKey('t', 0)]).toMatchObject({ replicated: 0, inFlightTo: -1 });
    s = run(s, { type: 'pushSucceeded', id: a.id, now: 2, acks: [{ topic: 't', partition: 0, replicated: 5, bytes: 50 }] });
    expect(s.partitions[tpKey('t', 0)]).toMatchObject({ replicated: 0, logEnd: 3 });
    expect(push(s, 2).partitions).toEqual([{ topic: 't', partition: 0, from: 0 }]);
  });
});

describe('sync-state: who may upload', () => {
  it('only the lock holder uploads', () => {
    let s = run(initialSyncState(cfg), { type: 'partitions', now: 0, partitions: [{ topic: 't', partition: 0, logEnd: 5, sealedEnd: 5, pendingBytes: 1 }] });
    expect(nextAction(s, 0)).toEqual({ kind: 'idle', reason: 'no-lock' });
    expect(syncStatusOf(s, 0).state).toBe('standby');
    s = run(s, { type: 'lock', now: 0, held: true });
    expect(nextAction(s, 0).kind).toBe('push');
    s = run(s, { type: 'lock', now: 0, held: false });
    expect(nextAction(s, 0)).toEqual({ kind: 'idle', reason: 'no-lock' });
  });

  it('waits while offline and resumes at once on online', () => {
    let s = run(ready(5, 5), { type: 'offline' });
    expect(nextAction(s, 0)).toEqual({ kind: 'idle', reason: 'offline' });
    expect(syncStatusOf(s, 0)).toMatchObject({ online: false, state: 'offline', pendingRecords: 5 });
    s = run(s, { type: 'online', now: 1 });
    expect(nextAction(s, 1).kind).toBe('push');
  });

  it('continues a partition in flight where its range ends, and opens no third push of it', () => {
    let s = ready(9, 9);
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [{ topic: 't', partition: 0, from: 0, to: 5 }] });
    expect(syncStatusOf(s, 0).state).toBe('uploading');
    const b = push(s, 0);
    expect(b.partitions).toEqual([{ topic: 't', partition: 0, from: 5 }]);
    s = run(s, { type: 'pushStarted', id: b.id, ranges: [{ topic: 't', partition: 0, from: 5, to: 7 }] });
    s = run(s, { type: 'appended', now: 0, topic: 't', partition: 0, logEnd: 20, sealedEnd: 20, pendingBytes: 200 });
    expect(nextAction(s, 5000)).toEqual({ kind: 'idle', reason: 'in-flight' });
  });

  it('ignores a pushStarted with a stale id', () => {
    const s = ready(5, 5);
    expect(run(s, { type: 'pushStarted', id: 7, ranges: [] })).toBe(s);
  });
});

describe('sync-state: acknowledgements', () => {
  it('advances replicated on success and resumes from there', () => {
    let s = ready(10, 10);
    const a = push(s, 0);
    s = run(s,
      { type: 'pushStarted', id: a.id, ranges: [{ topic: 't', partition: 0, from: 0, to: 6 }] },
      { type: 'pushSucceeded', id: a.id, now: 5, acks: [{ topic: 't', partition: 0, replicated: 6, bytes: 60 }] });
    expect(s.partitions[tpKey('t', 0)]).toMatchObject({ replicated: 6, pendingBytes: 40, inFlightTo: -1 });
    expect(s.lastSuccessAt).toBe(5);
    const b = push(s, 5);
    expect(b.id).toBe(2);
    expect(b.partitions[0]!.from).toBe(6);
  });

  it('never moves replicated backwards (late or duplicate answers)', () => {
    let s = run(ready(10, 10), { type: 'replicated', topic: 't', partition: 0, replicated: 8 });
    const a = push(s, 0);
    s = run(s,
      { type: 'pushStarted', id: a.id, ranges: [{ topic: 't', partition: 0, from: 8, to: 10 }] },
      { type: 'pushSucceeded', id: a.id, now: 1, acks: [{ topic: 't', partition: 0, replicated: 4, bytes: 0 }] });
    expect(s.partitions[tpKey('t', 0)]!.replicated).toBe(8);
    s = run(s, { type: 'replicated', topic: 't', partition: 0, replicated: 2 });
    expect(s.partitions[tpKey('t', 0)]!.replicated).toBe(8);
    s = run(s, { type: 'partitions', now: 2, partitions: [{ topic: 't', partition: 0, replicated: 1, logEnd: 10, sealedEnd: 10, pendingBytes: 20 }] });
    expect(s.partitions[tpKey('t', 0)]!.replicated).toBe(8);
  });

  it('ignores the answer of a push that is not in flight', () => {
    let s = ready(10, 10);
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [{ topic: 't', partition: 0, from: 0, to: 10 }] });
    const after = run(s, { type: 'pushSucceeded', id: a.id + 1, now: 1, acks: [{ topic: 't', partition: 0, replicated: 10, bytes: 100 }] });
    expect(after).toBe(s);
  });

  it('reports idle once everything is replicated, and progress while a backlog uploads', () => {
    let s = ready(100, 100);
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [{ topic: 't', partition: 0, from: 0, to: 40 }] },
      { type: 'pushSucceeded', id: a.id, now: 1, acks: [{ topic: 't', partition: 0, replicated: 40, bytes: 400 }] });
    expect(syncStatusOf(s, 1)).toMatchObject({ pendingRecords: 60, pendingBytes: 600, progress: { uploaded: 40, total: 100 }, topics: { t: { records: 60, bytes: 600 } } });
    const b = push(s, 1);
    s = run(s, { type: 'pushStarted', id: b.id, ranges: [{ topic: 't', partition: 0, from: 40, to: 100 }] },
      { type: 'pushSucceeded', id: b.id, now: 2, acks: [{ topic: 't', partition: 0, replicated: 100, bytes: 600 }] });
    expect(syncStatusOf(s, 2)).toMatchObject({ state: 'idle', pendingRecords: 0, pendingBytes: 0, progress: null, lastSuccessAt: 2 });
  });
});

describe('sync-state: failures and backoff', () => {
  it('backs off with growing, jittered, capped delays and resets on success', () => {
    let s = ready(10, 10);
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      const a = push(s, now);
      s = run(s, { type: 'pushStarted', id: a.id, ranges: [{ topic: 't', partition: 0, from: 0, to: 10 }] },
        { type: 'pushFailed', id: a.id, now, random: 0.5, error: { kind: 'network', message: 'Failed to fetch' } });
      const w = nextAction(s, now);
      expect(w.kind).toBe('wait');
      delays.push((w as { until: number }).until - now);
      now = (w as { until: number }).until;
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(syncStatusOf(s, now - 1)).toMatchObject({ state: 'waiting', lastError: { kind: 'network', message: 'Failed to fetch' } });
    const a = push(s, now);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [] }, { type: 'pushSucceeded', id: a.id, now, acks: [] });
    expect(s.attempt).toBe(0);
    expect(s.retryAt).toBe(0);
  });

  it('jitters within [1 - factor, 1 + factor) of the base delay', () => {
    const b = cfg.backoff;
    expect(backoffDelay(b, 1, 0)).toBe(80);
    expect(backoffDelay(b, 1, 0.999999)).toBe(120);
    expect(backoffDelay(b, 3, 0.25)).toBe(Math.round(400 * 0.9));
    expect(backoffDelay(b, 50, 0.5)).toBe(1000);
  });

  it('an online event or a new lock holder retries at once', () => {
    let s = ready(10, 10);
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [] }, { type: 'pushFailed', id: a.id, now: 0, random: 0, error: { kind: 'server', message: '503' } });
    expect(nextAction(s, 1).kind).toBe('wait');
    expect(nextAction(run(s, { type: 'offline' }, { type: 'online', now: 1 }), 1).kind).toBe('push');
    expect(nextAction(run(s, { type: 'lock', now: 1, held: false }, { type: 'lock', now: 1, held: true }), 1).kind).toBe('push');
  });

  it('a clock set back an hour holds neither a backoff nor a lingering tail for that hour', () => {
    const hour = 3_600_000, t = 10 * hour;
    // Backoff: a failure at t, then the wall clock steps back an hour.
    let s = ready(10, 10, t);
    const a = push(s, t);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [] }, { type: 'pushFailed', id: a.id, now: t, random: 0.5, error: { kind: 'network', message: 'Failed to fetch' } });
    expect(nextAction(s, t + 50)).toEqual({ kind: 'wait', until: t + 100, reason: 'backoff' });
    expect(nextAction(s, t - hour).kind).toBe('push');
    // Linger: the tail was appended at t, the clock then reads an hour earlier.
    const tail = run(initialSyncState(cfg), { type: 'lock', now: t, held: true },
      { type: 'partitions', now: t, partitions: [{ topic: 't', partition: 0, replicated: 0, logEnd: 3, sealedEnd: 0, pendingBytes: 30 }] });
    expect(nextAction(tail, t + 50)).toEqual({ kind: 'wait', until: t + 100, reason: 'linger' });
    expect(nextAction(tail, t - hour).kind).toBe('push');
  });

  it('a retry (the retry button) drops the backoff wait while online', () => {
    let s = ready(10, 10);
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [] }, { type: 'pushFailed', id: a.id, now: 0, random: 0, error: { kind: 'server', message: '503' } });
    expect(nextAction(s, 1).kind).toBe('wait');
    // Already online: an online event changes nothing, a retry does.
    expect(nextAction(run(s, { type: 'online', now: 1 }), 1).kind).toBe('wait');
    expect(nextAction(run(s, { type: 'retry', now: 1 }), 1).kind).toBe('push');
    // Offline, a retry cannot push.
    expect(nextAction(run(s, { type: 'offline' }, { type: 'retry', now: 1 }), 1).kind).not.toBe('push');
  });

  it('an unauthorized answer parks the uploader until a fresh token arrives', () => {
    let s = ready(10, 10);
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [] },
      { type: 'pushFailed', id: a.id, now: 0, random: 0, error: { kind: 'unauthorized', message: 'token expired', code: 'UNAUTHORIZED' } });
    expect(nextAction(s, 1_000_000)).toEqual({ kind: 'idle', reason: 'unauthorized' });
    expect(syncStatusOf(s, 0)).toMatchObject({ state: 'unauthorized', lastError: { kind: 'unauthorized' } });
    s = run(s, { type: 'token', now: 1, present: true });
    expect(nextAction(s, 1).kind).toBe('push');
  });

  it('a failed push leaves replicated where it was, so the retry sends the same range', () => {
    let s = run(ready(10, 10), { type: 'replicated', topic: 't', partition: 0, replicated: 4 });
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [{ topic: 't', partition: 0, from: 4, to: 10 }] },
      { type: 'pushFailed', id: a.id, now: 0, random: 0, error: { kind: 'network', message: 'x' } });
    expect(push(s, 10_000).partitions[0]!.from).toBe(4);
  });
});

/** A state holding the lock with partitions 0..n-1 of 't', each with `end` sealed records. */
function backlog(n: number, end: number, maxInFlightRequests = 4): SyncState {
  return run(initialSyncState({ ...cfg, maxInFlightRequests }),
    { type: 'lock', now: 0, held: true },
    { type: 'partitions', now: 0, partitions: Array.from({ length: n }, (_, p) => ({ topic: 't', partition: p, replicated: 0, logEnd: end, sealedEnd: end, pendingBytes: end * 10 })) });
}

const range = (partition: number, from: number, to: number) => ({ topic: 't', partition, from, to });

describe('sync-state: several pushes in flight', () => {
  it('sends different partitions in parallel, partitions not in flight first', () => {
    let s = backlog(3, 30);
    const started: number[] = [];
    for (let i = 0; i < 3; i++) {
      const a = push(s, 0);
      // The first partition offered is one not in flight yet, from its replicated offset.
      const p = a.partitions[0]!.partition;
      expect(a.partitions[0]).toEqual({ topic: 't', partition: p, from: 0 });
      expect(s.partitions[tpKey('t', p)]!.inFlightTo).toBe(-1);
      s = run(s, { type: 'pushStarted', id: a.id, ranges: [range(p, 0, 10)] });
      started[p] = a.id;
    }
    expect(started.map((id) => pushReady(s, id))).toEqual(['send', 'send', 'send']);
    // The fourth continues partition 0 after its range in flight, and waits for it.
    const d = push(s, 0);
    expect(d.partitions.map((p) => p.from)).toEqual([10, 10, 10]);
    s = run(s, { type: 'pushStarted', id: d.id, ranges: [range(0, 10, 20)] });
    expect(pushReady(s, d.id)).toBe('wait');
    // maxInFlightRequests (4) reached.
    expect(nextAction(s, 0)).toEqual({ kind: 'idle', reason: 'in-flight' });
    s = run(s, { type: 'pushSucceeded', id: started[0]!, now: 1, acks: [{ topic: 't', partition: 0, replicated: 10, bytes: 100 }] });
    expect(pushReady(s, d.id)).toBe('send');
    expect(s.partitions[tpKey('t', 0)]).toMatchObject({ replicated: 10, inFlightTo: 20 });
  });

  it('applies an acknowledgement that comes before an earlier one of its partition only after it (out of order)', () => {
    let s = backlog(1, 30);
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [range(0, 0, 10)] });
    const b = push(s, 0);
    s = run(s, { type: 'pushStarted', id: b.id, ranges: [range(0, 10, 20)] });
    s = run(s, { type: 'pushSucceeded', id: b.id, now: 1, acks: [{ topic: 't', partition: 0, replicated: 20, bytes: 100 }] });
    // Held back: the records of the first push are not known to be at the replica.
    expect(s.partitions[tpKey('t', 0)]!.replicated).toBe(0);
    expect(s.inFlight.map((f) => f.id)).toEqual([a.id, b.id]);
    s = run(s, { type: 'pushSucceeded', id: a.id, now: 2, acks: [{ topic: 't', partition: 0, replicated: 10, bytes: 100 }] });
    expect(s.partitions[tpKey('t', 0)]).toMatchObject({ replicated: 20, inFlightTo: -1, pendingBytes: 100 });
    expect(s.inFlight).toEqual([]);
    expect(push(s, 2).partitions[0]!.from).toBe(20);
  });

  it('a failed push drops the pushes waiting on it; the retry starts at replicated; their late answers are ignored', () => {
    let s = backlog(2, 30);
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [range(0, 0, 10)] });
    const b = push(s, 0);
    s = run(s, { type: 'pushStarted', id: b.id, ranges: [range(1, 0, 10)] });
    const c = push(s, 0);
    expect(c.partitions).toHaveLength(2);
    expect(c.partitions.every((p) => p.from === 10)).toBe(true);
    s = run(s, { type: 'pushStarted', id: c.id, ranges: [range(0, 10, 20), range(1, 10, 12)] });
    expect(pushReady(s, c.id)).toBe('wait');
    s = run(s, { type: 'pushFailed', id: a.id, now: 5, random: 0.5, error: { kind: 'server', message: '503' } });
    // c waited on a: dropped, never sent. b (another partition) goes on.
    expect(pushReady(s, c.id)).toBe('dropped');
    expect(pushReady(s, b.id)).toBe('send');
    expect(s.partitions[tpKey('t', 0)]).toMatchObject({ replicated: 0, inFlightTo: -1 });
    expect(s.partitions[tpKey('t', 1)]).toMatchObject({ replicated: 0, inFlightTo: 10 });
    const late = run(s, { type: 'pushSucceeded', id: c.id, now: 6, acks: [{ topic: 't', partition: 0, replicated: 20, bytes: 0 }] });
    expect(late).toBe(s);
    expect(nextAction(s, 5).kind).toBe('wait');
    s = run(s, { type: 'pushSucceeded', id: b.id, now: 6, acks: [{ topic: 't', partition: 1, replicated: 10, bytes: 100 }] });
    const retry = push(s, 6);
    expect([...retry.partitions].sort((x, y) => x.partition - y.partition)).toEqual([{ topic: 't', partition: 0, from: 0 }, { topic: 't', partition: 1, from: 10 }]);
  });

  it('refuses a push whose range starts past what is acknowledged or in flight (an earlier push failed while it was read)', () => {
    let s = backlog(1, 30);
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [range(0, 0, 10)] });
    const b = push(s, 0);
    s = run(s, { type: 'pushFailed', id: a.id, now: 0, random: 0, error: { kind: 'network', message: 'x' } });
    expect(run(s, { type: 'pushStarted', id: b.id, ranges: [range(0, 10, 20)] })).toBe(s);
  });

  it('maxInFlightRequests 1 keeps one push in flight at a time', () => {
    let s = backlog(3, 30, 1);
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [range(0, 0, 10)] });
    expect(nextAction(s, 5000)).toEqual({ kind: 'idle', reason: 'in-flight' });
  });
});

describe('sync-state: a batch refused for good', () => {
  const tooLarge = { kind: 'rejected' as const, message: 'batches[1].records[0] is 2097152 bytes; at most 1048576', code: 'RECORD_TOO_LARGE', field: 'batches[1].records[0]' };

  /** Partitions a-0 (10 sealed records) and b-0 (10 sealed), one push carrying both failed: a-0's batch at 4 refused. */
  function held(): SyncState {
    let s = ready(10, 10, 0, 'a');
    s = run(s, { type: 'appended', now: 0, topic: 'b', partition: 0, logEnd: 10, sealedEnd: 10, pendingBytes: 100 });
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [{ topic: 'a', partition: 0, from: 0, to: 10 }, { topic: 'b', partition: 0, from: 0, to: 10 }] });
    return run(s, { type: 'pushFailed', id: a.id, now: 5, random: 0.5, error: tooLarge, refused: { topic: 'a', partition: 0, baseOffset: 4 } });
  }

  it('holds back its partition only: no backoff, the others and what precedes the batch go at once', () => {
    const s = held();
    expect(s.attempt).toBe(0);
    expect(s.blocked[tpKey('a', 0)]).toEqual({ topic: 'a', partition: 0, baseOffset: 4, code: 'RECORD_TOO_LARGE', message: tooLarge.message, at: 5 });
    const a = push(s, 5);
    expect([...a.partitions].sort((x, y) => (x.topic < y.topic ? -1 : 1))).toEqual([{ topic: 'a', partition: 0, from: 0, to: 4 }, { topic: 'b', partition: 0, from: 0 }]);
    const st = syncStatusOf(s, 5);
    expect(st.blocked.map((b) => `${b.topic}-${b.partition}@${b.baseOffset}`)).toEqual(['a-0@4']);
    expect(st.retryAt).toBeNull();
    expect(st.lastError).toMatchObject({ code: 'RECORD_TOO_LARGE' });
  });

  it('sends nothing of the held partition once it reached the refused batch; its records stay pending', () => {
    let s = run(held(), { type: 'replicated', topic: 'a', partition: 0, replicated: 4 }, { type: 'replicated', topic: 'b', partition: 0, replicated: 10 });
    expect(nextAction(s, 10)).toEqual({ kind: 'idle', reason: 'nothing-pending' });
    expect(syncStatusOf(s, 10)).toMatchObject({ pendingRecords: 6, blocked: [{ topic: 'a', partition: 0, baseOffset: 4 }] });
    // New records behind the refused batch do not release it.
    s = run(s, { type: 'appended', now: 11, topic: 'a', partition: 0, logEnd: 12, sealedEnd: 10, pendingBytes: 80 });
    expect(nextAction(s, 11)).toEqual({ kind: 'idle', reason: 'nothing-pending' });
  });

  it('is released by retry, a new lock holder, coming back online, or the batch acknowledged elsewhere', () => {
    const s = held();
    expect(run(s, { type: 'retry', now: 6 }).blocked).toEqual({});
    expect(run(s, { type: 'lock', now: 6, held: false }, { type: 'lock', now: 7, held: true }).blocked).toEqual({});
    expect(run(s, { type: 'offline' }, { type: 'online', now: 7 }).blocked).toEqual({});
    expect(run(s, { type: 'replicated', topic: 'a', partition: 0, replicated: 5 }).blocked).toEqual({});
    expect(run(s, { type: 'removed', topic: 'a' }).blocked).toEqual({});
    expect(push(run(s, { type: 'retry', now: 6 }), 6).partitions).toContainEqual({ topic: 'a', partition: 0, from: 0 });
  });

  it('a rejection naming no batch, or a 5xx, still backs off every partition', () => {
    let s = ready(10, 10, 0, 'a');
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [{ topic: 'a', partition: 0, from: 0, to: 10 }] });
    const r = run(s, { type: 'pushFailed', id: a.id, now: 5, random: 0.5, error: { kind: 'rejected', message: 'bad', code: 'INVALID_ARGUMENT', field: 'body' } });
    expect(r.blocked).toEqual({});
    expect(nextAction(r, 5)).toMatchObject({ kind: 'wait', reason: 'backoff' });
    const f = run(s, { type: 'pushFailed', id: a.id, now: 5, random: 0.5, error: { kind: 'server', message: 'down' }, refused: { topic: 'a', partition: 0, baseOffset: 0 } });
    expect(f.blocked).toEqual({});
  });
});

describe('sync-state: invariants under random event sequences', () => {
  it('replicated never decreases and moves only over acknowledged ranges in order; one push per partition on the wire', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 150; trial++) {
      const max = 1 + Math.floor(rnd() * 4);
      let s = initialSyncState({ ...cfg, maxInFlightRequests: max });
      let now = 0;
      const ends = [0, 0, 0];
      // Pushes the simulated shell has open (started), and those of them it sent.
      let open: { id: number; ranges: { topic: string; partition: number; from: number; to: number }[]; sent: boolean }[] = [];
      // What the replica holds per partition, as contiguous ends (the shell sends in order).
      const atReplica = [0, 0, 0];
      let lastReplicated = [0, 0, 0];
      for (let step = 0; step < 120; step++) {
        now += Math.floor(rnd() * 80);
        const r = rnd();
        open = open.filter((o) => pushReady(s, o.id) !== 'dropped' || o.sent);
        if (r < 0.25) {
          const p = Math.floor(rnd() * 3);
          ends[p]! += 1 + Math.floor(rnd() * 5);
          s = reduceSync(s, { type: 'appended', now, topic: 't', partition: p, logEnd: ends[p]!, sealedEnd: Math.floor(ends[p]! * rnd()), pendingBytes: 1 });
        } else if (r < 0.32) s = reduceSync(s, { type: 'lock', now, held: rnd() < 0.8 });
        else if (r < 0.36) s = reduceSync(s, rnd() < 0.5 ? { type: 'offline' } : { type: 'online', now });
        else if (r < 0.45) {
          // Send a push whose turn came (any of them: replies may come in any order).
          const ready = open.filter((o) => !o.sent && pushReady(s, o.id) === 'send');
          const o = ready[Math.floor(rnd() * ready.length)];
          if (o) {
            for (const x of o.ranges) {
              // In order per partition: a range never starts past what the replica holds.
              expect(x.from).toBeLessThanOrEqual(atReplica[x.partition]!);
              atReplica[x.partition] = Math.max(atReplica[x.partition]!, x.to);
            }
            o.sent = true;
          }
        } else if (r < 0.72) {
          // A sent push settles (replies in any order); an unsent one may fail before sending.
          const o = open[Math.floor(rnd() * open.length)];
          if (o && (o.sent || rnd() < 0.3)) {
            if (o.sent && rnd() < 0.75) s = reduceSync(s, { type: 'pushSucceeded', id: o.id, now, acks: o.ranges.map((x) => ({ ...x, replicated: x.to, bytes: 1 })) });
            else s = reduceSync(s, { type: 'pushFailed', id: o.id, now, random: rnd(), error: { kind: rnd() < 0.2 ? 'unauthorized' : 'network', message: 'x' } });
            open = open.filter((x) => x !== o);
          }
        } else if (r < 0.77) s = reduceSync(s, { type: 'token', now, present: true });
        else {
          const a = nextAction(s, now);
          if (a.kind === 'push') {
            expect(s.inFlight.length).toBeLessThan(max);
            expect(s.holdsLock && s.online && s.auth === 'ok' && now >= s.retryAt).toBe(true);
            for (const p of a.partitions) {
              const sp = s.partitions[tpKey(p.topic, p.partition)]!;
              expect(p.from).toBe(Math.max(sp.replicated, sp.inFlightTo));
            }
            const ranges = a.partitions.slice(0, 1 + Math.floor(rnd() * a.partitions.length))
              .map((p) => ({ ...p, to: Math.min(s.partitions[tpKey(p.topic, p.partition)]!.logEnd, p.from + 1 + Math.floor(rnd() * 6)) }));
            s = reduceSync(s, { type: 'pushStarted', id: a.id, ranges });
            expect(s.inFlight.at(-1)!.id).toBe(a.id);
            open.push({ id: a.id, ranges, sent: false });
          }
        }
        const reps = [0, 1, 2].map((p) => s.partitions[tpKey('t', p)]?.replicated ?? 0);
        reps.forEach((v, i) => expect(v).toBeGreaterThanOrEqual(lastReplicated[i]!));
        // Nothing counts as replicated that the replica does not hold.
        reps.forEach((v, i) => expect(v).toBeLessThanOrEqual(atReplica[i]!));
        lastReplicated = reps;
        // At most one push per partition may go on the wire at a time.
        const sendable = s.inFlight.filter((f) => pushReady(s, f.id) === 'send');
        const wire = open.filter((o) => o.sent && s.inFlight.some((f) => f.id === o.id && f.acks === null));
        for (let p = 0; p < 3; p++) {
          expect(new Set([...sendable, ...wire].filter((f) => f.ranges.some((x) => x.partition === p)).map((f) => f.id)).size).toBeLessThanOrEqual(1);
        }
        expect(s.inFlight.length).toBeLessThanOrEqual(max);
      }
    }
  });
});
