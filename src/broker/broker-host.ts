/**
 * BrokerHost: elects the one broker of a database with the Web Lock `lanes:<db>:broker` and
 * gives its context a BrokerApi that works whether this context won or not. The winner opens
 * the log and serves the others over BroadcastChannel RPC; the rest forward their calls to it.
 * The same class runs in a SharedWorker (the browser default) and in a tab (the leader-tab host
 * where SharedWorker is missing), so two app versions open at once still have one writer.
 *
 * Invariants:
 * - The log is opened only while the broker lock is held, and the lock is held until close()
 *   or the context dies; the lock, not the host kind or the app version, decides who writes.
 * - Calls made while this host is acquiring leadership wait for the local broker rather than
 *   going round through the channel.
 * - A log that fails to open fails this host: pending and later calls reject with a
 *   BrokerUnavailableError whose cause says why, instead of waiting for a leader that never comes.
 * - A database newer than this code (at open, or upgraded under the running broker) fails this
 *   host with IncompatibleVersionError and gives up the lock, so the newer version's host (if
 *   one waits) becomes the broker: the newer tab is never blocked by the older one.
 */
import { BrokerUnavailableError, IncompatibleVersionError, type LanesError } from '../errors.js';
import type { KeyRangeCtor } from '../log/log-db.js';
import { LogStore } from '../log/log-store.js';
import { BROKER_METHODS, names, type BrokerApi } from '../protocol/broker-api.js';
import { randomId } from '../protocol/ids.js';
import { Broker } from './broker.js';
import { dbName, resolveIndexedDB } from './in-page.js';
import { RpcClient, serveRpc } from './rpc.js';

/** Options of a broker host. */
export interface BrokerHostOptions {
  database: string;
  kind: 'shared-worker' | 'leader-tab';
  indexedDB?: IDBFactory;
  IDBKeyRange?: KeyRangeCtor;
  logCleanerIntervalMs?: number;
}

/** Elects and hosts (or forwards to) the broker of one database. */
export class BrokerHost {
  readonly id = randomId();
  /** The BrokerApi of this context: local when leader, RPC otherwise. */
  readonly api: BrokerApi;
  private rpc: RpcClient;
  private local: Promise<Broker> | undefined;
  private release: (() => void) | undefined;
  private stopServing: (() => void) | undefined;
  private closed = false;
  private failed: LanesError | undefined;

  constructor(readonly options: BrokerHostOptions) {
    this.rpc = new RpcClient(options.database, this.id);
    const api = {} as Record<string, (...a: unknown[]) => Promise<unknown>>;
    for (const m of BROKER_METHODS) {
      api[m] = async (...args: unknown[]) => {
        if (this.closed) throw new BrokerUnavailableError('the broker host is closed', { retriable: false });
        if (this.failed) throw this.failed;
        if (this.local) {
          const b = await this.local.catch((e: unknown) => { throw this.failed ?? e; });
          return (b[m] as (...a: unknown[]) => Promise<unknown>).apply(b, args);
        }
        return this.rpc.call(m, args);
      };
    }
    this.api = api as unknown as BrokerApi;
  }

  /** Starts competing for the broker lock. */
  start(): void {
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    if (!locks) throw new BrokerUnavailableError('Web Locks are not available here: use the in-page broker', { retriable: false });
    const hold = new Promise<void>((r) => { this.release = r; });
    void locks.request(names.brokerLock(this.options.database), async () => {
      if (this.closed) return;
      // A newer lanes that upgraded the database under this broker ends its leadership: the
      // lock goes to the newer version's host (waiting for it), and calls here fail typed.
      let incompatible!: (e: unknown) => void;
      const upgradedAway = new Promise<void>((r) => { incompatible = (e) => { this.fail(e); r(); }; });
      const { database, kind, logCleanerIntervalMs } = this.options;
      this.local = resolveIndexedDB(this.options).then(({ factory, KR }) => Broker.openLog(
        (onLost) => LogStore.open({ indexedDB: factory, IDBKeyRange: KR, name: dbName(database), onLost, lazy: true }),
        { host: kind, database, logCleanerIntervalMs, onReopenFailed: (e) => { if (e instanceof IncompatibleVersionError) incompatible(e); } },
      ));
      let broker: Broker;
      try {
        broker = await this.local;
      } catch (e) {
        this.fail(e);
        return;
      }
      this.stopServing = serveRpc(database, broker, this.id);
      await Promise.race([hold, upgradedAway]);
      this.stopServing();
      broker.close();
    }).catch((e: unknown) => this.fail(e));
  }

  /**
   * The log could not be opened: every pending and later call fails with the cause (itself when
   * the database is newer than this code: IncompatibleVersionError).
   */
  private fail(cause: unknown): void {
    const why = cause instanceof Error ? cause.message : String(cause);
    // Not retriable: this host stays failed; a new connection (another host) may succeed.
    this.failed = cause instanceof IncompatibleVersionError
      ? cause
      : new BrokerUnavailableError(`the broker of ${JSON.stringify(this.options.database)} failed to open: ${why}`, { cause, retriable: false, details: { database: this.options.database } });
    this.local = undefined;
    this.rpc.close(this.failed);
  }

  /** Gives up the lock (if held) and stops forwarding. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rpc.close();
    this.release?.();
  }
}
