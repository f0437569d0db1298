import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { createClient, logLevel, type ClientConfig } from '../../src/index.js';
import type { TopicSchema, UntypedTopics } from '../../src/types.js';

let n = 0;

/** A client on a fresh fake-indexeddb database, with the cleaner timer off and INFO log lines muted. */
export function nodeClient<S extends TopicSchema = UntypedTopics>(over: Partial<ClientConfig> = {}) {
  const indexedDB = over.indexedDB ?? new IDBFactory();
  const config: ClientConfig & { database: string } = { clientId: 'test', database: `db-${Date.now()}-${n++}`, broker: 'in-page', indexedDB, IDBKeyRange, logCleanerIntervalMs: 0, logLevel: logLevel.WARN, ...over };
  return { client: createClient<S>(config), config, indexedDB };
}
