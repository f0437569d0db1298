/**
 * Kafka's CooperativeStickyAssignor [pure].
 *
 * Goals, in priority order (as KIP-54 and KIP-429 set them for Kafka):
 *   1. Balanced: no partition could move from a member to another member that subscribes to
 *      its topic and has at least two fewer partitions. In particular members with the same
 *      subscriptions differ by at most one partition.
 *   2. Sticky: among balanced assignments, keep as many `owned` partitions with their owners
 *      as possible.
 *   3. Cooperative (the two-phase rule): a partition another member still owns is never handed
 *      out in the same generation.
 *
 * The two-phase rule. Every member keeps consuming what it owns while the group rebalances;
 * only partitions that actually move are stopped. If partition p must move from owner A to
 * member B, this generation's result gives p to nobody: A sees p missing from its assignment,
 * revokes it (commits, stops fetching) and rejoins; in the next generation A no longer lists p
 * in `owned`, so p is unowned and goes to B at once. B therefore never fetches p while A still
 * might. Partitions nobody owns (new topics, partitions of a member that left) are assigned
 * immediately. The eager assigners (range, roundrobin) need the consumers to revoke everything
 * first instead.
 *
 * How it is computed. The target assignment minimises, lexicographically, (sum over members
 * of load^2, number of partitions not left with their owner): minimising the sum of squares is
 * exactly goal 1 (moving one partition from load a to load b <= a - 2 lowers it), and the
 * second term is goal 2. It is found as a min-cost flow (successive shortest paths with SPFA):
 * source -> partition class -> member -> sink, where a class is "partitions whose topic has the
 * same subscribers and the same valid owner" (interchangeable for the optimisation, which keeps
 * the graph small), a class->member edge costs 1 unless the member is the class's owner, and
 * a member's k-th unit costs BIG * (2k - 1) with BIG > number of partitions, so balance always
 * outranks stickiness. Then the two-phase rule removes partitions owned by someone else.
 *
 * Invariants:
 * - No partition is in two members' lists, and only subscribed, existing partitions appear.
 * - Every partition of a subscribed topic is either in the result or claimed in `owned` by a
 *   member other than the one the target gives it to (it is being revoked this generation).
 * - Ownership claims: a claim counts for stickiness only if the claimant still subscribes to
 *   the topic, the partition exists, and no other member claims the same partition (two
 *   claimants: neither keeps it by claim). Any in-range claim, valid or not, still blocks the
 *   partition from going to anyone else this generation, because the claimant may be consuming
 *   it until it sees its new assignment.
 * - Convergence: if every member then reports as `owned` exactly what this result gave it and
 *   subscriptions and partition counts are unchanged, the next result withholds nothing and is
 *   balanced. (The previous target keeps all of the new `owned` and is optimally balanced, so
 *   the optimum of the next round keeps all of it too: nothing moves, nothing is withheld.)
 * - Same input content, same output; member, topic and owned-list order do not matter.
 *
 * Output contract: see ./index.ts.
 */

import { compareIds, normalize } from './common.js';
import type { Assigner, AssignInput, Assignment } from './index.js';

const UNCLAIMED = -1;
const CONTESTED = -2;

/**
 * Partitions interchangeable for the optimisation: same topic subscribers, same valid owner.
 * `eligible` holds member indices, ascending; `owner` is a member index or -1.
 */
interface PartitionClass {
  eligible: number[];
  owner: number;
  /** Global partition indices, ascending. */
  partitions: number[];
}

/**
 * Solves the flow problem described in the module comment and returns, per class, how many of
 * its partitions each eligible member gets (aligned with `eligible`).
 */
function solveFlow(classes: PartitionClass[], memberCount: number, total: number): number[][] {
  const K = classes.length;
  const BIG = total + 1;
  const SOURCE = 0;
  const SINK = K + memberCount + 1;
  const classNode = (k: number): number => 1 + k;
  const memberNode = (m: number): number => 1 + K + m;

  const supply = classes.map((c) => c.partitions.length);
  const flow = classes.map((c) => c.eligible.map(() => 0));
  const load = new Array<number>(memberCount).fill(0);
  // memberClasses[m]: the [class, position in its `eligible`] pairs member m can take from.
  const memberClasses: [number, number][][] = Array.from({ length: memberCount }, () => []);
  classes.forEach((c, k) => c.eligible.forEach((m, j) => memberClasses[m]!.push([k, j])));

  const V = SINK + 1;
  const dist = new Float64Array(V);
  const prev = new Int32Array(V);
  const inQueue = new Uint8Array(V);

  for (let unit = 0; unit < total; unit++) {
    dist.fill(Infinity);
    prev.fill(-1);
    dist[SOURCE] = 0;
    // SPFA (queue-based Bellman-Ford): residual member->class edges have cost <= 0, and
    // successive shortest paths guarantee there is no negative cycle.
    const queue: number[] = [SOURCE];
    inQueue[SOURCE] = 1;
    const relax = (from: number, to: number, d: number): void => {
      if (d < dist[to]!) {
        dist[to] = d;
        prev[to] = from;
        if (!inQueue[to]) {
          inQueue[to] = 1;
          queue.push(to);
        }
      }
    };
    for (let head = 0; head < queue.length; head++) {
      const u = queue[head]!;
      inQueue[u] = 0;
      const du = dist[u]!;
      if (u === SOURCE) {
        for (let k = 0; k < K; k++) if (supply[k]! > 0) relax(u, classNode(k), du);
      } else if (u <= K) {
        const c = classes[u - 1]!;
        for (const m of c.eligible) relax(u, memberNode(m), du + (m === c.owner ? 0 : 1));
      } else if (u < SINK) {
        const m = u - 1 - K;
        for (const [k, j] of memberClasses[m]!) {
          if (flow[k]![j]! > 0) relax(u, classNode(k), du - (m === classes[k]!.owner ? 0 : 1));
        }
        relax(u, SINK, du + BIG * (2 * load[m]! + 1));
      }
    }

    // Augment one unit along the path: SINK <- member <- class (<- member <- class)* <- SOURCE.
    let v = prev[SINK]!;
    load[v - 1 - K]!++;
    for (;;) {
      const k = prev[v]! - 1; // a class node always precedes a member node on the path
      const m = v - 1 - K;
      const row = flow[k]!;
      row[classes[k]!.eligible.indexOf(m)]!++;
      const before = prev[classNode(k)]!;
      if (before === SOURCE) {
        supply[k]!--;
        break;
      }
      // `before` is a member that gives one partition of class k back (a reassignment).
      const back = before - 1 - K;
      row[classes[k]!.eligible.indexOf(back)]!--;
      v = before;
    }
  }
  return flow;
}

/** Kafka's CooperativeStickyAssignor: balanced, sticky, and withholding moving partitions. */
function assignCooperativeSticky(input: AssignInput): Assignment {
  const { members, counts } = normalize(input);
  // Object.fromEntries (not `obj[key] =`) so a topic or member named "__proto__" stays data.
  const result = new Map(
    members.map((m) => [m.memberId, new Map(m.topics.map((t) => [t, [] as number[]]))]),
  );

  // Every partition to assign gets a global index; topics in name order, partitions ascending.
  const subscribers = new Map<string, number[]>();
  members.forEach((member, mi) => {
    for (const topic of member.topics) {
      const list = subscribers.get(topic);
      if (list) list.push(mi);
      else subscribers.set(topic, [mi]);
    }
  });
  const topics = [...subscribers.keys()].filter((t) => (counts.get(t) ?? 0) > 0).sort(compareIds);
  const base = new Map<string, number>();
  const partitionTopic: string[] = [];
  const partitionNumber: number[] = [];
  for (const topic of topics) {
    base.set(topic, partitionTopic.length);
    for (let p = 0; p < counts.get(topic)!; p++) {
      partitionTopic.push(topic);
      partitionNumber.push(p);
    }
  }
  const total = partitionTopic.length;

  // Claims from `owned`: one member index, UNCLAIMED, or CONTESTED. `owned` comes from remote
  // members, so anything that is not a real partition of an assignable topic is skipped.
  const claimant = new Int32Array(total).fill(UNCLAIMED);
  members.forEach((member, mi) => {
    if (member.owned === null || typeof member.owned !== 'object') return;
    for (const [topic, partitions] of Object.entries(member.owned)) {
      const start = base.get(topic);
      if (start === undefined || !Array.isArray(partitions)) continue;
      const count = counts.get(topic)!;
      for (const p of partitions) {
        if (!Number.isInteger(p) || p < 0 || p >= count) continue;
        const c = claimant[start + p]!;
        if (c === UNCLAIMED) claimant[start + p] = mi;
        else if (c !== mi) claimant[start + p] = CONTESTED;
      }
    }
  });

  // Group partitions into classes. A claim is a valid owner only if the claimant subscribes.
  const subscribed = members.map((m) => new Set(m.topics));
  const classes: PartitionClass[] = [];
  const classIds = new Map<string, number>();
  for (let g = 0; g < total; g++) {
    const topic = partitionTopic[g]!;
    const eligible = subscribers.get(topic)!;
    const c = claimant[g]!;
    const owner = c >= 0 && subscribed[c]!.has(topic) ? c : -1;
    const id = `${eligible.join(',')}|${owner}`;
    let k = classIds.get(id);
    if (k === undefined) {
      k = classes.length;
      classIds.set(id, k);
      classes.push({ eligible, owner, partitions: [] });
    }
    classes[k]!.partitions.push(g);
  }

  const flow = solveFlow(classes, members.length, total);

  // Hand out each class's partitions to its members in turn (within their flow quotas), so a
  // member's share mixes topics the way round-robin would. Then apply the two-phase rule.
  classes.forEach((c, k) => {
    const remaining = flow[k]!.slice();
    let j = 0;
    for (const g of c.partitions) {
      while (remaining[j] === 0) j = (j + 1) % remaining.length;
      remaining[j]!--;
      const target = c.eligible[j]!;
      j = (j + 1) % remaining.length;
      const claim = claimant[g]!;
      if (claim !== UNCLAIMED && claim !== target) continue; // withheld: being revoked
      result.get(members[target]!.memberId)!.get(partitionTopic[g]!)!.push(partitionNumber[g]!);
    }
  });

  return Object.fromEntries(
    [...result].map(([memberId, byTopic]) => [
      memberId,
      Object.fromEntries([...byTopic].map(([t, ps]) => [t, ps.sort((a, b) => a - b)])),
    ]),
  );
}

/** Kafka's CooperativeStickyAssignor; protocol name 'cooperative-sticky'. */
export const cooperativeSticky: Assigner = {
  name: 'cooperative-sticky',
  assign: assignCooperativeSticky,
};
