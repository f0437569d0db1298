/**
 * The on-demand entry of the hosts that run the broker in the calling context: the in-page
 * host and the leader-tab host. The client loads this module with a dynamic `import()` only
 * when it needs one of them, so a page whose broker runs in the SharedWorker never downloads
 * the broker (LogStore, Appender, cleaner, GroupCoordinator); the bundle puts it in its own chunk.
 */
import type { BrokerApi } from '../protocol/broker-api.js';
import { BrokerHost } from './broker-host.js';
import { acquireInPageBroker } from './in-page.js';

/** What the client passes to a local host. */
export interface LocalHostOptions {
  database: string;
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
  logCleanerIntervalMs?: number;
}

/** Opens (or joins) the broker of `database` in this context; `release()` when done. */
export async function openLocalBroker(kind: 'in-page' | 'leader-tab', o: LocalHostOptions): Promise<{ broker: BrokerApi; release: () => void }> {
  if (kind === 'in-page') return acquireInPageBroker(o);
  const h = new BrokerHost({ ...o, kind: 'leader-tab' });
  h.start();
  return { broker: h.api, release: () => h.close() };
}
