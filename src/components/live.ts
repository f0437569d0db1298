/**
 * A connection of an element to its client: a connected admin and one `client.watch`, whose
 * events are passed to the element; both end together. Elements reread what they show when an
 * event arrives, never on a timer.
 *
 * Invariants:
 * - At most one watch runs per Live; stop() ends it and disconnects the admin it connected.
 * - Events of a stopped watch are never delivered.
 * - `admin` is the admin of the running watch once it is connected, and null before that and
 *   after stop(): a caller that checks `live.admin === admin` after each await knows whether
 *   its work still belongs to the running watch. (A call on an admin of a stopped watch may
 *   never be answered: when that was the last user of its client's connection, the connection
 *   closes, and only the request timeout and the admin's retries end the call.)
 */
import type { Admin, Client, WatchEvent, WatchOptions } from '../index.js';

/** An element's admin and watch over one client. */
export class Live {
  /** The running watch's admin once connected; null while connecting and after stop(). */
  admin: Admin | null = null;
  private connecting: Admin | null = null;
  private watch: ReturnType<Client['watch']> | null = null;
  private generation = 0;

  /** Connects an admin and starts watching; `onEvent` gets every watch event; `onError` a failure. */
  async start(client: Client, options: WatchOptions, onEvent: (e: WatchEvent) => void | Promise<void>, onError: (e: unknown) => void): Promise<void> {
    this.stop();
    const gen = ++this.generation;
    const admin = client.admin();
    this.connecting = admin;
    try {
      await admin.connect();
    } catch (e) {
      if (gen === this.generation) { this.connecting = null; onError(e); }
      return;
    }
    if (gen !== this.generation) { void admin.disconnect(); return; }
    this.connecting = null;
    this.admin = admin;
    const watch = client.watch({ minIntervalMs: 100, ...options });
    this.watch = watch;
    try {
      for await (const e of watch) {
        if (gen !== this.generation) break;
        await onEvent(e);
      }
    } catch (e) {
      if (gen === this.generation) onError(e);
    }
  }

  /** Ends the watch and disconnects the admin. */
  stop(): void {
    this.generation++;
    this.watch?.close();
    this.watch = null;
    for (const a of [this.admin, this.connecting]) void a?.disconnect().catch(() => undefined);
    this.admin = null;
    this.connecting = null;
  }
}

/** A readable message of an error. */
export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) {
    const name = (e as Error).name && (e as Error).name !== 'Error' ? `${(e as Error).name}: ` : '';
    return `${name}${(e as Error).message}`;
  }
  return String(e);
}
