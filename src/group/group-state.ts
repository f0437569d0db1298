/**
 * The data of consumer groups as the coordinator keeps them, the coordinator's wire types, and
 * the pure helpers around them [pure: runs in the broker, testable anywhere]. The transitions
 * live in ./coordinator.ts (which re-exports the public types); this file holds records, input
 * validation, fencing checks, protocol selection and descriptions, so the state machine there
 * reads as a list of transitions.
 */

import type { GroupDescription as WireGroupDescription, JoinGroupRequest } from '../protocol/broker-api.js';
import { IllegalGenerationError, InvalidArgumentError, UnknownMemberIdError } from '../errors.js';
import type { Assigner } from './assigners/index.js';
import { tpKey } from '../protocol/topic-partition.js';

/** A change of a group's state, broadcast by the broker to the tabs. */
export interface GroupEvent {
  groupId: string;
  /** 'rebalance': a round started (members must rejoin); 'stable': a round completed; 'empty': the last member left. */
  type: 'rebalance' | 'stable' | 'empty';
  /** The generation at the time of the event (the new one for 'stable'). */
  generationId: number;
}

/** What the coordinator needs from its host. */
export interface CoordinatorOptions {
  /** Current time in milliseconds. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
  /** Partition count of a topic, or undefined if it does not exist. */
  partitionCount(topic: string): number | undefined;
  /** Called whenever a group starts a rebalance or completes one (the broker broadcasts it to tabs). */
  onGroupEvent?(e: GroupEvent): void;
  /** The assigners members may choose from; default: range, roundrobin, cooperative-sticky. */
  assigners?: Assigner[];
}

/** A member (re)joining its group: the wire request (Kafka's JoinGroup + SyncGroup). */
export type JoinRequest = JoinGroupRequest;

/** The member's share of a completed round. */
export interface JoinResult {
  groupId: string;
  memberId: string;
  generationId: number;
  /** The assigner the group agreed on. */
  protocol: string;
  assignment: { [topic: string]: number[] };
}

/** One member in {@link GroupDescription}. */
export type GroupMemberDescription = WireGroupDescription['members'][number];

/** A group as describeGroup returns it: the wire shape. */
export type GroupDescription = WireGroupDescription;

/** Partitions by topic: a member's assignment, or what it reports as `owned`. */
export type TopicPartitions = { [topic: string]: number[] };

/** The state of a group; 'Dead' is only reported for a group that does not exist. */
export type GroupStateName = 'Empty' | 'PreparingRebalance' | 'Stable';

/** A join request held until its round completes. */
export interface PendingJoin {
  resolve(result: JoinResult): void;
  reject(error: unknown): void;
}

/** One member of a group. */
export interface MemberRecord {
  memberId: string;
  clientId: string;
  groupInstanceId: string | null;
  topics: string[];
  protocols: string[];
  /** What the member reported owning in its latest join (cooperative protocols). */
  owned: TopicPartitions;
  sessionTimeout: number;
  rebalanceTimeout: number;
  /** Set by join, heartbeat, commit, and by the completion of a round. */
  lastHeartbeat: number;
  /** The member's assignment in the current generation ({} before its first one). */
  assignment: TopicPartitions;
  /**
   * Assignment epochs (Kafka's KIP-1251): for each partition this member holds (assigned, or
   * taken away in the current generation and given to nobody yet: its revocation is pending),
   * the generation since which it has held it without interruption, by tpKey.
   */
  heldSince: Map<string, number>;
  /**
   * Its join in the current round, or null. While the group is PreparingRebalance, "has a
   * pending join" and "has joined this round" are the same thing.
   */
  pending: PendingJoin | null;
}

/** One group. */
export interface GroupRecord {
  groupId: string;
  state: GroupStateName;
  /** 0 for a new group; +1 per completed round; kept when the group goes Empty. */
  generationId: number;
  /** The protocol (assigner name) of the current generation; '' while Empty. */
  protocol: string;
  members: Map<string, MemberRecord>;
  /** When the current round started (meaningful while PreparingRebalance). */
  roundStartedAt: number;
  /** When the rebalance timer of the current round fires. */
  roundDeadline: number;
  /** Incremented by every round start; a timer of an older round finds it changed. */
  round: number;
  cancelRoundTimer: (() => void) | null;
}

/** A JoinRequest after validation, with its own copies of every array. */
export interface ValidJoin {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  topics: string[];
  owned: TopicPartitions;
  protocols: string[];
  sessionTimeout: number;
  rebalanceTimeout: number;
}

/** A new, empty group (generation 0). */
export function newGroup(groupId: string): GroupRecord {
  return {
    groupId, state: 'Empty', generationId: 0, protocol: '', members: new Map(),
    roundStartedAt: 0, roundDeadline: 0, round: 0, cancelRoundTimer: null,
  };
}

/** Throws InvalidArgumentError unless `value` is a string (non-empty when `nonEmpty`). */
export function requireString(value: unknown, field: string, nonEmpty = true): string {
  if (typeof value !== 'string' || (nonEmpty && value === '')) {
    throw new InvalidArgumentError(`${field} must be a ${nonEmpty ? 'non-empty ' : ''}string`, { details: { field } });
  }
  return value;
}

/** Throws InvalidArgumentError unless `value` is an integer. */
export function requireInteger(value: unknown, field: string): number {
  if (!Number.isInteger(value)) {
    throw new InvalidArgumentError(`${field} must be an integer`, { details: { field } });
  }
  return value as number;
}

function requireTimeout(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(`${field} must be a positive number of milliseconds`, { details: { field } });
  }
  return value;
}

function requireStrings(value: unknown, field: string, nonEmpty: boolean): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    throw new InvalidArgumentError(`${field} must be an array of non-empty strings`, { details: { field } });
  }
  if (nonEmpty && value.length === 0) {
    throw new InvalidArgumentError(`${field} must name at least one entry`, { details: { field } });
  }
  return [...(value as string[])];
}

/** Copies partitions by topic (Object.fromEntries, so a topic named "__proto__" stays data). */
export function copyPartitions(byTopic: TopicPartitions): TopicPartitions {
  return Object.fromEntries(Object.entries(byTopic).map(([t, ps]) => [t, [...ps]]));
}

/**
 * Validates a join before anything is stored; throws InvalidArgumentError naming the field.
 * `owned` is only a hint for the assigner (which ignores impossible entries), so only its
 * shape is checked. memberId '' is refused: it is the "no member" of admin commits.
 */
export function validateJoin(req: JoinRequest): ValidJoin {
  if (req === null || typeof req !== 'object') throw new InvalidArgumentError('join request must be an object');
  const groupInstanceId = req.groupInstanceId ?? null;
  if (groupInstanceId !== null) requireString(groupInstanceId, 'groupInstanceId');
  const owned = req.owned;
  if (owned === null || typeof owned !== 'object' || Array.isArray(owned) ||
      Object.values(owned).some((ps) => !Array.isArray(ps))) {
    throw new InvalidArgumentError('owned must map topic names to arrays of partitions', {
      details: { field: 'owned' },
    });
  }
  return {
    groupId: requireString(req.groupId, 'groupId'),
    memberId: requireString(req.memberId, 'memberId'),
    groupInstanceId,
    clientId: requireString(req.clientId, 'clientId', false),
    topics: requireStrings(req.topics, 'topics', false),
    owned: copyPartitions(owned),
    protocols: requireStrings(req.protocols, 'protocols', true),
    sessionTimeout: requireTimeout(req.sessionTimeout, 'sessionTimeout'),
    rebalanceTimeout: requireTimeout(req.rebalanceTimeout, 'rebalanceTimeout'),
  };
}

/** Same topics, ignoring order and duplicates. */
export function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((t) => sb.has(t));
}

/** Same protocols in the same preference order. */
export function sameProtocols(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

/** Java `String.compareTo` order (UTF-16 code units), like the assigners use. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The group's members in memberId order. */
export function sortedMembers(group: GroupRecord): MemberRecord[] {
  return [...group.members.values()].sort((a, b) => compareIds(a.memberId, b.memberId));
}

/**
 * The protocol of the next generation: the first name in the first member's (by memberId)
 * preference list that every member supports and the coordinator knows, or undefined.
 */
export function selectProtocol(
  members: readonly MemberRecord[],
  known: ReadonlyMap<string, Assigner>,
): string | undefined {
  const first = members[0];
  if (!first) return undefined;
  return first.protocols.find((p) => known.has(p) && members.every((m) => m.protocols.includes(p)));
}

/** The plain-data description of a group (copies only); a missing group is 'Dead'. */
export function describe(groupId: string, group: GroupRecord | undefined): GroupDescription {
  if (!group) {
    return { groupId, state: 'Dead', protocol: '', protocolType: 'consumer', generationId: -1, members: [] };
  }
  return {
    groupId,
    state: group.state,
    protocol: group.protocol,
    protocolType: 'consumer',
    generationId: group.generationId,
    members: sortedMembers(group).map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      groupInstanceId: m.groupInstanceId,
      topics: [...m.topics],
      assignment: copyPartitions(m.assignment),
    })),
  };
}

/** Identifies a member in a generation: what heartbeats and commits carry. */
export interface MemberRef {
  groupId: string;
  memberId: string;
  generationId: number;
}

/** `details` of an error about a request. */
export function detailsOf(r: MemberRef): Record<string, unknown> {
  return { groupId: r.groupId, memberId: r.memberId, generationId: r.generationId };
}

/** `details` of an error about a stored member. */
export function memberDetails(group: GroupRecord, m: MemberRecord): Record<string, unknown> {
  return { groupId: group.groupId, memberId: m.memberId, generationId: group.generationId };
}

/** The member's JoinResult in the group's current generation (copies only). */
export function resultOf(group: GroupRecord, m: MemberRecord): JoinResult {
  return {
    groupId: group.groupId, memberId: m.memberId, generationId: group.generationId,
    protocol: group.protocol, assignment: copyPartitions(m.assignment),
  };
}

/**
 * The assignment epochs of `m` after a round of generation `generationId` (its `assignment`
 * already set): partitions kept (reported owned in its join) keep their epoch, new ones get `generationId`, and partitions
 * taken away that the member still reported owning and that no member got stay held (their
 * revocation is pending: the member stops them, commits, then rejoins without them).
 */
export function nextHeldSince(m: MemberRecord, owner: ReadonlyMap<string, string>, generationId: number): Map<string, number> {
  // Only what the member reported owning in its join was held through the round: an eager
  // member gives everything up before it rejoins, so all it gets back is new.
  const kept = new Map<string, number>();
  for (const [topic, ps] of Object.entries(m.owned)) {
    for (const p of ps) { const k = tpKey(topic, p); const since = m.heldSince.get(k); if (since !== undefined) kept.set(k, since); }
  }
  const held = new Map<string, number>();
  for (const [topic, ps] of Object.entries(m.assignment)) {
    for (const p of ps) { const k = tpKey(topic, p); held.set(k, kept.get(k) ?? generationId); }
  }
  for (const [k, since] of kept) if (!held.has(k) && !owner.has(k)) held.set(k, since);
  return held;
}

/** A commit's partitions, for the assignment-epoch check of an older generation. */
export type CommitPartitions = readonly { topic: string; partition: number }[];

/**
 * Fencing of a heartbeat or commit: generation first, then member, so a zombie from an older
 * generation gets IllegalGeneration. A group that does not exist has generation -1 for a
 * commit (as in Kafka: any other generation is an older one); for a heartbeat it simply means
 * "unknown member". Returns the member when both checks pass.
 *
 * A commit from an older generation is still accepted when it names partitions and the member
 * has held every one of them since that generation or earlier (KIP-1251's rule
 * assignmentEpoch <= commitEpoch <= memberEpoch): it was sent before a rebalance completed by a
 * member that kept those partitions through it, so no other member can have processed them.
 */
export function fence(group: GroupRecord | undefined, r: MemberRef, what: 'heartbeat' | 'commit', partitions?: CommitPartitions): MemberRecord {
  const groupId = requireString(r.groupId, 'groupId');
  const memberId = requireString(r.memberId, 'memberId', false);
  const generationId = requireInteger(r.generationId, 'generationId');
  if (!group && what === 'heartbeat') {
    throw new UnknownMemberIdError(`group ${groupId} does not exist`, { details: detailsOf(r) });
  }
  const current = group ? group.generationId : -1;
  const held = group?.members.get(memberId)?.heldSince;
  const keptSince = generationId >= 0 && generationId < current && held && partitions && partitions.length > 0 &&
    partitions.every((p) => (held.get(tpKey(p.topic, p.partition)) ?? Infinity) <= generationId);
  if (generationId !== current && !keptSince) {
    throw new IllegalGenerationError(
      `${what} from generation ${generationId}, but group ${groupId} is at generation ${current}`,
      { details: { ...detailsOf(r), currentGenerationId: current } },
    );
  }
  const member = group?.members.get(memberId);
  if (!member) {
    throw new UnknownMemberIdError(`member ${memberId} is not in group ${groupId}`, { details: detailsOf(r) });
  }
  return member;
}
