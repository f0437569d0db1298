/**
 * The broker's side of consumer groups: the coordinator (generations, assignment, fencing),
 * committed offsets in `__consumer_offsets`, liveness through the members' Web Locks, and the
 * BroadcastChannel on which tabs hear that their group is rebalancing.
 *
 * Invariants:
 * - A member's lock `lanes:<db>:member:<memberId>` is requested by the broker once the member
 *   joined; the request is granted exactly when the member's context released it (closed,
 *   crashed, left), and then the member is removed at once: no waiting for sessionTimeout.
 * - Commits are fenced by the coordinator before they are appended.
 */
import { GroupIdNotFoundError, GroupNotEmptyError, InvalidArgumentError } from '../errors.js';
import type { Appender } from '../log/appender.js';
import type { LogStore } from '../log/log-store.js';
import {
  names, type CommittedOffsetInfo, type GroupDescription, type GroupHeartbeatRequest, type GroupHeartbeatResponse, type GroupMemberRef,
  type JoinGroupRequest, type JoinGroupResult, type OffsetCommitRequest,
} from '../protocol/broker-api.js';
import { GroupCoordinator, type GroupEvent } from './coordinator.js';
import { MemberAgents } from './member-agents.js';
import { OffsetStore } from './offset-store.js';

/** Consumer groups of one database. */
export class GroupService {
  readonly coordinator: GroupCoordinator;
  /** The consumers' memberships, run here on their behalf (groupHeartbeat). */
  readonly agents: MemberAgents;
  private channel: BroadcastChannel | undefined;
  private watched = new Set<string>();
  private abort = new AbortController();
  private listeners = new Set<(e: GroupEvent) => void>();

  private constructor(private readonly store: LogStore, readonly offsets: OffsetStore, private readonly database: string) {
    if (typeof BroadcastChannel === 'function') {
      this.channel = new BroadcastChannel(names.groupChannel(database));
      (this.channel as { unref?: () => void }).unref?.();
    }
    const setTimer = (fn: () => void, ms: number) => {
      const t = setTimeout(fn, ms);
      (t as { unref?: () => void }).unref?.();
      return () => clearTimeout(t);
    };
    this.coordinator = new GroupCoordinator({
      now: () => store.now(),
      setTimer,
      partitionCount: (topic) => store.topics.get(topic)?.numPartitions,
      onGroupEvent: (e) => {
        this.agents.onGroupEvent(e);
        try { this.channel?.postMessage(e); } catch { /* channel closed */ }
        for (const l of this.listeners) l(e);
      },
    });
    this.agents = new MemberAgents(this.coordinator, { now: () => store.now(), setTimer });
  }

  /** Calls `listener` with every group event (the ones also broadcast to tabs); returns the unsubscribe. */
  onEvent(listener: (e: GroupEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Posts a notice to the tabs on the group channel (e.g. a failed cleaner run). */
  notify(notice: { type: string; [k: string]: unknown }): void {
    try { this.channel?.postMessage(notice); } catch { /* channel closed */ }
  }

  /** Loads committed offsets and starts the coordinator. */
  static async open(store: LogStore, appender: Appender, database: string): Promise<GroupService> {
    const offsets = await OffsetStore.load(store, appender);
    return new GroupService(store, offsets, database);
  }

  private watch(groupId: string, memberId: string): void {
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    const key = `${groupId}\u0000${memberId}`;
    if (!locks || this.watched.has(key)) return;
    this.watched.add(key);
    locks.request(names.memberLock(this.database, memberId), { signal: this.abort.signal }, async () => {
      this.watched.delete(key);
      this.agents.gone(groupId, memberId);
      this.coordinator.memberGone(groupId, memberId);
    }).catch(() => undefined);
  }

  /** Offset commits of each group that passed their generation check and are being written. */
  private readonly inFlight = new Map<string, Set<Promise<unknown>>>();

  /**
   * Runs a commit (check, then write) so that a join answered meanwhile waits for it: a commit
   * checked against generation g may land after the group moved to g + 1, and the new owner of
   * a partition must start from that commit, not from the offset before it (Kafka answers
   * UNSTABLE_OFFSET_COMMIT until a transaction's offsets are written).
   */
  async tracked<T>(groupId: string, commit: () => Promise<T>): Promise<T> {
    let set = this.inFlight.get(groupId);
    if (!set) this.inFlight.set(groupId, (set = new Set()));
    const p = commit();
    set.add(p);
    try {
      return await p;
    } finally {
      set.delete(p);
      if (set.size === 0 && this.inFlight.get(groupId) === set) this.inFlight.delete(groupId);
    }
  }

  async join(req: JoinGroupRequest): Promise<JoinGroupResult> {
    if (!req || typeof req.groupId !== 'string' || req.groupId === '') throw new InvalidArgumentError('groupId must be a non-empty string');
    if (typeof req.memberId !== 'string' || req.memberId === '') throw new InvalidArgumentError('memberId must be a non-empty string');
    this.watch(req.groupId, req.memberId);
    const r = await this.coordinator.join(req);
    await this.settled(req.groupId);
    return { ...r, committed: this.committedOf(req.groupId, r.assignment), leaderId: this.describe(req.groupId).members[0]?.memberId };
  }

  async heartbeat(ref: GroupMemberRef): Promise<void> {
    this.coordinator.heartbeat(ref);
  }

  /** A consumer's heartbeat: its broker-side member joins and rebalances for it; answers its target. */
  async groupHeartbeat(req: GroupHeartbeatRequest): Promise<GroupHeartbeatResponse> {
    if (!req || typeof req.groupId !== 'string' || req.groupId === '') throw new InvalidArgumentError('groupId must be a non-empty string');
    if (typeof req.memberId !== 'string' || req.memberId === '') throw new InvalidArgumentError('memberId must be a non-empty string');
    this.watch(req.groupId, req.memberId);
    const a = await this.agents.heartbeat(req);
    await this.settled(req.groupId);
    return { groupId: req.groupId, memberId: req.memberId, ...a, committed: this.committedOf(req.groupId, a.assignment), leaderId: this.describe(req.groupId).members[0]?.memberId };
  }

  /** Waits for the group's offset commits that passed their check and are being written. */
  private async settled(groupId: string): Promise<void> {
    const pending = this.inFlight.get(groupId);
    if (pending) await Promise.allSettled([...pending]);
  }

  private committedOf(groupId: string, assignment: { [topic: string]: number[] }): JoinGroupResult['committed'] {
    const committed: JoinGroupResult['committed'] = [];
    for (const [topic, parts] of Object.entries(assignment)) {
      for (const partition of parts) {
        const c = this.offsets.get(groupId, topic, partition);
        if (c) committed.push({ topic, partition, offset: c.offset });
      }
    }
    return committed;
  }

  async leave(ref: { groupId: string; memberId: string }): Promise<void> {
    if (typeof ref?.groupId !== 'string' || typeof ref.memberId !== 'string') throw new InvalidArgumentError('leaveGroup needs groupId and memberId');
    this.agents.leave(ref.groupId, ref.memberId);
  }

  async commit(req: OffsetCommitRequest): Promise<void> {
    await this.tracked(req.groupId, async () => {
      await this.checkCommit(req);
      await this.offsets.commit(req.groupId, req.offsets);
    });
  }

  /**
   * Validates a commit without writing it: offsets of existing partitions, and the member's
   * generation (or, for memberId '' and generationId -1, an empty group). Throws when refused.
   */
  async checkCommit(req: OffsetCommitRequest): Promise<void> {
    await this.checkOffsets(req.offsets);
    if (req.memberId === '' && req.generationId === -1) {
      const d = this.describe(req.groupId);
      if (d.members.length > 0) {
        throw new GroupNotEmptyError(`group ${JSON.stringify(req.groupId)} has active members; stop them before setting offsets`, { details: { groupId: req.groupId } });
      }
    } else {
      this.coordinator.validateCommit(req, req.offsets);
    }
  }

  /** Validates offsets to commit: existing partitions, non-negative integer offsets. */
  async checkOffsets(offsets: OffsetCommitRequest['offsets']): Promise<void> {
    if (!Array.isArray(offsets)) throw new InvalidArgumentError('commitOffsets needs offsets');
    for (const o of offsets) {
      await this.store.usePartition(o.topic, o.partition);
      this.store.partition(o.topic, o.partition);
      if (!Number.isSafeInteger(o.offset) || o.offset < 0) throw new InvalidArgumentError(`commit offset for ${o.topic}-${o.partition} must be a non-negative integer; got ${o.offset}`);
    }
  }

  fetchOffsets(groupId: string, topics?: string[]): CommittedOffsetInfo[] {
    if (!topics) return this.offsets.list(groupId).map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata }));
    const out: CommittedOffsetInfo[] = [];
    for (const topic of topics) {
      const t = this.store.topic(topic);
      for (let p = 0; p < t.numPartitions; p++) {
        const c = this.offsets.get(groupId, topic, p);
        out.push({ topic, partition: p, offset: c?.offset ?? -1, metadata: c?.metadata ?? null });
      }
    }
    return out;
  }

  describe(groupId: string): GroupDescription {
    const d = this.coordinator.describeGroup(groupId);
    if (d.state !== 'Dead' || !this.offsets.groupIds().includes(groupId)) return d;
    // Known only by its committed offsets (the broker restarted since it had members).
    return { ...d, state: 'Empty' };
  }

  list(): { groupId: string; protocolType: 'consumer'; state: string }[] {
    const out = new Map<string, { groupId: string; protocolType: 'consumer'; state: string }>();
    for (const g of this.offsets.groupIds()) out.set(g, { groupId: g, protocolType: 'consumer', state: 'Empty' });
    for (const g of this.coordinator.listGroups()) out.set(g.groupId, g);
    return [...out.values()];
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    for (const g of groupIds) {
      const d = this.describe(g);
      if (d.state === 'Dead') throw new GroupIdNotFoundError(`group ${JSON.stringify(g)} does not exist`, { details: { groupId: g } });
      if (d.members.length > 0) throw new GroupNotEmptyError(`group ${JSON.stringify(g)} has active members`, { details: { groupId: g } });
    }
    for (const g of groupIds) {
      try { this.coordinator.deleteGroup(g); } catch { /* known only by its offsets */ }
      await this.offsets.deleteGroup(g);
    }
  }

  /** A topic was created, grown or deleted. */
  topicChanged(topic: string): void {
    this.coordinator.topicChanged(topic);
  }

  close(): void {
    this.abort.abort();
    this.agents.close();
    this.coordinator.close();
    this.channel?.close();
  }
}
