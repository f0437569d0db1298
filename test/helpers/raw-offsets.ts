/**
 * Writes records into `__consumer_offsets` directly through the log, bypassing the broker's
 * checks: what a database written by a buggy version (or by a user send before internal topics
 * were protected) holds. Works on any IDBFactory (fake-indexeddb in node, Chromium's own).
 */
import { dbName } from '../../src/broker/in-page.js';
import { Appender } from '../../src/log/appender.js';
import type { KeyRangeCtor } from '../../src/log/log-db.js';
import { LogStore } from '../../src/log/log-store.js';
import { OFFSETS_TOPIC } from '../../src/protocol/internal-topics.js';
import { encodeRecords } from '../../src/protocol/record-batch.js';
import type { Message } from '../../src/types.js';

/** Records no committed offset looks like: each of them broke loading before. */
export const BAD_OFFSET_RECORDS: Message[] = [
  { key: null, value: 'user data' }, // what a user producer.send({ topic: '__consumer_offsets' }) wrote
  { key: 'not json', value: { offset: 1 } },
  { key: JSON.stringify(['g', 't']), value: { offset: 1 } },
  { key: JSON.stringify(['g', 't', 0]), value: 'not an offset' },
  { key: JSON.stringify(['g', 't', 0]), value: { offset: -5 } },
];

/** Appends `messages` to `__consumer_offsets`-0 of a lanes database, then closes it. */
export async function appendRawOffsetRecords(o: { indexedDB: IDBFactory; IDBKeyRange: KeyRangeCtor; database: string }, messages: Message[] = BAD_OFFSET_RECORDS): Promise<void> {
  const store = await LogStore.open({ indexedDB: o.indexedDB, IDBKeyRange: o.IDBKeyRange, name: dbName(o.database) });
  try {
    await new Appender(store).append({ producerId: -1, producerEpoch: 0, batches: [{ topic: OFFSETS_TOPIC, partition: 0, baseSequence: -1, records: encodeRecords(messages, Date.now()) }] });
  } finally {
    store.close();
  }
}
