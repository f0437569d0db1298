/**
 * Topics deleted recently [broker; pure]: the broker remembers when each topic was deleted, so
 * a consumer's metadata request does not auto-create a topic that an admin deleted within the
 * consumer's metadata window (`metadataMaxAge`). Without it, a running consumer rejoining after
 * the deletion would re-create the topic at once, with the default partition count.
 *
 * Invariants:
 * - A topic is listed from its deletion until it is created again (by anyone) or its entry is
 *   older than the longest window kept (`maxAgeMs`); memory stays bounded by that age.
 * - In memory only: a broker that restarts forgets, and then behaves as Kafka does (auto-create).
 */

/** Deletion times of recently deleted topics. */
export class RecentDeletions {
  private deletedAt = new Map<string, number>();

  /** @param maxAgeMs entries older than this are dropped (default one day). */
  constructor(private readonly maxAgeMs = 24 * 3600 * 1000) {}

  /** `topic` was deleted at `now`. */
  deleted(topic: string, now: number): void {
    for (const [t, at] of this.deletedAt) if (now - at > this.maxAgeMs) this.deletedAt.delete(t);
    this.deletedAt.set(topic, now);
  }

  /** `topic` exists again. */
  created(topic: string): void {
    this.deletedAt.delete(topic);
  }

  /** Milliseconds since `topic` was deleted, if it was deleted within `windowMs` of `now`. */
  deletedWithin(topic: string, windowMs: number, now: number): number | undefined {
    const at = this.deletedAt.get(topic);
    if (at === undefined || !(now - at < windowMs)) return undefined;
    return now - at;
  }
}
