/**
 * The partitions a consumer reads and where it stands in each. Owned by assign() for a free
 * consumer, and by the group membership for a group consumer.
 *
 * Invariants:
 * - `position` is the next offset to deliver; null means "resolve from the reset policy".
 * - Every change that must interrupt a fetch or a batch in progress (seek, assignment change,
 *   pause) raises `epoch` of the partition or of the whole set, and wakes the runner.
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

/** The consumer's assigned partitions. */
export class Positions {
  private map = new Map<string, PartitionCursor>();
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
      next.set(k, cur ?? { topic: p.topic, partition: p.partition, position: p.position, paused: false, epoch: 0, reset: p.reset });
    }
    this.map = next;
    this.generation++;
    this.wake();
  }

  /** Moves a partition's position (seek); null with `reset` resolves from that policy. */
  seek(topic: string, partition: number, position: number | null, reset?: ResetPolicy): boolean {
    const c = this.get(topic, partition);
    if (!c) return false;
    c.position = position;
    if (reset) c.reset = reset;
    c.epoch++;
    this.wake();
    return true;
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
