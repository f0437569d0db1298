/**
 * Wake-ups for long-polling Fetch requests [node]. A fetch waiting at the log end wakes when
 * an append of its tenant is announced (`notify`: Kafka produces through this listener, and
 * the HTTP server's pushes when it is wired to call it), and at least every `pollMs` to look
 * at the store anyway: appends made by another replica server in front of the same JetStream
 * cluster are announced nowhere here.
 *
 * Invariant: a wait always ends, by notify, poll, its own timeout or its abort signal, and
 * leaves no timer or listener behind.
 */

/** Per-tenant append notifications with a polling floor. */
export class AppendSignal {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** `pollMs`: longest a waiting fetch goes without re-reading the store. */
  constructor(private readonly pollMs = 100) {}

  /** Wakes every fetch waiting on `tenant`. */
  notify(tenant: string): void {
    const set = this.waiters.get(tenant);
    if (!set) return;
    this.waiters.delete(tenant);
    for (const wake of set) wake();
  }

  /** Resolves on the tenant's next notify, after min(ms, pollMs), or when `signal` aborts. */
  wait(tenant: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted || ms <= 0) {
        resolve();
        return;
      }
      let set = this.waiters.get(tenant);
      if (!set) this.waiters.set(tenant, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.get(tenant)?.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, this.pollMs));
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
