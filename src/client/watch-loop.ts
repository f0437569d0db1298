/**
 * The loop of a `client.watch` (see watch.ts), loaded on its first `next()`. Each broker answer
 * is a whole state (watermarks, group generations, committed offsets); this module turns
 * successive states into change events.
 *
 * Invariants:
 * - The first events describe the whole watched state; afterwards an event is emitted only for
 *   what changed, so a consumer that applies every event holds the broker's current state.
 * - The broker wakes the watch on appends, topic changes, rebalances and commits (a long-poll
 *   like fetch's): nothing polls. `minIntervalMs` only spaces out answers under heavy writes.
 * - The watch holds one reference on the client's connection from its first `next()` until it
 *   ends (close(), `break` out of `for await`, the signal, or an error that is not retriable);
 *   retriable errors (broker moving, request timeouts) are retried with a capped backoff.
 */
import { isRetriable } from '../errors.js';
import type { WatchState } from '../protocol/broker-api.js';
import type { Connection } from './connection.js';
import type { Watch, WatchEvent, WatchOptions } from './watch.js';

/** How long one long-poll waits at most before asking again (no change meanwhile). */
const MAX_WAIT_MS = 30_000;

/** The events that turn state `prev` (null: nothing seen yet) into `next`. */
export function watchEvents(prev: WatchState | null, next: WatchState): WatchEvent[] {
  const out: WatchEvent[] = [];
  const names = next.topics.map((t) => t.topic);
  if (!prev || prev.topics.map((t) => t.topic).join('\u0000') !== names.join('\u0000')) out.push({ type: 'topics', topics: names });
  const before = new Map(prev?.topics.map((t) => [t.topic, JSON.stringify(t.partitions)]));
  for (const t of next.topics) {
    if (before.get(t.topic) === JSON.stringify(t.partitions)) continue;
    out.push({
      type: 'offsets', topic: t.topic,
      partitions: t.partitions.map((p) => ({ partition: p.partition, offset: String(p.high), high: String(p.high), low: String(p.low), replicated: String(p.replicated ?? 0) })),
    });
  }
  const groups = new Map(prev?.groups.map((g) => [g.groupId, g]));
  for (const g of next.groups) {
    const old = groups.get(g.groupId);
    if (!old || old.state !== g.state || old.generationId !== g.generationId) {
      out.push({ type: 'group', groupId: g.groupId, state: g.state, generationId: g.generationId });
    }
    if (!old || JSON.stringify(old.committed) !== JSON.stringify(g.committed)) {
      out.push({ type: 'committed', groupId: g.groupId, offsets: g.committed.map((c) => ({ topic: c.topic, partition: c.partition, offset: String(c.offset) })) });
    }
  }
  return out;
}

/** Runs a watch with checked options. */
export function runWatch(conn: Connection, options: WatchOptions & { minIntervalMs: number }): Watch {
  const { topics, groups, signal, minIntervalMs } = options;
  let closed = false;
  let onClose!: () => void;
  const whenClosed = new Promise<null>((r) => { onClose = () => r(null); });
  const pause = (ms: number) => Promise.race([whenClosed, new Promise<null>((r) => setTimeout(() => r(null), ms))]);

  async function* run(): AsyncGenerator<WatchEvent, void, undefined> {
    if (closed) return;
    await conn.acquire();
    try {
      let known: WatchState | null = null;
      let failures = 0;
      while (!closed) {
        let next: WatchState | null;
        try {
          const broker = await conn.broker();
          next = await Promise.race([broker.watch({ topics, groups, known, maxWaitMs: MAX_WAIT_MS }), whenClosed]);
        } catch (e) {
          if (closed) return;
          // A broker that moves (leader tab closed) answers BrokerUnavailable for a moment; a
          // watch is long-lived, so retriable failures are retried for as long as it runs.
          if (!isRetriable(e)) throw e;
          await pause(Math.min(5000, 50 * 2 ** Math.min(++failures, 7)));
          continue;
        }
        if (!next || closed) return;
        failures = 0;
        const events = watchEvents(known, next);
        known = next;
        for (const e of events) yield e;
        if (minIntervalMs > 0) await pause(minIntervalMs);
      }
    } finally {
      closed = true;
      await conn.release();
    }
  }

  const gen = run();
  const close = () => {
    if (closed) return;
    closed = true;
    onClose();
    void gen.return(undefined);
  };
  if (signal?.aborted) close();
  else signal?.addEventListener('abort', close, { once: true });
  return Object.assign(gen, { close }) as Watch;
}
