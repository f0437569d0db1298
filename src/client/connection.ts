/**
 * How a client reaches its broker. Producers, consumers and admins of one client share one
 * connection, opened by the first connect() and released by the last disconnect().
 */
import { portBroker } from '../protocol/port-rpc.js';
import { MAX_PARTITIONS } from '../protocol/topic-partition.js';
import { PROTOCOL_VERSION } from '../protocol/broker-api.js';
import { BrokerUnavailableError, formatValue, InvalidArgumentError, NotConnectedError } from '../errors.js';
import type { BrokerApi } from '../protocol/broker-api.js';
import type { Instrumentation } from './instrumentation.js';
import { DEFAULT_REQUEST_TIMEOUT, withRequestLayer } from './requests.js';
import { createLogger, type LogCreator, type Logger, type LogLevel } from './logger.js';
import type { SyncOptions } from './sync/sync-client.js';
import type { RetryOptions } from './retry.js';

/** Where the broker runs. */
export type BrokerHostKind = 'in-page' | 'shared-worker' | 'leader-tab' | 'auto';

/** Config of createClient. */
export interface ClientConfig {
  /** Names this client in logs and group member ids. */
  clientId?: string;
  /** The lanes database: one log per origin and database. Default {@link DEFAULT_DATABASE}. */
  database?: string;
  /**
   * Where the broker runs. 'auto' (default): a SharedWorker where the browser has one, else
   * the tab elected with the Web Lock `lanes:<db>:broker`, else (no Web Locks, e.g. Node) in
   * this context. 'in-page': in this context (single page, or Node with an injected `indexedDB`).
   */
  broker?: BrokerHostKind;
  /** URL of the SharedWorker script. Default: `lanes-broker.js` beside the lanes bundle. */
  workerUrl?: string | URL;
  /** An IDBFactory to use instead of the global one (Node: fake-indexeddb). */
  indexedDB?: IDBFactory;
  /** The IDBKeyRange of the same implementation as `indexedDB`, when it is not global. */
  IDBKeyRange?: typeof IDBKeyRange;
  /** Partitions of auto-created topics (Kafka's num.partitions). Default 1. */
  defaultNumPartitions?: number;
  /** How often the broker's log cleaner runs, in ms; 0 turns the timer off. Default 30000. */
  logCleanerIntervalMs?: number;
  /**
   * Deadline of a broker call in ms (KafkaJS's requestTimeout); a call without an answer by then
   * fails with a retriable RequestTimeoutError. Long-poll fetches and joins get their wait on top.
   * Default 30000.
   */
  requestTimeout?: number;
  /** KafkaJS's logLevel: logLevel.NOTHING, ERROR, WARN, INFO (default) or DEBUG. */
  logLevel?: LogLevel;
  /** KafkaJS's logCreator: `(level) => ({ namespace, level, label, log }) => void`. Default: JSON lines on the console. */
  logCreator?: LogCreator;
  /** Sync to a replica server: `{ url, token }` (see docs/API.md, Sync). */
  sync?: SyncOptions;
  /** KafkaJS's client-wide retry options: the defaults of every producer, consumer and admin (their own `retry` wins per field). */
  retry?: RetryOptions;
  /** KafkaJS's enforceRequestTimeout: `false` lets broker calls wait without a deadline. Default true. */
  enforceRequestTimeout?: boolean;
  /**
   * KafkaJS's connection options, accepted so that a KafkaJS config works as written, with no
   * meaning in a browser: the broker is the origin's SharedWorker (or a tab, or this context),
   * reached without a network, so there are no broker addresses, TLS, SASL or sockets.
   */
  brokers?: string[] | (() => string[] | Promise<string[]>);
  /** KafkaJS's TLS options; see {@link ClientConfig.brokers}. */
  ssl?: boolean | object;
  /** KafkaJS's SASL options; see {@link ClientConfig.brokers}. */
  sasl?: { mechanism: string } & Record<string, unknown>;
  /** KafkaJS's socket connect timeout; see {@link ClientConfig.brokers}. */
  connectionTimeout?: number;
  /** KafkaJS's SASL handshake timeout; see {@link ClientConfig.brokers}. */
  authenticationTimeout?: number;
  /** KafkaJS's SASL re-authentication threshold; see {@link ClientConfig.brokers}. */
  reauthenticationThreshold?: number;
  /** KafkaJS's custom socket factory; see {@link ClientConfig.brokers}. */
  socketFactory?: unknown;
}

/** The database of a client created without `database` (a KafkaJS config as written). */
export const DEFAULT_DATABASE = 'lanes';

const atLeast0 = (v: unknown) => typeof v === 'number' && v >= 0;
const isObject = (v: unknown) => typeof v === 'object' && v !== null;
const isFunction = (v: unknown) => typeof v === 'function';

/**
 * The options createClient checks, each with what it must be: lanes' own, and KafkaJS's
 * connection options, which lanes accepts and ignores but only in the shapes KafkaJS takes.
 */
const CHECKS: Record<string, [string, (v: unknown) => boolean]> = {
  database: ['a non-empty string', (v) => typeof v === 'string' && v !== ''],
  broker: ["'in-page', 'shared-worker', 'leader-tab' or 'auto'", (v) => ['in-page', 'shared-worker', 'leader-tab', 'auto'].includes(v as string)],
  requestTimeout: ['a number of ms > 0', (v) => typeof v === 'number' && v > 0],
  enforceRequestTimeout: ['a boolean', (v) => typeof v === 'boolean'],
  // NaN or a timer beyond 2^31-1 ms fires at once: the cleaner would run without pause.
  logCleanerIntervalMs: ['a number of ms from 0 (off) to 2147483647', (v) => typeof v === 'number' && v >= 0 && v <= 0x7fffffff],
  defaultNumPartitions: [`an integer from 1 to ${MAX_PARTITIONS}`, (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_PARTITIONS],
  brokers: ['a string[] or a function (KafkaJS\'s shape)', (v) => isFunction(v) || (Array.isArray(v) && v.every((b) => typeof b === 'string'))],
  ssl: ['a boolean or an object (KafkaJS\'s shape)', (v) => typeof v === 'boolean' || isObject(v)],
  sasl: ['an object with a string mechanism (KafkaJS\'s shape)', (v) => isObject(v) && typeof (v as { mechanism?: unknown }).mechanism === 'string'],
  connectionTimeout: ['a number >= 0', atLeast0],
  authenticationTimeout: ['a number >= 0', atLeast0],
  reauthenticationThreshold: ['a number >= 0', atLeast0],
  socketFactory: ['a function (KafkaJS\'s shape)', isFunction],
};

/** A shared, reference-counted broker connection. */
export class Connection {
  private current: Promise<{ broker: BrokerApi; release: () => void }> | undefined;
  private refs = 0;
  /** Request-layer views of the open broker, per instrumented member (this connection: no events); weak, so dropped members go. */
  private views = new WeakMap<object, BrokerApi>();
  private viewsOf: BrokerApi | undefined;
  /** The client's root logger (KafkaJS's `kafka.logger()`). */
  readonly logger: Logger;
  private hooks: ((broker: BrokerApi) => Promise<(() => void) | void>)[] = [];
  /**
   * This client's group consumers, by groupId: each tells its member id and generation while it
   * is in the group. A transaction's sendOffsets takes them from here (Kafka's consumer group
   * metadata), so a consumer that lost its partitions cannot commit inside a transaction.
   */
  readonly groupMembers = new Map<string, Set<() => { memberId: string; generationId: number } | undefined>>();
  private stops: (() => void)[] = [];

  /** The config as given, with `database` defaulted. */
  readonly config: ClientConfig & { database: string };

  constructor(config: ClientConfig) {
    if (!config || typeof config !== 'object') throw new InvalidArgumentError('createClient: expected a config object');
    for (const [name, [what, ok]] of Object.entries(CHECKS)) {
      const v = (config as Record<string, unknown>)[name];
      if (v !== undefined && !ok(v)) throw new InvalidArgumentError(`createClient: \`${name}\` must be ${what}; got ${formatValue(v)}`, { details: { field: name } });
    }
    this.config = { ...config, database: config.database ?? DEFAULT_DATABASE };
    this.logger = createLogger(config.logLevel, config.logCreator);
  }

  /** The broker behind the request layer (deadlines; request events when `events` is given). */
  private view(raw: BrokerApi, events?: Instrumentation, prefix?: string): BrokerApi {
    if (this.viewsOf !== raw) { this.viewsOf = raw; this.views = new WeakMap(); }
    let v = this.views.get(events ?? this);
    if (!v) {
      const c = this.config;
      v = withRequestLayer(raw, { requestTimeout: c.enforceRequestTimeout === false ? Infinity : c.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT, clientId: c.clientId ?? 'lanes', host: resolveHost(c.broker ?? 'auto'), events, prefix });
      this.views.set(events ?? this, v);
    }
    return v;
  }

  /** Opens the connection (or joins the open one). */
  async acquire(): Promise<BrokerApi> {
    this.refs++;
    try {
      this.current ??= this.open().then(async (c) => {
        try {
          for (const hook of this.hooks) { const stop = await hook(c.broker); if (stop) this.stops.push(stop); }
        } catch (e) {
          c.release();
          throw e;
        }
        return c;
      });
      return this.view((await this.current).broker);
    } catch (e) {
      this.refs--;
      this.current = undefined;
      throw e;
    }
  }

  private async open(): Promise<{ broker: BrokerApi; release: () => void }> {
    const c = this.config;
    const host = resolveHost(c.broker ?? 'auto');
    if (host === 'in-page' || host === 'leader-tab') {
      // Loaded on demand: a page whose broker runs in the SharedWorker never downloads it.
      const { openLocalBroker } = await import('../broker/local-host.js');
      return openLocalBroker(host, { database: c.database, indexedDB: c.indexedDB, IDBKeyRange: c.IDBKeyRange, logCleanerIntervalMs: c.logCleanerIntervalMs });
    }
    const url = new URL(c.workerUrl ?? new URL('./lanes-broker.js', import.meta.url), globalThis.location?.href);
    if (c.logCleanerIntervalMs !== undefined) url.searchParams.set('logCleanerIntervalMs', String(c.logCleanerIntervalMs));
    const worker = new SharedWorker(url, { type: 'module', name: `lanes:${c.database}` });
    const remote = portBroker(worker.port);
    // A worker script that fails to load or run only fires 'error' on the SharedWorker object;
    // without this the first call would wait forever.
    const failed = new Promise<never>((_, reject) => {
      worker.addEventListener('error', () => reject(new BrokerUnavailableError(
        `the SharedWorker broker at ${url.href} failed to start (check workerUrl and that the file is served as JavaScript)`,
        { retriable: false, details: { workerUrl: url.href } },
      )), { once: true });
    });
    let hello: Awaited<ReturnType<BrokerApi['hello']>>;
    try {
      hello = await Promise.race([this.view(remote.broker).hello(), failed]);
    } catch (e) {
      remote.release();
      throw e;
    }
    if (hello.version !== PROTOCOL_VERSION) {
      remote.release();
      throw new BrokerUnavailableError(`the SharedWorker broker speaks protocol ${hello.version}, this page ${PROTOCOL_VERSION}`, { retriable: false });
    }
    return remote;
  }

  /** Runs `hook` each time the connection opens (sync starts there); the function it answers runs when it closes. */
  onOpen(hook: (broker: BrokerApi) => Promise<(() => void) | void>): void {
    this.hooks.push(hook);
  }

  /**
   * The broker, for a connected member; throws NotConnectedError otherwise. Every call has a
   * deadline; a member passing its `events` (and their prefix, e.g. 'producer') gets KafkaJS's
   * request events there.
   */
  async broker(events?: Instrumentation, prefix?: string): Promise<BrokerApi> {
    if (!this.current || this.refs === 0) throw new NotConnectedError('not connected: call connect() first');
    return this.view((await this.current).broker, events, prefix);
  }

  /** Drops one reference; the last one closes the connection. */
  async release(): Promise<void> {
    if (this.refs === 0) return;
    if (--this.refs > 0) return;
    const cur = this.current;
    this.current = undefined;
    for (const stop of this.stops.splice(0)) stop();
    if (cur) (await cur.catch(() => undefined))?.release();
  }
}

/** Picks the concrete host for 'auto' from what this context offers. */
export function resolveHost(h: BrokerHostKind): Exclude<BrokerHostKind, 'auto'> {
  if (h !== 'auto') return h;
  const g = globalThis as { SharedWorker?: unknown; navigator?: { locks?: unknown }; BroadcastChannel?: unknown; document?: unknown };
  if (typeof g.SharedWorker === 'function') return 'shared-worker';
  if (g.navigator?.locks && typeof g.BroadcastChannel === 'function' && g.document) return 'leader-tab';
  return 'in-page';
}
