/**
 * The in-page host: the broker runs in the calling context (a page with no workers, or Node
 * with an injected IDBFactory). One broker per (IDBFactory, database) in this realm, shared by
 * every client that connects to it, closed when the last one disconnects.
 */
import { InvalidArgumentError } from '../errors.js';
import { LogStore } from '../log/log-store.js';
import type { KeyRangeCtor } from '../log/log-db.js';
import { Broker } from './broker.js';

/** Options of the in-page host. */
export interface InPageOptions {
  database: string;
  indexedDB?: IDBFactory;
  IDBKeyRange?: KeyRangeCtor;
  logCleanerIntervalMs?: number;
}

interface Entry { broker: Promise<Broker>; refs: number }
const registry = new Map<IDBFactory, Map<string, Entry>>();

/** The IndexedDB database name of a lanes database. */
export function dbName(database: string): string {
  return `lanes:${database}`;
}

/**
 * The IDBKeyRange of fake-indexeddb, when `factory` is one of its factories: key ranges are
 * not reachable from a factory, and a Node caller injecting only `indexedDB` (no globals) is
 * the common case. The specifier is a variable so bundlers leave this optional import alone.
 */
async function fakeIndexedDbKeyRange(factory: IDBFactory): Promise<KeyRangeCtor | undefined> {
  const specifier = 'fake-indexeddb';
  try {
    const mod = (await import(/* @vite-ignore */ specifier)) as { IDBFactory?: new () => IDBFactory; IDBKeyRange?: KeyRangeCtor };
    if (mod.IDBFactory && factory instanceof mod.IDBFactory) return mod.IDBKeyRange;
  } catch { /* not installed: the caller gets the clear error below */ }
  return undefined;
}

/** The IDBFactory to use: the injected one, else the global one; a clear error when neither exists. */
function factoryOf(o: { indexedDB?: IDBFactory }): IDBFactory {
  const factory = o.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!factory) throw new InvalidArgumentError('no IndexedDB here: pass `indexedDB` (in Node, e.g. new IDBFactory() from fake-indexeddb)');
  return factory;
}

/** Resolves the IDBFactory and IDBKeyRange to use, with a clear error when either is missing. */
export async function resolveIndexedDB(o: { indexedDB?: IDBFactory; IDBKeyRange?: KeyRangeCtor }): Promise<{ factory: IDBFactory; KR: KeyRangeCtor }> {
  const g = globalThis as { IDBKeyRange?: KeyRangeCtor };
  const factory = factoryOf(o);
  const KR = o.IDBKeyRange ?? g.IDBKeyRange ?? (o.indexedDB ? await fakeIndexedDbKeyRange(o.indexedDB) : undefined);
  if (!KR) throw new InvalidArgumentError("no IDBKeyRange here: pass `IDBKeyRange` with `indexedDB` (e.g. import { IDBKeyRange } from 'fake-indexeddb'), or import 'fake-indexeddb/auto'");
  return { factory, KR };
}

/** Gets (opening if needed) the in-page broker of a database; call release() when done. */
export async function acquireInPageBroker(o: InPageOptions): Promise<{ broker: Broker; release: () => void }> {
  if (typeof o.database !== 'string' || o.database === '') throw new InvalidArgumentError('createClient: `database` must be a non-empty string');
  const factory = factoryOf(o);
  let byName = registry.get(factory);
  if (!byName) registry.set(factory, (byName = new Map()));
  let entry = byName.get(o.database);
  if (!entry) {
    const broker = resolveIndexedDB(o).then(({ KR }) => Broker.openLog(
      (onLost) => LogStore.open({ indexedDB: factory, IDBKeyRange: KR, name: dbName(o.database), onLost, lazy: true }),
      { host: 'in-page', database: o.database, logCleanerIntervalMs: o.logCleanerIntervalMs },
    ));
    entry = { broker, refs: 0 };
    byName.set(o.database, entry);
    broker.catch(() => byName!.delete(o.database));
  }
  entry.refs++;
  const e = entry;
  let released = false;
  const broker = await e.broker;
  return {
    broker,
    release: () => {
      if (released) return;
      released = true;
      if (--e.refs === 0 && byName!.get(o.database) === e) {
        byName!.delete(o.database);
        broker.close();
      }
    },
  };
}
