/**
 * Kafka consumer groups on lanes' own coordinator [node; the state machine is
 * src/group/coordinator.ts, this is the thin shell that speaks Kafka's group protocol].
 *
 * Kafka clients normally assign partitions themselves: JoinGroup names a leader, the leader
 * runs its assignor over every member's subscription and SyncGroup carries the result. Here
 * the coordinator assigns on the server with the assignor the members agreed on (range,
 * roundrobin, cooperative-sticky; KafkaJS's `RoundRobinAssigner` is roundrobin), so
 * JoinGroup names no member leader: every member is a follower, sends an empty SyncGroup and
 * receives the coordinator's assignment. Generations, fencing, session and rebalance timeouts
 * are the coordinator's.
 *
 * Invariants:
 * - Groups and topics are qualified with the tenant before they reach the coordinator
 *   (`tenant \0 name`), so tenants never see or join each other's groups.
 * - A member's SyncGroup answers the assignment of the generation its JoinGroup completed;
 *   a SyncGroup of another generation gets ILLEGAL_GENERATION (also during a new round, as
 *   in Kafka), one of the current generation during a new round REBALANCE_IN_PROGRESS.
 * - Heartbeat and OffsetCommit from a member an existing group does not have answer
 *   UNKNOWN_MEMBER_ID before any generation check, as Kafka does.
 * - LeaveGroup of a member the group does not have (or of a group that does not exist) answers
 *   UNKNOWN_MEMBER_ID and changes nothing, as Kafka does.
 * - Deadlines (sessions, rebalance rounds) run on a monotonic clock, not the wall clock.
 * - Partition counts come from a cache refreshed before every join, because the coordinator
 *   asks for them synchronously.
 */
import { randomUUID } from 'node:crypto';
import { InconsistentGroupProtocolError } from '../../errors.js';
import { GroupCoordinator, type JoinResult } from '../../group/coordinator.js';
import { assigners, type Assigner } from '../../group/assigners/index.js';
import { ErrorCode, kafkaErrorCode } from './codes.js';
import { KafkaDecodeError, Reader, Writer } from './wire.js';

const SEP = '\u0000';
const qualify = (tenant: string, name: string): string => `${tenant}${SEP}${name}`;
const unqualify = (name: string): string => name.slice(name.indexOf(SEP) + 1);

/** A consumer's subscription (Kafka's ConsumerProtocolSubscription, versions 0-3). */
export interface Subscription {
  topics: string[];
  owned: { [topic: string]: number[] };
}

/** Decodes ConsumerProtocolSubscription bytes. */
export function decodeSubscription(bytes: Uint8Array): Subscription {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version < 0) throw new KafkaDecodeError(`subscription version ${version}`);
  const n = r.int32();
  if (n < 0 || n > r.remaining) throw new KafkaDecodeError(`subscription topic count ${n}`);
  const topics: string[] = [];
  for (let i = 0; i < n; i++) topics.push(r.string() ?? '');
  const owned = new Map<string, number[]>();
  if (r.remaining >= 4) r.bytes(); // userData
  if (version >= 1 && r.remaining >= 4) {
    const m = r.int32();
    if (m < 0 || m > r.remaining) throw new KafkaDecodeError(`owned partitions count ${m}`);
    for (let i = 0; i < m; i++) {
      const topic = r.string() ?? '';
      const k = r.int32();
      if (k < 0 || k * 4 > r.remaining) throw new KafkaDecodeError(`owned partition count ${k}`);
      const parts: number[] = [];
      for (let j = 0; j < k; j++) parts.push(r.int32());
      owned.set(topic, parts);
    }
  }
  // Object.fromEntries: a topic named "__proto__" stays an own data property.
  return { topics, owned: Object.fromEntries(owned) };
}

/** Encodes an assignment as ConsumerProtocolAssignment version 0. */
export function encodeAssignment(assignment: { [topic: string]: number[] }): Uint8Array {
  const w = new Writer(64);
  const topics = Object.keys(assignment).sort();
  w.int16(0).int32(topics.length);
  for (const t of topics) {
    const parts = assignment[t]!;
    w.string(t).int32(parts.length);
    for (const p of parts) w.int32(p);
  }
  w.bytes(new Uint8Array(0));
  return w.finish().slice();
}

/** Kafka's protocol names mapped to lanes' assignors. */
const ALIASES: Assigner[] = [
  assigners.range,
  assigners.roundRobin,
  assigners.cooperativeSticky,
  { ...assigners.roundRobin, name: 'RoundRobinAssigner' },
];

/** What JoinGroup answers. */
export interface JoinOutcome {
  errorCode: number;
  generationId: number;
  protocolName: string;
  memberId: string;
  leader: string;
}

interface MemberState {
  generationId: number;
  assignment: { [topic: string]: number[] };
  metadata: Uint8Array;
  clientHost: string;
}

/** Kafka's group APIs for every tenant of one listener. */
export class KafkaGroups {
  private readonly coordinator: GroupCoordinator;
  private readonly counts = new Map<string, number>();
  private readonly members = new Map<string, MemberState>();

  /** `now` and `setTimer` are injectable for tests. */
  constructor(opts: { now?: () => number; setTimer?: (fn: () => void, ms: number) => () => void } = {}) {
    this.coordinator = new GroupCoordinator({
      // Session and rebalance deadlines on a monotonic clock: a wall clock set back an hour kept
      // members whose sessions had ended (and their partitions) for that hour.
      now: opts.now ?? (() => performance.now()),
      setTimer: opts.setTimer ?? ((fn, ms) => {
        const t = setTimeout(fn, ms);
        t.unref?.();
        return () => clearTimeout(t);
      }),
      partitionCount: (topic) => this.counts.get(topic),
      assigners: ALIASES,
    });
  }

  /** Refreshes the partition counts of a tenant's topics (before a join). */
  setTopics(tenant: string, topics: { topic: string; partitions: number }[]): void {
    for (const t of topics) this.counts.set(qualify(tenant, t.topic), t.partitions);
  }

  /** Kafka JoinGroup: resolves when the round completes. */
  async join(tenant: string, req: {
    groupId: string; memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string;
    protocolType: string; protocols: { name: string; metadata: Uint8Array }[];
    sessionTimeoutMs: number; rebalanceTimeoutMs: number;
  }): Promise<JoinOutcome> {
    const memberId = req.memberId || `${req.clientId || 'member'}-${randomUUID()}`;
    const fail = (errorCode: number): JoinOutcome => ({ errorCode, generationId: -1, protocolName: '', memberId, leader: '' });
    if (!req.groupId) return fail(ErrorCode.INVALID_GROUP_ID);
    if (req.protocolType !== 'consumer' || req.protocols.length === 0) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    let sub: Subscription;
    try {
      sub = decodeSubscription(req.protocols[0]!.metadata);
    } catch {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    const groupKey = qualify(tenant, req.groupId);
    let result: JoinResult;
    try {
      result = await this.coordinator.join({
        groupId: groupKey, memberId, groupInstanceId: req.groupInstanceId, clientId: req.clientId,
        topics: sub.topics.map((t) => qualify(tenant, t)),
        owned: Object.fromEntries(Object.entries(sub.owned).map(([t, p]) => [qualify(tenant, t), p])),
        protocols: req.protocols.map((p) => p.name),
        sessionTimeout: req.sessionTimeoutMs,
        rebalanceTimeout: req.rebalanceTimeoutMs > 0 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      });
    } catch (e) {
      if (e instanceof InconsistentGroupProtocolError) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      return fail(kafkaErrorCode(e));
    }
    const assignment = Object.fromEntries(Object.entries(result.assignment).map(([t, p]) => [unqualify(t), p]));
    // Forget members the coordinator removed (session timeout, rebalance timeout).
    const current = new Set(this.coordinator.describeGroup(groupKey).members.map((m) => `${groupKey}${SEP}${m.memberId}`));
    for (const k of this.members.keys()) if (k.startsWith(groupKey + SEP) && !current.has(k)) this.members.delete(k);
    this.members.set(`${groupKey}${SEP}${memberId}`, {
      generationId: result.generationId, assignment, metadata: req.protocols[0]!.metadata, clientHost: req.clientHost,
    });
    return { errorCode: 0, generationId: result.generationId, protocolName: result.protocol, memberId, leader: '' };
  }

  /** Kafka SyncGroup: the member's assignment of its generation, encoded. */
  sync(tenant: string, groupId: string, memberId: string, generationId: number): { errorCode: number; assignment: Uint8Array } {
    const none = new Uint8Array(0);
    const groupKey = qualify(tenant, groupId);
    const d = this.coordinator.describeGroup(groupKey);
    if (!d.members.some((m) => m.memberId === memberId)) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, assignment: none };
    // Kafka's order: a stale generation is ILLEGAL_GENERATION even while a new round runs.
    if (generationId !== d.generationId) return { errorCode: ErrorCode.ILLEGAL_GENERATION, assignment: none };
    if (d.state === 'PreparingRebalance') return { errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: none };
    const m = this.members.get(`${groupKey}${SEP}${memberId}`);
    if (!m || m.generationId !== generationId) {
      return { errorCode: ErrorCode.ILLEGAL_GENERATION, assignment: none };
    }
    return { errorCode: 0, assignment: encodeAssignment(m.assignment) };
  }

  /** Kafka Heartbeat: 0 or the error code (UNKNOWN_MEMBER_ID before ILLEGAL_GENERATION, as Kafka checks). */
  heartbeat(tenant: string, groupId: string, memberId: string, generationId: number): number {
    const groupKey = qualify(tenant, groupId);
    if (!this.has(groupKey, memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    return this.guard(() => this.coordinator.heartbeat({ groupId: groupKey, memberId, generationId }));
  }

  /**
   * Kafka LeaveGroup for one member, answered as Kafka does: UNKNOWN_MEMBER_ID when the group
   * has no such member or does not exist; FENCED_INSTANCE_ID when `groupInstanceId` belongs
   * to another member; memberId '' with a `groupInstanceId` removes that static member.
   */
  leave(tenant: string, groupId: string, memberId: string, groupInstanceId: string | null = null): number {
    const groupKey = qualify(tenant, groupId);
    const members = this.coordinator.describeGroup(groupKey).members;
    const holder = groupInstanceId === null ? undefined : members.find((m) => m.groupInstanceId === groupInstanceId);
    let id = memberId;
    if (!memberId) {
      if (!holder) return ErrorCode.UNKNOWN_MEMBER_ID;
      id = holder.memberId;
    } else if (holder && holder.memberId !== memberId) {
      return ErrorCode.FENCED_INSTANCE_ID;
    } else if (!members.some((m) => m.memberId === memberId)) {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    this.members.delete(`${groupKey}${SEP}${id}`);
    return this.guard(() => this.coordinator.leave({ groupId: groupKey, memberId: id }));
  }

  /**
   * Checks an OffsetCommit's fencing: 0 or the error code. As in Kafka, a member an existing
   * group does not have is UNKNOWN_MEMBER_ID whatever its generation (an admin commit, memberId ''
   * and generation -1, to an Empty group passes).
   */
  validateCommit(tenant: string, groupId: string, memberId: string, generationId: number): number {
    const groupKey = qualify(tenant, groupId);
    const d = this.coordinator.describeGroup(groupKey);
    const admin = d.state === 'Empty' && memberId === '' && generationId === -1;
    if (d.state !== 'Dead' && !admin && !d.members.some((m) => m.memberId === memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    return this.guard(() => this.coordinator.validateCommit({ groupId: groupKey, memberId, generationId }));
  }

  /** Kafka DescribeGroups for one group. */
  describe(tenant: string, groupId: string): {
    errorCode: number; groupId: string; groupState: string; protocolType: string; protocolData: string;
    members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; memberMetadata: Uint8Array; memberAssignment: Uint8Array }[];
  } {
    const groupKey = qualify(tenant, groupId);
    const d = this.coordinator.describeGroup(groupKey);
    return {
      errorCode: 0, groupId, groupState: d.state, protocolType: d.state === 'Dead' ? '' : 'consumer', protocolData: d.protocol,
      members: d.members.map((m) => {
        const s = this.members.get(`${groupKey}${SEP}${m.memberId}`);
        return {
          memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: s?.clientHost ?? '',
          memberMetadata: s?.metadata ?? new Uint8Array(0),
          memberAssignment: encodeAssignment(Object.fromEntries(Object.entries(m.assignment).map(([t, p]) => [unqualify(t), p]))),
        };
      }),
    };
  }

  /** Kafka ListGroups: the tenant's groups. */
  list(tenant: string): { groupId: string; protocolType: string; groupState: string }[] {
    const prefix = tenant + SEP;
    return this.coordinator.listGroups()
      .filter((g) => g.groupId.startsWith(prefix))
      .map((g) => ({ groupId: unqualify(g.groupId), protocolType: 'consumer', groupState: g.state }));
  }

  /** Rejects pending joins and stops timers. */
  close(): void {
    this.coordinator.close();
  }

  private has(groupKey: string, memberId: string): boolean {
    return this.coordinator.describeGroup(groupKey).members.some((m) => m.memberId === memberId);
  }

  private guard(fn: () => void): number {
    try {
      fn();
      return 0;
    } catch (e) {
      return kafkaErrorCode(e);
    }
  }
}
