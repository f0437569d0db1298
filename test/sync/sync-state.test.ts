import { describe, expect, it } from 'vitest';
import {
  backoffDelay, initialSyncState, nextAction, reduceSync, syncStatusOf, tpKey,
  type SyncEvent, type SyncState,
} from '../../src/sync/sync-state.js';

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

  it('drops a removed topic', () => {
    const s = run(ready(5, 5), { type: 'removed', topic: 't' });
    expect(s.partitions).toEqual({});
    expect(nextAction(s, 0).kind).toBe('idle');
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

  it('keeps one push in flight at a time', () => {
    let s = ready(5, 5);
    const a = push(s, 0);
    s = run(s, { type: 'pushStarted', id: a.id, ranges: [{ topic: 't', partition: 0, from: 0, to: 5 }] });
    s = run(s, { type: 'appended', now: 0, topic: 't', partition: 0, logEnd: 9, sealedEnd: 9, pendingBytes: 90 });
    expect(nextAction(s, 5000)).toEqual({ kind: 'idle', reason: 'in-flight' });
    expect(syncStatusOf(s, 0).state).toBe('uploading');
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

  it('ignores the answer of a push that is not the one in flight', () => {
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

describe('sync-state: invariants under random event sequences', () => {
  it('replicated never decreases, pushes start at replicated, one in flight', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 100; trial++) {
      let s = initialSyncState(cfg);
      let now = 0;
      const ends = [0, 0, 0];
      let inFlight: { id: number; ranges: { topic: string; partition: number; from: number; to: number }[] } | null = null;
      let lastReplicated = [0, 0, 0];
      for (let step = 0; step < 80; step++) {
        now += Math.floor(rnd() * 80);
        const r = rnd();
        if (r < 0.3) {
          const p = Math.floor(rnd() * 3);
          ends[p]! += 1 + Math.floor(rnd() * 5);
          s = reduceSync(s, { type: 'appended', now, topic: 't', partition: p, logEnd: ends[p]!, sealedEnd: Math.floor(ends[p]! * rnd()), pendingBytes: 1 });
        } else if (r < 0.4) s = reduceSync(s, { type: 'lock', now, held: rnd() < 0.8 });
        else if (r < 0.45) s = reduceSync(s, rnd() < 0.5 ? { type: 'offline' } : { type: 'online', now });
        else if (inFlight && r < 0.75) {
          if (rnd() < 0.7) {
            s = reduceSync(s, { type: 'pushSucceeded', id: inFlight.id, now, acks: inFlight.ranges.map((x) => ({ ...x, replicated: x.to, bytes: 1 })) });
          } else {
            s = reduceSync(s, { type: 'pushFailed', id: inFlight.id, now, random: rnd(), error: { kind: rnd() < 0.2 ? 'unauthorized' : 'network', message: 'x' } });
          }
          inFlight = null;
        } else if (r < 0.8) s = reduceSync(s, { type: 'token', now, present: true });
        else {
          const a = nextAction(s, now);
          if (a.kind === 'push') {
            expect(inFlight).toBeNull();
            expect(s.holdsLock && s.online && s.auth === 'ok' && now >= s.retryAt).toBe(true);
            for (const p of a.partitions) expect(p.from).toBe(s.partitions[tpKey(p.topic, p.partition)]!.replicated);
            const ranges = a.partitions.map((p) => ({ ...p, to: s.partitions[tpKey(p.topic, p.partition)]!.logEnd }));
            s = reduceSync(s, { type: 'pushStarted', id: a.id, ranges });
            inFlight = { id: a.id, ranges };
          }
        }
        const reps = [0, 1, 2].map((p) => s.partitions[tpKey('t', p)]?.replicated ?? 0);
        reps.forEach((v, i) => expect(v).toBeGreaterThanOrEqual(lastReplicated[i]!));
        reps.forEach((v, i) => expect(v).toBeLessThanOrEqual(Math.max(ends[i]!, v)));
        lastReplicated = reps;
        if (inFlight) expect(nextAction(s, now + 1_000_000).kind).not.toBe('push');
      }
    }
  });
});
