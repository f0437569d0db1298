/**
 * The broker's side of `client.watch`: a long-poll that answers with the watched state
 * (topics' watermarks; groups' state, generation and committed offsets) as soon as it differs
 * from what the caller last saw. Clients learn of appends, topic changes, rebalances and commits
 * without polling, through any host (MessagePort or BroadcastChannel RPC), since a watch is a plain
 * request.
 *
 * Invariants:
 * - A watch answers at once when the current state differs from `known`; otherwise at the first
 *   change that makes it differ; otherwise after `maxWaitMs` or when the broker closes.
 * - The state is computed from memory (watermarks, committed offsets, the coordinator): a watch
 *   never reads IndexedDB, so waking every watch on every append stays cheap.
 * - The state's order is deterministic (topics sorted, groups as asked, offsets sorted), so two
 *   equal states serialize equally.
 */
import { InvalidArgumentError } from '../errors.js';
import type { GroupService } from '../group/group-service.js';
import type { LogStore } from '../log/log-store.js';
import type { WatchRequest, WatchState } from '../protocol/broker-api.js';

/** The parts of a broker a watch reads. */
export interface WatchSource {
  readonly store: LogStore;
  readonly groups: GroupService;
}

/** Wakes waiting watches when something they may look at changed. */
export class WatchHub {
  private wakers = new Set<() => void>();
  private closed = false;

  constructor(private readonly source: WatchSource) {}

  /** Something changed: every waiting watch recomputes its state. */
  poke(): void {
    for (const wake of [...this.wakers]) wake();
  }

  /** Ends every waiting watch (each answers with its current state). */
  close(): void {
    this.closed = true;
    this.poke();
  }

  /** The current state of what `req` watches. */
  state(req: WatchRequest): WatchState {
    const { store, groups } = this.source;
    const names = req.topics ?? [...store.topics.values()].filter((t) => !t.internal).map((t) => t.topic);
    const topics: WatchState['topics'] = [];
    for (const topic of [...new Set(names)].sort()) {
      const t = store.topics.get(topic);
      if (!t) continue;
      const partitions = [];
      for (let p = 0; p < t.numPartitions; p++) partitions.push({ partition: p, ...store.watermarks(topic, p), replicated: store.replicatedOf(topic, p) });
      topics.push({ topic, partitions });
    }
    const out: WatchState['groups'] = [];
    for (const groupId of req.groups ?? []) {
      const d = groups.describe(groupId);
      const committed = groups.offsets.list(groupId)
        .map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }))
        .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
      out.push({ groupId, state: d.state, generationId: d.generationId, committed });
    }
    return { topics, groups: out };
  }

  /** Answers when the state differs from `req.known`, or after `req.maxWaitMs`. */
  async watch(req: WatchRequest): Promise<WatchState> {
    if (!req || typeof req !== 'object') throw new InvalidArgumentError('watch needs a request object');
    if (req.topics !== undefined && (!Array.isArray(req.topics) || req.topics.some((t) => typeof t !== 'string'))) {
      throw new InvalidArgumentError('watch: `topics` must be an array of topic names');
    }
    if (req.groups !== undefined && (!Array.isArray(req.groups) || req.groups.some((g) => typeof g !== 'string' || g === ''))) {
      throw new InvalidArgumentError('watch: `groups` must be an array of group ids');
    }
    if (!Number.isFinite(req.maxWaitMs) || req.maxWaitMs < 0) throw new InvalidArgumentError(`watch: \`maxWaitMs\` must be a number >= 0; got ${String(req.maxWaitMs)}`);
    const known = req.known ? JSON.stringify(req.known) : '';
    let current = this.state(req);
    if (this.closed || req.maxWaitMs === 0 || JSON.stringify(current) !== known) return current;
    return new Promise<WatchState>((resolve) => {
      const finish = () => {
        this.wakers.delete(check);
        clearTimeout(timer);
        resolve(current);
      };
      const check = () => {
        current = this.state(req);
        if (this.closed || JSON.stringify(current) !== known) finish();
      };
      const timer = setTimeout(finish, req.maxWaitMs);
      (timer as { unref?: () => void }).unref?.();
      this.wakers.add(check);
    });
  }
}
