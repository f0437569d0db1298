/**
 * KafkaJS's metadata refresh for a group consumer that subscribes with patterns [tab]: every
 * `metadataMaxAge` the subscription is resolved again, and when the topics it covers differ
 * from those the member joined with (a matching topic was created, deleted or re-created), the
 * member rejoins. Named topics need no refresh: the coordinator starts a round when one of
 * them is created, as members report them whether they exist or not.
 *
 * Invariants:
 * - At most one refresh is in flight; the next is scheduled after it ends, never stacked.
 * - A refresh never creates topics; a failed refresh (broker away) is retried at the next tick.
 * - Stopped means no timer left (a stopped consumer keeps no process or tab busy).
 */

/** The periodic refresh of one member. */
export class MetadataRefresh {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private joinedWith: string | undefined;
  private stopped = true;

  /**
   * @param every metadataMaxAge (ms)
   * @param resolve the topics the subscription covers now (without creating any)
   * @param rejoin asks the membership to rejoin its group
   */
  constructor(private readonly every: number, private readonly resolve: () => Promise<string[]>, private readonly rejoin: () => void) {}

  /** The member joined reporting `topics`. */
  joined(topics: readonly string[]): void {
    this.joinedWith = [...topics].sort().join('\u0000');
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped || !(this.every > 0)) return;
    this.timer = setTimeout(() => { void this.tick(); }, this.every);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async tick(): Promise<void> {
    try {
      const now = [...(await this.resolve())].sort().join('\u0000');
      if (!this.stopped && this.joinedWith !== undefined && now !== this.joinedWith) this.rejoin();
    } catch { /* the broker is away: the next tick tries again */ }
    this.schedule();
  }
}
