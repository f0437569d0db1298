/**
 * A database in the layout of the log's schema version 1, written with raw IndexedDB for
 * upgrade tests and the upgrade bench. Kept apart from src/log/log-db.ts on purpose: a change to
 * the code's own version-1 step must not change what the tests take as the old layout.
 *
 * Invariants:
 * - The stores and key paths are exactly those version 1 created; batches are keyed in line.
 * - Nothing but the stores is written: callers put the rows their case needs.
 */

/** Opens (creating at version 1) the database `name` with version 1's stores; answers the connection. */
export function openVersion1(name: string, factory: IDBFactory = indexedDB): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const open = factory.open(name, 1);
    open.onupgradeneeded = () => {
      const db = open.result;
      db.createObjectStore('topics', { keyPath: 'topic' });
      db.createObjectStore('partitions', { keyPath: ['topic', 'partition'] });
      db.createObjectStore('segments', { keyPath: ['topic', 'partition', 'baseOffset'] });
      db.createObjectStore('batches', { keyPath: ['topic', 'partition', 'baseOffset'] });
      db.createObjectStore('producers', { keyPath: ['producerId', 'topic', 'partition'] });
      db.createObjectStore('meta');
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}
