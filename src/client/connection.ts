/**
 * How a client reaches its broker. Producers, consumers and admins of one client share one
 * connection, opened by the first connect() and released by the last disconnect().
 */
import { acquireInPageBroker } from '../broker/in-page.js';
import { InvalidArgumentError, NotConnectedError } from '../errors.js';
import type { KeyRangeCtor } from '../log/log-db.js';
import type { BrokerApi } from '../protocol/broker-api.js';

/** Where the broker runs. */
export type BrokerHost = 'in-page' | 'shared-worker' | 'leader-tab' | 'auto';

/** Config of createClient. */
export interface ClientConfig {
  /** Names this client in logs and group member ids. */
  clientId?: string;
  /** The lanes database: one log per origin and database. */
  database: string;
  /**
   * Where the broker runs. 'in-page': in this context (single page, or Node with an injected
   * `indexedDB`). The SharedWorker host is the browser default in a later capability.
   */
  broker?: BrokerHost;
  /** An IDBFactory to use instead of the global one (Node: fake-indexeddb). */
  indexedDB?: IDBFactory;
  /** The IDBKeyRange of the same implementation as `indexedDB`, when it is not global. */
  IDBKeyRange?: KeyRangeCtor;
  /** Partitions of auto-created topics (Kafka's num.partitions). Default 1. */
  defaultNumPartitions?: number;
  /** How often the broker's log cleaner runs, in ms; 0 turns the timer off. Default 30000. */
  logCleanerIntervalMs?: number;
}

/** A shared, reference-counted broker connection. */
export class Connection {
  private current: Promise<{ broker: BrokerApi; release: () => void }> | undefined;
  private refs = 0;

  constructor(readonly config: ClientConfig) {
    if (!config || typeof config.database !== 'string' || config.database === '') {
      throw new InvalidArgumentError('createClient: `database` must be a non-empty string');
    }
    const host = config.broker ?? 'auto';
    if (!['in-page', 'shared-worker', 'leader-tab', 'auto'].includes(host)) {
      throw new InvalidArgumentError(`createClient: unknown broker host ${JSON.stringify(host)}; use 'in-page', 'shared-worker', 'leader-tab' or 'auto'`);
    }
  }

  /** Opens the connection (or joins the open one). */
  async acquire(): Promise<BrokerApi> {
    this.refs++;
    try {
      this.current ??= this.open();
      return (await this.current).broker;
    } catch (e) {
      this.refs--;
      this.current = undefined;
      throw e;
    }
  }

  private async open(): Promise<{ broker: BrokerApi; release: () => void }> {
    const c = this.config;
    const host = c.broker ?? 'auto';
    if (host === 'in-page' || host === 'auto') {
      return acquireInPageBroker({ database: c.database, indexedDB: c.indexedDB, IDBKeyRange: c.IDBKeyRange, logCleanerIntervalMs: c.logCleanerIntervalMs });
    }
    throw new InvalidArgumentError(`broker host ${JSON.stringify(host)} is not available in this build`);
  }

  /** The broker, for a connected member; throws NotConnectedError otherwise. */
  async broker(): Promise<BrokerApi> {
    if (!this.current || this.refs === 0) throw new NotConnectedError('not connected: call connect() first');
    return (await this.current).broker;
  }

  /** Drops one reference; the last one closes the connection. */
  async release(): Promise<void> {
    if (this.refs === 0) return;
    if (--this.refs > 0) return;
    const cur = this.current;
    this.current = undefined;
    if (cur) (await cur.catch(() => undefined))?.release();
  }
}
