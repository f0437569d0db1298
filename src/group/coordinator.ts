/**
 * The consumer-group coordinator [broker; pure state machine: clock and timers are injected,
 * no DOM, IndexedDB or Node APIs]. One per database; tabs are the members.
 *
 * Protocol: Kafka's JoinGroup and SyncGroup merged into one `join`, with the assignment
 * computed here by a server-side assigner. A group is Empty (no members), PreparingRebalance
 * (a round: waiting for every member to (re)join) or Stable. Every join starts a round or
 * takes part in the current one, even a join identical to the member's current state: members
 * rejoin to report revocations (cooperative) or because they were told to, so "a join means
 * this member is (re)joining now" is simple and always correct, at the price of a round the
 * coordinator could sometimes have skipped. The one exception is a static member coming back
 * under a new memberId (see 3).
 *
 * Invariants:
 * 1. generationId starts at 0, grows by exactly 1 per completed round, never decreases, and
 *    survives the group going Empty (stale commits from old members still fail with
 *    IllegalGeneration). Only deleteGroup forgets it.
 * 2. A round completes exactly when every current member has a pending join, or at
 *    roundStartedAt + the largest rebalanceTimeout among the members (members that did not
 *    rejoin by then are removed). Completion resolves every pending join with the same
 *    generation; no pending join survives a round (completed, removed, superseded, closed).
 * 3. Static membership: a join whose groupInstanceId belongs to another memberId replaces that
 *    member in place (same assignment, no round, same generation) when the group is Stable and
 *    the subscription (topics and protocols) is unchanged; otherwise the old member is removed
 *    and the join is an ordinary one. memberGone leaves static members alone (a reload is
 *    expected); their session timeout still removes them.
 * 4. A member is removed by leave, memberGone (dynamic), its session timeout, or the end of a
 *    round it did not rejoin. Removal rejects its pending join with UnknownMemberId, starts a
 *    round among the rest when Stable, may complete the current round, and empties the group
 *    when it was the last member.
 * 5. Fencing: heartbeat and commit check the generation before the member, so a zombie from an
 *    older generation gets IllegalGeneration. Commits with the current generation are allowed
 *    during a round (cooperative members keep processing what they own).
 * 6. Group events are queued during a call and delivered after it, in order, once the state
 *    is consistent; a throwing listener cannot leave the machine half-updated.
 *
 * Session timeouts use one coordinator-wide timer armed at the earliest deadline
 * (lastHeartbeat + sessionTimeout) of any member. Heartbeats only move deadlines later, so
 * they never re-arm it: the timer may fire early, finds nobody expired, and re-arms. Expiry is
 * strict (now - lastHeartbeat > sessionTimeout), as the timer fires at deadline + 1 ms.
 * A member waiting in a pending join cannot heartbeat and is never expired (Kafka does the
 * same); its lastHeartbeat is reset when the round completes.
 */

import {
  BrokerUnavailableError, GroupIdNotFoundError, GroupNotEmptyError, InconsistentGroupProtocolError, InvalidArgumentError, LanesError,
  RebalanceInProgressError, UnknownMemberIdError,
} from '../errors.js';
import { assigners as builtIn, type Assigner } from './assigners/index.js';
import { tpKey } from '../protocol/topic-partition.js';
import {
  copyPartitions, describe, detailsOf, fence, memberDetails, newGroup, nextHeldSince, requireString, resultOf, sameProtocols,
  sameTopics, selectProtocol, sortedMembers, validateJoin,
  type CommitPartitions, type CoordinatorOptions, type GroupDescription, type GroupEvent, type GroupRecord, type JoinRequest,
  type JoinResult, type MemberRecord, type MemberRef, type PendingJoin, type TopicPartitions, type ValidJoin,
} from './group-state.js';

export type {
  CoordinatorOptions, GroupDescription, GroupEvent, GroupMemberDescription, JoinRequest, JoinResult, MemberRef,
} from './group-state.js';

/** The consumer-group coordinator of one broker. See the module comment for its invariants. */
export class GroupCoordinator {
  private readonly groups = new Map<string, GroupRecord>();
  private readonly assigners: Map<string, Assigner>;
  private readonly events: GroupEvent[] = [];
  private depth = 0;
  private closed = false;
  private sessionTimerAt = Infinity;
  private cancelSessionTimer: (() => void) | null = null;

  /** Creates a coordinator with no groups. */
  constructor(private readonly o: CoordinatorOptions) {
    const list = o.assigners ?? Object.values(builtIn);
    this.assigners = new Map(list.map((a) => [a.name, a]));
  }

  /**
   * Joins (or rejoins) a group. Resolves when the round completes with the member's
   * generation, protocol and assignment; rejects with UnknownMemberId if the member is removed
   * meanwhile, RebalanceInProgress if a newer join of the same member supersedes it,
   * InvalidArgument on bad input or when the members share no assigner, BrokerUnavailable on close.
   */
  join(req: JoinRequest): Promise<JoinResult> {
    return new Promise<JoinResult>((resolve, reject) => {
      try {
        this.run(() => this.handleJoin(validateJoin(req), { resolve, reject }));
      } catch (e) {
        reject(e);
      }
    });
  }

  /**
   * Keeps a member alive. Throws UnknownMemberId (unknown group or member), IllegalGeneration
   * (other generation: checked first, so zombies are fenced by generation) or
   * RebalanceInProgress (the member must rejoin; it is still kept alive, like Kafka does).
   */
  heartbeat(r: MemberRef): void {
    this.run(() => {
      this.assertOpen();
      const group = this.groups.get(requireString(r.groupId, 'groupId'));
      fence(group, r, 'heartbeat').lastHeartbeat = this.o.now();
      if (group?.state === 'PreparingRebalance') {
        throw new RebalanceInProgressError(`group ${group.groupId} is rebalancing; rejoin`, { details: detailsOf(r) });
      }
    });
  }

  /** The member leaves its group at once. Idempotent: leaving an unknown group or member does nothing. */
  leave(r: { groupId: string; memberId: string }): void {
    this.run(() => {
      if (this.closed) return;
      const group = this.groups.get(requireString(r.groupId, 'groupId'));
      if (group) this.removeMember(group, requireString(r.memberId, 'memberId'), 'left the group');
    });
  }

  /** The member's tab is gone (its Web Lock was released). Static members stay until their session times out. */
  memberGone(groupId: string, memberId: string): void {
    this.run(() => {
      if (this.closed) return;
      const group = this.groups.get(groupId);
      const member = group?.members.get(memberId);
      if (group && member && member.groupInstanceId === null) this.removeMember(group, memberId, 'its tab is gone');
    });
  }

  /**
   * Checks a commit's fencing; throws IllegalGeneration / UnknownMemberId. memberId '' with
   * generation -1 is an admin commit, allowed when the group is Empty or does not exist
   * (Kafka's simple consumer). A commit from a member also counts as a heartbeat. With
   * `partitions`, a commit from an older generation is accepted for partitions the member has
   * held since then (see fence in group-state.ts).
   */
  validateCommit(r: MemberRef, partitions?: CommitPartitions): void {
    this.run(() => {
      this.assertOpen();
      const group = this.groups.get(requireString(r.groupId, 'groupId'));
      if ((!group || group.state === 'Empty') && r.memberId === '' && r.generationId === -1) return;
      fence(group, r, 'commit', partitions).lastHeartbeat = this.o.now();
    });
  }

  /** Describes a group (copies only); a group that does not exist is 'Dead'. */
  describeGroup(groupId: string): GroupDescription {
    return describe(groupId, this.groups.get(groupId));
  }

  /** Every group the coordinator knows, in groupId order. */
  listGroups(): { groupId: string; protocolType: 'consumer'; state: string }[] {
    return [...this.groups.values()]
      .map((g) => ({ groupId: g.groupId, protocolType: 'consumer' as const, state: g.state }))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  /** Forgets an Empty group (and its generation). Throws GROUP_ID_NOT_FOUND or GROUP_NOT_EMPTY. */
  deleteGroup(groupId: string): void {
    this.run(() => {
      this.assertOpen();
      const group = this.groups.get(groupId);
      if (!group) {
        throw new GroupIdNotFoundError(`group ${groupId} does not exist`, { details: { groupId } });
      }
      if (group.members.size > 0) {
        throw new GroupNotEmptyError(`group ${groupId} has ${group.members.size} member(s)`, {
          details: { groupId, generationId: group.generationId },
        });
      }
      this.groups.delete(groupId);
    });
  }

  /**
   * Topic partition counts changed (createPartitions, createTopics, deleteTopics): Stable
   * groups subscribed to it start a round. A group already rebalancing needs nothing: its
   * assignment reads partition counts when the round completes.
   */
  topicChanged(topic: string): void {
    this.run(() => {
      if (this.closed) return;
      for (const group of this.groups.values()) {
        if (group.state !== 'Stable') continue;
        if ([...group.members.values()].some((m) => m.topics.includes(topic))) this.startRound(group);
      }
    });
  }

  /** Cancels every timer and rejects pending joins with a retriable BrokerUnavailable. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelSessionTimer?.();
    this.cancelSessionTimer = null;
    for (const group of this.groups.values()) {
      group.cancelRoundTimer?.();
      group.cancelRoundTimer = null;
      for (const m of group.members.values()) {
        const pending = m.pending;
        m.pending = null;
        const details = memberDetails(group, m);
        pending?.reject(new BrokerUnavailableError('the group coordinator closed', { details }));
      }
    }
    this.events.length = 0;
  }

  // ---- transitions -------------------------------------------------------------------------

  private handleJoin(req: ValidJoin, pending: PendingJoin): void {
    this.assertOpen();
    let group = this.groups.get(req.groupId);
    if (!group) {
      group = newGroup(req.groupId);
      this.groups.set(req.groupId, group);
    }
    // Kafka's INCONSISTENT_GROUP_PROTOCOL: a member that shares no assignor with the others
    // (or none the coordinator knows) is refused alone instead of failing the whole round.
    const others = [...group.members.values()].filter((m) => m.memberId !== req.memberId && m.groupInstanceId !== (req.groupInstanceId ?? undefined));
    if (!selectProtocol([{ protocols: req.protocols } as MemberRecord, ...others], this.assigners)) {
      if (group.members.size === 0) this.groups.delete(req.groupId);
      throw new InconsistentGroupProtocolError(`member ${req.memberId} supports none of the partition assignors the group ${req.groupId} uses (${[...new Set(others.flatMap((m) => m.protocols))].join(', ') || 'none known'}); it offered ${req.protocols.join(', ')}`, {
        details: { groupId: req.groupId, memberId: req.memberId, protocols: [...req.protocols] },
      });
    }
    const known = group.members.get(req.memberId);
    const holder = req.groupInstanceId === null ? undefined : [...group.members.values()]
      .find((m) => m.groupInstanceId === req.groupInstanceId && m.memberId !== req.memberId);
    if (holder) {
      const unchanged = sameTopics(holder.topics, req.topics) && sameProtocols(holder.protocols, req.protocols);
      if (!known && group.state === 'Stable' && unchanged) {
        pending.resolve(this.replaceStatic(group, holder, req));
        return;
      }
      // The new join takes over; the transition (round start or completion) is the join's.
      group.members.delete(holder.memberId);
      holder.pending?.reject(new UnknownMemberIdError(
        `member ${holder.memberId} was replaced by ${req.memberId} (same groupInstanceId)`,
        { details: memberDetails(group, holder) },
      ));
    }
    const member: MemberRecord = {
      memberId: req.memberId, clientId: req.clientId, groupInstanceId: req.groupInstanceId,
      topics: req.topics, protocols: req.protocols, owned: req.owned,
      sessionTimeout: req.sessionTimeout, rebalanceTimeout: req.rebalanceTimeout,
      lastHeartbeat: this.o.now(), assignment: known?.assignment ?? {}, heldSince: known?.heldSince ?? new Map(), pending,
    };
    group.members.set(member.memberId, member);
    // "each member's latest join request is held": an older one from the same member loses.
    known?.pending?.reject(new RebalanceInProgressError(
      `a newer join of member ${req.memberId} superseded this one`,
      { details: { ...memberDetails(group, member), superseded: true } },
    ));
    if (group.state !== 'PreparingRebalance') this.startRound(group);
    else if (group.roundStartedAt + req.rebalanceTimeout > group.roundDeadline) this.armRoundTimer(group);
    this.maybeComplete(group);
  }

  /** Static member back under a new memberId: same place, same assignment, no round. */
  private replaceStatic(group: GroupRecord, old: MemberRecord, req: ValidJoin): JoinResult {
    group.members.delete(old.memberId);
    const member: MemberRecord = {
      ...old, memberId: req.memberId, clientId: req.clientId, owned: req.owned,
      sessionTimeout: req.sessionTimeout, rebalanceTimeout: req.rebalanceTimeout,
      lastHeartbeat: this.o.now(), pending: null,
    };
    group.members.set(member.memberId, member);
    return resultOf(group, member);
  }

  /** Enters PreparingRebalance: every member must (re)join this round. */
  private startRound(group: GroupRecord): void {
    group.state = 'PreparingRebalance';
    group.round++;
    group.roundStartedAt = this.o.now();
    group.roundDeadline = -Infinity;
    this.armRoundTimer(group);
    this.events.push({ groupId: group.groupId, type: 'rebalance', generationId: group.generationId });
  }

  /** (Re)arms the round timer at roundStartedAt + the largest rebalanceTimeout of the members. */
  private armRoundTimer(group: GroupRecord): void {
    const longest = Math.max(...[...group.members.values()].map((m) => m.rebalanceTimeout));
    group.roundDeadline = group.roundStartedAt + longest;
    group.cancelRoundTimer?.();
    const round = group.round;
    group.cancelRoundTimer = this.o.setTimer(() => this.run(() => {
      if (this.closed || this.groups.get(group.groupId) !== group) return;
      if (group.round !== round || group.state !== 'PreparingRebalance') return;
      group.cancelRoundTimer = null;
      for (const m of [...group.members.values()]) if (!m.pending) group.members.delete(m.memberId);
      if (group.members.size === 0) this.toEmpty(group);
      else this.complete(group);
    }), Math.max(0, group.roundDeadline - this.o.now()));
  }

  private maybeComplete(group: GroupRecord): void {
    if (group.state !== 'PreparingRebalance') return;
    for (const m of group.members.values()) if (!m.pending) return;
    this.complete(group);
  }

  /** Ends the round: next generation, one assignment for all, every pending join resolved. */
  private complete(group: GroupRecord): void {
    group.cancelRoundTimer?.();
    group.cancelRoundTimer = null;
    const members = sortedMembers(group);
    const protocol = selectProtocol(members, this.assigners);
    if (protocol === undefined) {
      this.failRound(group, (m) => new InvalidArgumentError('no common partition assignor', {
        details: { ...memberDetails(group, m), protocols: [...m.protocols] },
      }));
      return;
    }
    let assignment: { [memberId: string]: TopicPartitions };
    try {
      // Object.fromEntries (not `obj[t] =`) so a topic named "__proto__" stays data.
      const topics = Object.fromEntries([...new Set(members.flatMap((m) => m.topics))]
        .map((t) => [t, this.o.partitionCount(t)] as const)
        .filter((e): e is readonly [string, number] => e[1] !== undefined));
      const input = members.map((m) => ({
        memberId: m.memberId, topics: [...m.topics], owned: copyPartitions(m.owned),
      }));
      assignment = this.assigners.get(protocol)!.assign({ members: input, topics });
    } catch (cause) {
      // Only a misbehaving partitionCount (e.g. a fractional count) gets here.
      this.failRound(group, (m) => new LanesError(`partition assignment failed: ${String(cause)}`, {
        cause, details: memberDetails(group, m),
      }));
      return;
    }
    group.generationId++;
    group.protocol = protocol;
    group.state = 'Stable';
    const now = this.o.now();
    const assigned = new Map<string, string>(); // tpKey -> memberId, in the new generation
    for (const m of members) {
      m.assignment = copyPartitions(Object.hasOwn(assignment, m.memberId) ? assignment[m.memberId]! : {});
      for (const [t, ps] of Object.entries(m.assignment)) for (const p of ps) assigned.set(tpKey(t, p), m.memberId);
    }
    for (const m of members) {
      m.heldSince = nextHeldSince(m, assigned, group.generationId);
      m.lastHeartbeat = now;
      const pending = m.pending;
      m.pending = null;
      pending?.resolve(resultOf(group, m));
    }
    this.events.push({ groupId: group.groupId, type: 'stable', generationId: group.generationId });
  }

  /**
   * A round that cannot complete: every member is in it (all joined, or the rest were timed
   * out), so every member is rejected and removed; leaving them in a round nobody can finish
   * would wedge the group. The generation does not change.
   */
  private failRound(group: GroupRecord, error: (m: MemberRecord) => unknown): void {
    const members = [...group.members.values()];
    group.members.clear();
    for (const m of members) {
      const pending = m.pending;
      m.pending = null;
      pending?.reject(error(m));
    }
    this.toEmpty(group);
  }

  /** Removes a member (see invariant 4). */
  private removeMember(group: GroupRecord, memberId: string, reason: string): void {
    const member = group.members.get(memberId);
    if (!member) return;
    group.members.delete(memberId);
    member.pending?.reject(new UnknownMemberIdError(
      `member ${memberId} was removed from group ${group.groupId}: ${reason}`,
      { details: memberDetails(group, member) },
    ));
    member.pending = null;
    if (group.members.size === 0) this.toEmpty(group);
    else if (group.state === 'Stable') this.startRound(group);
    else this.maybeComplete(group);
  }

  private toEmpty(group: GroupRecord): void {
    group.cancelRoundTimer?.();
    group.cancelRoundTimer = null;
    group.round++;
    group.state = 'Empty';
    group.protocol = '';
    this.events.push({ groupId: group.groupId, type: 'empty', generationId: group.generationId });
  }

  /** Removes every member whose session expired (members in a pending join are exempt). */
  private expireSessions(): void {
    const now = this.o.now();
    for (const group of [...this.groups.values()]) {
      for (const m of [...group.members.values()]) {
        // Re-read: an earlier removal may have completed a round and refreshed lastHeartbeat.
        if (group.members.get(m.memberId) !== m || m.pending) continue;
        if (now - m.lastHeartbeat > m.sessionTimeout) this.removeMember(group, m.memberId, 'session timed out');
      }
    }
  }

  // ---- plumbing ----------------------------------------------------------------------------

  /**
   * Runs one call or timer callback; the outermost one then re-arms the session timer and
   * delivers queued group events (invariant 6).
   */
  private run<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      if (--this.depth === 0) {
        if (!this.closed) this.armSessionTimer();
        this.flushEvents();
      }
    }
  }

  private armSessionTimer(): void {
    let earliest = Infinity;
    for (const group of this.groups.values()) {
      for (const m of group.members.values()) {
        if (!m.pending) earliest = Math.min(earliest, m.lastHeartbeat + m.sessionTimeout + 1);
      }
    }
    if (earliest === Infinity) {
      this.cancelSessionTimer?.();
      this.cancelSessionTimer = null;
      this.sessionTimerAt = Infinity;
      return;
    }
    if (this.cancelSessionTimer && this.sessionTimerAt <= earliest) return; // fires early and re-arms
    this.cancelSessionTimer?.();
    this.sessionTimerAt = earliest;
    this.cancelSessionTimer = this.o.setTimer(() => this.run(() => {
      this.cancelSessionTimer = null;
      this.sessionTimerAt = Infinity;
      if (!this.closed) this.expireSessions();
    }), Math.max(1, earliest - this.o.now())); // >= 1: a timer firing early must not spin
  }

  private flushEvents(): void {
    const events = this.events.splice(0);
    const listener = this.o.onGroupEvent;
    if (!listener) return;
    for (const e of events) {
      try {
        listener.call(this.o, e);
      } catch (error) {
        // Surface it without unwinding a transition that has already happened.
        queueMicrotask(() => { throw error; });
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new BrokerUnavailableError('the group coordinator closed');
  }
}
