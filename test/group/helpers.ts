/** Shared by the group tests: polling with a deadline and fast group timings. */
import { afterEach } from 'vitest';
import type { ConsumerConfig } from '../../src/index.js';

/** Polls `cond` until it holds; fails naming `what` after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Short group timings, so rebalances and evictions happen within a test. */
export const FAST: ConsumerConfig = { heartbeatInterval: 50, sessionTimeout: 1000, rebalanceTimeout: 3000, maxWaitTimeInMs: 100 };

/** A list of clients to disconnect after each test of the file, newest first. */
export function disconnectAfterEach(): { disconnect(): Promise<void> }[] {
  const open: { disconnect(): Promise<void> }[] = [];
  afterEach(async () => { for (const o of open.splice(0).reverse()) await o.disconnect(); });
  return open;
}
