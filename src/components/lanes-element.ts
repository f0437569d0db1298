/**
 * The base of every lanes element: where its client comes from and its theme attribute.
 *
 * Invariants:
 * - An element uses the `client` property when set; otherwise, once connected with a
 *   `database` attribute, it creates its own client. A client has no close of its own: its
 *   broker connection ends when its last user (an admin, a watch) stops, and `clientGone()`
 *   stops them, so a removed element leaves its own client holding nothing open.
 * - `clientChanged()` runs once per distinct client while the element is connected, and
 *   `clientGone()` before a client is replaced or the element is removed: subclasses start and
 *   stop their watches there, so a removed element leaves nothing running.
 */
import { LitElement } from 'lit';
import { createClient, type Client } from '../index.js';

/** Base class of the lanes elements (not registered itself). */
export abstract class LanesElement extends LitElement {
  static override properties = {
    client: { attribute: false },
    database: { type: String },
    theme: { type: String, reflect: true },
  };

  /** The lanes client to show (a `createClient` result). Takes precedence over `database`. */
  declare client: Client | undefined;
  /** A lanes database to open when no `client` is given. */
  declare database: string | undefined;
  /** `light` or `dark`; unset follows `prefers-color-scheme`. */
  declare theme: 'light' | 'dark' | undefined;

  private inUse: Client | undefined;
  private own: Client | undefined;

  /** The client in use, once connected. */
  protected get lanes(): Client | undefined {
    return this.inUse;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.pickClient();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.inUse) this.clientGone(this.inUse);
    this.inUse = undefined;
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('client') || changed.has('database')) this.pickClient();
  }

  private pickClient(): void {
    if (!this.isConnected) return;
    let next = this.client;
    if (!next && this.database) {
      if (!this.own || this.ownDatabase !== this.database) {
        this.own = createClient({ clientId: `lanes-${this.localName.replace(/^lanes-/, '')}`, database: this.database });
        this.ownDatabase = this.database;
      }
      next = this.own;
    }
    if (next === this.inUse) return;
    if (this.inUse) this.clientGone(this.inUse);
    this.inUse = next;
    if (next) this.clientChanged(next);
  }

  private ownDatabase: string | undefined;

  /** A client became available (or replaced another). */
  protected abstract clientChanged(client: Client): void;
  /** The client is no longer used: stop what was started for it. */
  protected abstract clientGone(client: Client): void;
}
