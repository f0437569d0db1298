/**
 * Input checks and canonical order shared by every assigner [pure]. Output contract: see
 * ./index.ts.
 */
import type { AssignInput, AssignMember } from './index.js';

/** Java `String.compareTo` order (UTF-16 code units), never locale-dependent. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A validated member: sorted, de-duplicated topics. */
export interface NormalizedMember {
  memberId: string;
  topics: string[];
  owned: AssignMember['owned'];
}

/** The input, validated: members sorted by memberId; partition counts by topic. */
export interface Normalized {
  members: NormalizedMember[];
  counts: Map<string, number>;
}

/** Validates the input and puts it in canonical order; throws RangeError naming the field. */
export function normalize(input: AssignInput): Normalized {
  const counts = new Map<string, number>();
  for (const [topic, count] of Object.entries(input.topics)) {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`topics["${topic}"] must be a non-negative integer, got ${String(count)}`);
    }
    counts.set(topic, count);
  }
  const seen = new Set<string>();
  const members = input.members.map((member, i): NormalizedMember => {
    if (typeof member.memberId !== 'string') {
      throw new RangeError(`members[${i}].memberId must be a string`);
    }
    if (seen.has(member.memberId)) {
      throw new RangeError(`members[${i}].memberId "${member.memberId}" is not unique`);
    }
    seen.add(member.memberId);
    if (!Array.isArray(member.topics) || member.topics.some((t) => typeof t !== 'string')) {
      throw new RangeError(`members[${i}].topics must be an array of topic names`);
    }
    return { memberId: member.memberId, topics: [...new Set(member.topics)].sort(compareIds), owned: member.owned };
  });
  members.sort((a, b) => compareIds(a.memberId, b.memberId));
  return { members, counts };
}
