/**
 * The partitions a consumer reads and where it stands in each. Owned by assign() for a free
 * consumer, and by the group membership for a group consumer.
 *
 * Invariants:
 * - `position` is the next offset to deliver; null means "resolve from the reset policy".
 * - Every change that must interrupt a fetch or a batch in progress (seek, assignment change,
 *   pause) raises `epoch` of the partition or of the whole set, and wakes the runner.
 * - Pauses are kept by topic and partition, not on the cursor only: a pause of a partition
 *   not (yet) assigned applies when it is assigned, and survives the partition being taken
 *   away and given back (eager rebalances give everything up and get it back).
 * - A seek of a partition not yet assigned (a group consumer's `run(); seek()`) is kept and
 *   applied once, when the partition is assigned.
 */
import { tpKey } from '../../protocol/topic-partition.js';

/** Where to start when there is no position: Kafka's auto.offset.reset. */
export type ResetPolicy = 'earliest' | 'latest';

/** One assigned partition. */
export interface PartitionCursor {
  topic: string;
  partition: number;
  position: number | null;
  paused: boolean;
  /** Raised by seek: a batch in progress for an older epoch stops. */
  epoch: number;
  /** Where to start when position is null; the consumer's policy when absent. */
  reset?: ResetPolicy;
  /** The group's committed offset of this partition, as last known to this member. */
  committed?: number;
}

/** A partition to read and where it starts. */
export type CursorInit = { topic: string; partition: number; position: number | null; reset?: ResetPolicy; committed?: number };

/**
 * Pauses of one topic: partition -> paused (true) or excepted from a whole-topic pause
 * (false); key -1 is the whole topic.
 */
type TopicPauses = Map<number, boolean>;

/** The consumer's assigned partitions. */
export class Positions {
  private map = new Map<string, PartitionCursor>();
  private pauses = new Map<string, TopicPauses>();
  private seeks = new Map<string, CursorInit>();
  private waiters = new Set<() => void>();
  private pendingWake = false;
  /** Raised by every assignment change. */
  generation = 0;

  get(topic: string, partition: number): PartitionCursor | undefined {
    return this.map.get(tpKey(topic, partition));
  }

  all(): PartitionCursor[] {
    return [...this.map.values()];
  }

  /** Replaces the assignment; kept partitions keep their position and pause state. */
  set(list: CursorInit[]): void {
    const next = new Map<string, PartitionCursor>();
    for (const p of list) {
      const k = tpKey(p.topic, p.partition);
      const seek = this.seeks.get(k);
      this.seeks.delete(k);
      next.set(k, this.map.get(k) ?? { ...p, ...seek, paused: this.isPaused(p.topic, p.partition), epoch: 0 });
    }
    this.map = next;
    this.changed();
  }

  /** Removes one partition (it no longer exists); the others keep their cursors. */
  drop(topic: string, partition: number): void {
    if (this.map.delete(tpKey(topic, partition))) this.changed();
  }

  private changed(): void {
    this.generation++;
    this.wake();
  }

  /**
   * Moves a partition's position (seek); null with `reset` resolves from that policy. A
   * partition not assigned is refused (false), or with `later` kept until it is assigned.
   */
  seek(topic: string, partition: number, position: number | null, reset?: ResetPolicy, later = false): boolean {
    const c = this.get(topic, partition);
    const to: CursorInit = { topic, partition, position, ...(reset && { reset }) };
    if (!c) {
      if (later) this.seeks.set(tpKey(topic, partition), to);
      return later;
    }
    Object.assign(c, to).epoch++;
    this.wake();
    return true;
  }

  /** True when the partition is paused (assigned or not). */
  isPaused(topic: string, partition: number): boolean {
    const t = this.pauses.get(topic);
    return !!t && (t.get(partition) ?? t.get(-1) ?? false);
  }

  /** Pauses (true) or resumes partitions (all of the topic's when `partitions` is omitted), assigned or not. */
  pause(topic: string, partitions?: number[], paused = true): void {
    const t: TopicPauses = this.pauses.get(topic) ?? new Map();
    if (!partitions) {
      // A whole-topic pause forgets exceptions; a whole-topic resume forgets everything.
      for (const [p, v] of t) if (!v || !paused) t.delete(p);
      if (paused) t.set(-1, true);
    } else {
      for (const p of partitions) if (paused) t.set(p, true); else if (t.get(-1)) t.set(p, false); else t.delete(p);
    }
    this.pauses.set(topic, t);
    for (const c of this.map.values()) if (c.topic === topic) c.paused = this.isPaused(topic, c.partition);
    this.wake();
  }

  /** Paused partitions: assigned ones, and ones paused by number that are not assigned. */
  paused(): { topic: string; partitions: number[] }[] {
    const out = new Map<string, Set<number>>();
    const add = (t: string, p: number) => (out.get(t) ?? out.set(t, new Set()).get(t)!).add(p);
    for (const c of this.map.values()) if (c.paused) add(c.topic, c.partition);
    for (const [topic, t] of this.pauses) for (const [p, v] of t) if (v && p >= 0) add(topic, p);
    return [...out].map(([topic, ps]) => ({ topic, partitions: [...ps].sort((a, b) => a - b) }));
  }

  /** Forgets every pause (a free consumer's assign() starts its partitions afresh). */
  clearPauses(): void {
    this.pauses.clear();
    for (const c of this.map.values()) c.paused = false;
  }

  /** Forgets seeks waiting for their partition (a consumer that stops starts over). */
  clearPending(): void {
    this.seeks.clear();
  }

  /** Wakes a runner waiting for a change; with none waiting, the next wait returns at once. */
  wake(): void {
    const w = [...this.waiters];
    this.pendingWake = w.length === 0;
    this.waiters.clear();
    for (const f of w) f();
  }

  /**
   * A wait for the next change (at once if a change came while nobody waited). `dispose` must be
   * called when the wait is abandoned: a pending wait would keep whatever raced it reachable.
   */
  nextChange(): { changed: Promise<void>; dispose: () => void } {
    let resolve = () => undefined as void;
    const changed = this.pendingWake ? Promise.resolve() : new Promise<void>((r) => { this.waiters.add((resolve = r)); });
    this.pendingWake = false;
    return { changed, dispose: () => { this.waiters.delete(resolve); } };
  }
}
