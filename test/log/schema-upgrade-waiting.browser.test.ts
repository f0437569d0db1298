/**
 * A long schema upgrade and the connections around it, in real IndexedDB (Chromium and
 * Firefox). The upgrade from version 1 copies every batch row inside the versionchange
 * transaction, so on a large log it takes seconds. Meanwhile:
 * - the open that runs it does not give up as "blocked": `blockedTimeoutMs` bounds the wait for
 *   older connections to close, not the upgrade that starts once they have;
 * - an open of the current version by another context waits for the upgrade and then sees
 *   every row;
 * - an open by version-1 code fails (VersionError) once the upgrade is done: old code never
 *   writes to the upgraded log.
 */
import { expect } from '@esm-bundle/chai';
import { DB_VERSION, openLogDb } from '../../src/log/log-db.js';
import { afterEach, describe, it } from './mocha-globals.js';
import { openVersion1 } from '../helpers/version1-db.js';

const names: string[] = [];
afterEach(async () => {
  await Promise.all(names.splice(0).map((n) => new Promise<void>((resolve) => {
    const r = indexedDB.deleteDatabase(n);
    r.onsuccess = r.onerror = r.onblocked = () => resolve();
  })));
});

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
}

/** A version-1 database (version 1's stores) with `rows` batch rows; answers its open connection. */
async function v1Database(name: string, rows: number): Promise<IDBDatabase> {
  const db = await openVersion1(name);
  const tx = db.transaction(['batches'], 'readwrite');
  for (let i = 0; i < rows; i++) {
    tx.objectStore('batches').put({
      topic: 't', partition: 0, baseOffset: i, lastOffsetDelta: 0, count: 1, firstTimestamp: 1, maxTimestamp: 1, timestampType: 'CreateTime',
      logAppendTime: -1, producerId: -1, producerEpoch: 0, baseSequence: -1, crc: 0, sizeBytes: 1085, payload: new Uint8Array(1024).fill(i & 255), segment: 0, cleanedAt: -1,
    });
  }
  await new Promise<void>((resolve, reject) => { tx.oncomplete = () => resolve(); tx.onabort = () => reject(tx.error); });
  return db;
}

describe('a long schema upgrade', () => {
  it('is not cut short by the blocked timeout once the older connection has closed', async () => {
    const name = `upgrade-wait-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    names.push(name);
    const rows = 500;
    const old = await v1Database(name, rows);
    // The older connection closes on `versionchange`, but late: the open is blocked first.
    const blockedTimeoutMs = 1000;
    old.onversionchange = () => setTimeout(() => old.close(), 100);
    // The upgrade is made to outlast the blocked timeout's deadline, whatever the machine's
    // speed: the test keeps the versionchange transaction busy with reads of its own until then.
    const open = IDBFactory.prototype.open;
    let blockedAt = -1;
    let spun = 0;
    IDBFactory.prototype.open = function (this: IDBFactory, ...args: Parameters<IDBFactory['open']>) {
      const r = open.apply(this, args);
      if (args[0] !== name) return r;
      r.addEventListener('blocked', () => { blockedAt = performance.now(); });
      r.addEventListener('upgradeneeded', () => {
        const tx = r.transaction!;
        const spin = (): void => {
          if (performance.now() > blockedAt + blockedTimeoutMs + 300) return;
          spun++;
          tx.objectStore('meta').get('nextProducerId').onsuccess = spin;
        };
        spin();
      });
      return r;
    } as IDBFactory['open'];
    let db;
    try {
      db = await openLogDb(indexedDB, name, { blockedTimeoutMs });
    } finally {
      IDBFactory.prototype.open = open;
    }
    try {
      expect(blockedAt, 'the open was blocked first').to.be.greaterThan(-1);
      expect(spun, 'the upgrade outlasted the deadline').to.be.greaterThan(0);
      expect(db.version).to.equal(DB_VERSION);
      // Every row under its key, with its value (the copy reads a few MB at a time).
      expect(await db.getAllKeys('batches')).to.deep.equal(Array.from({ length: rows }, (_, i) => ['t', 0, i]));
      const last = await db.get('batches', ['t', 0, rows - 1]);
      expect([last!.baseOffset, last!.payload.byteLength, last!.payload[0]]).to.deep.equal([rows - 1, 1024, (rows - 1) & 255]);
      expect([...db.objectStoreNames]).to.not.include('batches-v1');
    } finally {
      db.close();
    }
  });

  it('keeps an open of the current version waiting until it is done, and refuses version-1 code afterwards', async () => {
    const name = `upgrade-wait-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    names.push(name);
    const rows = 2000;
    (await v1Database(name, rows)).close();
    let upgraded = false;
    const first = openLogDb(indexedDB, name).then((db) => { upgraded = true; return db; });
    // Both asked after the first open's request (issued within this task), while it upgrades.
    await new Promise((r) => setTimeout(r, 0));
    const second = openLogDb(indexedDB, name).then(async (db) => {
      const seen = { upgradedFirst: upgraded, version: db.version, rows: await db.count('batches') };
      db.close();
      return seen;
    });
    const oldCode = req(indexedDB.open(name, 1)).then((db) => { db.close(); return 'opened'; }, (e: DOMException) => e.name);
    const db = await first;
    db.close();
    expect(await second).to.deep.equal({ upgradedFirst: true, version: DB_VERSION, rows });
    expect(await oldCode).to.equal('VersionError');
  });
});
