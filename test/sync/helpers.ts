/**
 * Shared set-up of the sync tests in Node: replica servers and clients opened by a test are
 * closed after it (clients in reverse order of opening), and `until` polls a condition.
 */
import { afterEach } from 'vitest';

/** Servers closed after each test. */
export const servers: { http: { close(): Promise<void> } }[] = [];
/** Clients and members disconnected after each test, last opened first. */
export const clients: { disconnect(): Promise<void> }[] = [];

afterEach(async () => {
  for (const c of clients.splice(0).reverse()) await c.disconnect().catch(() => undefined);
  for (const s of servers.splice(0)) await s.http.close().catch(() => undefined);
});

/** Polls `f` every 20 ms until it returns a truthy value (returned), or throws after `ms`. */
export async function until<T>(what: string, f: () => Promise<T | false | null | undefined> | T | false | null | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
