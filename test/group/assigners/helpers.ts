/** Shared checks and generators for the assigner tests. */
import { expect } from 'vitest';
import type { AssignInput, AssignMember, Assignment } from '../../../src/group/assigners/index.js';

export function randomInt(random: () => number, maxInclusive: number): number {
  return Math.floor(random() * (maxInclusive + 1));
}

export function shuffle<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(random, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `topic-partition` strings of a member's assignment. */
export function flat(byTopic: { [topic: string]: number[] } | undefined): string[] {
  if (!byTopic) return [];
  return Object.entries(byTopic).flatMap(([t, ps]) => ps.map((p) => `${t}-${p}`));
}

export function count(assignment: Assignment, memberId: string): number {
  return flat(assignment[memberId]).length;
}

/** Every partition of every topic some member subscribes to and that exists. */
export function subscribedPartitions(input: AssignInput): string[] {
  const topics = new Set(input.members.flatMap((m) => m.topics));
  const out: string[] = [];
  for (const t of topics) {
    const n = Object.prototype.hasOwnProperty.call(input.topics, t) ? input.topics[t]! : 0;
    for (let p = 0; p < n; p++) out.push(`${t}-${p}`);
  }
  return out;
}

/**
 * The output contract of ./src/group/assigners/index.ts: every member present, exactly its
 * distinct subscribed topics as keys, sorted arrays of existing partitions, no duplicates.
 */
export function expectContract(input: AssignInput, result: Assignment): void {
  expect(Object.keys(result).sort()).toEqual(input.members.map((m) => m.memberId).sort());
  const seen = new Map<string, string>();
  for (const member of input.members) {
    const byTopic = result[member.memberId]!;
    expect(Object.keys(byTopic).sort()).toEqual([...new Set(member.topics)].sort());
    for (const [topic, partitions] of Object.entries(byTopic)) {
      expect(Array.isArray(partitions)).toBe(true);
      expect(partitions).toEqual([...partitions].sort((a, b) => a - b));
      const n = Object.prototype.hasOwnProperty.call(input.topics, topic) ? input.topics[topic]! : 0;
      for (const p of partitions) {
        expect(Number.isInteger(p) && p >= 0 && p < n).toBe(true);
        const key = `${topic}-${p}`;
        const other = seen.get(key);
        if (other !== undefined) {
          throw new Error(`${key} assigned to both ${other} and ${member.memberId}`);
        }
        seen.set(key, member.memberId);
      }
    }
  }
}

/** Asserts every subscribed partition is assigned (to exactly one member). */
export function expectComplete(input: AssignInput, result: Assignment): void {
  const assigned = Object.values(result).flatMap((byTopic) => flat(byTopic));
  expect(assigned.sort()).toEqual(subscribedPartitions(input).sort());
}

/**
 * Kafka's notion of balance: no partition could move from a member to a member that subscribes
 * to its topic and has at least two fewer partitions. Returns a description of a violation.
 */
export function balanceViolation(input: AssignInput, result: Assignment): string | undefined {
  for (const a of input.members) {
    for (const b of input.members) {
      if (count(result, a.memberId) < count(result, b.memberId) + 2) continue;
      for (const [topic, ps] of Object.entries(result[a.memberId]!)) {
        if (ps.length > 0 && b.topics.includes(topic)) {
          const [ca, cb] = [count(result, a.memberId), count(result, b.memberId)];
          return `${a.memberId} (${ca}) could give ${topic}-${ps[0]} to ${b.memberId} (${cb})`;
        }
      }
    }
  }
  return undefined;
}

/** The members of `input` with `owned` replaced by what `result` gave them. */
export function withOwned(input: AssignInput, result: Assignment): AssignInput {
  return {
    topics: input.topics,
    members: input.members.map((m): AssignMember => {
      const owned = result[m.memberId];
      const { memberId, topics } = m;
      return owned ? { memberId, topics, owned } : { memberId, topics };
    }),
  };
}

/** Recursively freezes test input so an assigner that mutates it throws. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
