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
}

/** Paused partitions of one topic: all of them (but `except`), or the listed ones. */
interface TopicPause {
  all: boolean;
  partitions: Set<number>;
  except: Set<number>;
}

/** The consumer's assigned partitions. */
export class Positions {
  private map = new Map<string, PartitionCursor>();
  private pauses = new Map<string, TopicPause>();
  private pendingSeeks = new Map<string, { position: number | null; reset?: ResetPolicy }>();
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
  set(list: { topic: string; partition: number; position: number | null; reset?: ResetPolicy }[]): void {
    const next = new Map<string, PartitionCursor>();
    for (const p of list) {
      const k = tpKey(p.topic, p.partition);
      const cur = this.map.get(k);
      if (cur) { next.set(k, cur); continue; }
      const c: PartitionCursor = { topic: p.topic, partition: p.partition, position: p.position, paused: this.isPaused(p.topic, p.partition), epoch: 0, reset: p.reset };
      const seek = this.pendingSeeks.get(k);
      if (seek) {
        this.pendingSeeks.delete(k);
        c.position = seek.position;
        if (seek.reset) c.reset = seek.reset;
      }
      next.set(k, c);
    }
    this.map = next;
    this.generation++;
    this.wake();
  }

  /** Removes one partition (it no longer exists); the others keep their cursors. */
  drop(topic: string, partition: number): boolean {
    if (!this.map.delete(tpKey(topic, partition))) return false;
    this.generation++;
    this.wake();
    return true;
  }

  /**
   * Moves a partition's position (seek); null with `reset` resolves from that policy. A
   * partition not assigned is refused (false), or with `later` kept until it is assigned.
   */
  seek(topic: string, partition: number, position: number | null, reset?: ResetPolicy, later = false): boolean {
    const c = this.get(topic, partition);
    if (!c) {
      if (later) this.pendingSeeks.set(tpKey(topic, partition), { position, reset });
      return later;
    }
    c.position = position;
    if (reset) c.reset = reset;
    c.epoch++;
    this.wake();
    return true;
  }

  /** True when the partition is paused (assigned or not). */
  isPaused(topic: string, partition: number): boolean {
    const t = this.pauses.get(topic);
    return !!t && (t.all ? !t.except.has(partition) : t.partitions.has(partition));
  }

  /** Pauses partitions (all of the topic's when `partitions` is omitted), assigned or not. */
  pause(topic: string, partitions?: number[]): void {
    const t = this.pauses.get(topic) ?? { all: false, partitions: new Set<number>(), except: new Set<number>() };
    if (!partitions) {
      t.all = true;
      t.except.clear();
    } else {
      for (const p of partitions) { t.partitions.add(p); t.except.delete(p); }
    }
    this.pauses.set(topic, t);
    this.applyPauses(topic);
  }

  /** Resumes partitions (all of the topic's when `partitions` is omitted). */
  resume(topic: string, partitions?: number[]): void {
    const t = this.pauses.get(topic);
    if (!t) return;
    if (!partitions) {
      this.pauses.delete(topic);
    } else {
      for (const p of partitions) { t.partitions.delete(p); if (t.all) t.except.add(p); }
      if (!t.all && t.partitions.size === 0) this.pauses.delete(topic);
    }
    this.applyPauses(topic);
  }

  /** Paused partitions: assigned ones, and ones paused by number that are not assigned. */
  paused(): { topic: string; partitions: number[] }[] {
    const out = new Map<string, Set<number>>();
    for (const c of this.map.values()) if (c.paused) (out.get(c.topic) ?? out.set(c.topic, new Set()).get(c.topic)!).add(c.partition);
    for (const [topic, t] of this.pauses) {
      for (const p of t.partitions) if (this.isPaused(topic, p)) (out.get(topic) ?? out.set(topic, new Set()).get(topic)!).add(p);
    }
    return [...out].map(([topic, ps]) => ({ topic, partitions: [...ps].sort((a, b) => a - b) }));
  }

  private applyPauses(topic: string): void {
    for (const c of this.map.values()) if (c.topic === topic) c.paused = this.isPaused(topic, c.partition);
    this.wake();
  }

  /** Forgets every pause (a free consumer's assign() starts its partitions afresh). */
  clearPauses(): void {
    this.pauses.clear();
    for (const c of this.map.values()) c.paused = false;
  }

  /** Forgets seeks waiting for their partition (a consumer that stops starts over). */
  clearPending(): void {
    this.pendingSeeks.clear();
  }

  /** Wakes a runner waiting for a change; with none waiting, the next wait returns at once. */
  wake(): void {
    const w = [...this.waiters];
    if (w.length === 0) { this.pendingWake = true; return; }
    this.waiters.clear();
    for (const f of w) f();
  }

  /**
   * A wait for the next change (at once if a change came while nobody waited). `dispose` must be
   * called when the wait is abandoned: a pending wait would keep whatever raced it reachable.
   */
  nextChange(): { changed: Promise<void>; dispose: () => void } {
    if (this.pendingWake) {
      this.pendingWake = false;
      return { changed: Promise.resolve(), dispose: () => undefined };
    }
    let resolve!: () => void;
    const changed = new Promise<void>((r) => { resolve = r; });
    this.waiters.add(resolve);
    return { changed, dispose: () => { this.waiters.delete(resolve); } };
  }

}
