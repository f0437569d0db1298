/**
 * A stored batch whose bytes no longer match its CRC-32C, in real IndexedDB (Chromium and
 * Firefox): the consumer gets every record before it, then crashes with CorruptRecordError
 * naming the batch (topic, partition, baseOffset) and does not restart; nothing of the damaged
 * batch is handed to the handler. The batch is damaged in the database itself, behind a broker
 * that was closed, so it is read back from IndexedDB (not from the appender's memory).
 */
import { expect } from '@esm-bundle/chai';
import { createClient, CorruptRecordError, type KafkaMessage } from '../../src/index.js';
import { describe, it } from '../log/mocha-globals.js';

const freshName = () => `corrupt-${Date.now()}-${Math.random().toString(36).slice(2)}`;

/** Writes three sends of `perSend` records to partition 0 of topic `t`, one stored batch each; answers their base offsets. */
async function writeThreeBatches(database: string, perSend: number): Promise<number[]> {
  const lanes = createClient({ clientId: 'corrupt-test', database, broker: 'in-page', logCleanerIntervalMs: 0 });
  const admin = lanes.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
  const producer = lanes.producer();
  await producer.connect();
  const bases: number[] = [];
  for (let s = 0; s < 3; s++) {
    const [r] = await producer.send({ topic: 't', messages: Array.from({ length: perSend }, (_, i) => ({ key: `k${s}-${i}`, value: { s, i } })) });
    bases.push(Number(r!.baseOffset));
  }
  await producer.disconnect();
  await admin.disconnect(); // the last reference: the in-page broker closes
  return bases;
}

/** Flips one byte of the stored payload of batch `t`-0@`baseOffset`, in the database itself. */
async function damage(database: string, baseOffset: number): Promise<void> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open(`lanes:${database}`);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const tx = db.transaction('batches', 'readwrite');
  const os = tx.objectStore('batches');
  const key = ['t', 0, baseOffset];
  const row = await new Promise<{ payload: Uint8Array; baseOffset: number }>((resolve) => { os.get(key).onsuccess = (e) => resolve((e.target as IDBRequest).result); });
  expect(row.baseOffset).to.equal(baseOffset);
  row.payload[Math.floor(row.payload.length / 2)]! ^= 0x10;
  if (os.keyPath === null) os.put(row, key);
  else os.put(row);
  await new Promise<void>((resolve, reject) => { tx.oncomplete = () => resolve(); tx.onabort = () => reject(tx.error); });
  db.close();
}

/** A free consumer from `offset`: the records handed to eachMessage until the consumer crashes, and the CRASH payload. */
async function consumeUntilCrash(database: string, offset: number): Promise<{ got: KafkaMessage[]; crash: { error: unknown; restart: boolean } }> {
  const lanes = createClient({ clientId: 'corrupt-test', database, broker: 'in-page', logCleanerIntervalMs: 0 });
  const consumer = lanes.consumer({ maxWaitTimeInMs: 100 });
  await consumer.connect();
  consumer.assign([{ topic: 't', partition: 0, offset: String(offset) }]);
  const got: KafkaMessage[] = [];
  const crash = await new Promise<{ error: unknown; restart: boolean }>((resolve) => {
    consumer.on(consumer.events.CRASH, (e) => resolve(e.payload as { error: unknown; restart: boolean }));
    void consumer.run({ eachMessage: async ({ message }) => { got.push(message); } });
  });
  await consumer.disconnect();
  return { got, crash };
}

describe('consumer: a stored batch that fails its CRC-32C check', () => {
  it('delivers the records before it, then crashes with CorruptRecordError naming the batch', async () => {
    const database = freshName();
    const perSend = 20;
    const bases = await writeThreeBatches(database, perSend);
    expect(bases).to.deep.equal([0, perSend, 2 * perSend]);
    await damage(database, bases[1]!);
    const { got, crash } = await consumeUntilCrash(database, 0);
    expect(got.map((m) => m.offset)).to.deep.equal(Array.from({ length: perSend }, (_, i) => String(i)));
    expect(got.map((m) => m.value)).to.deep.equal(Array.from({ length: perSend }, (_, i) => ({ s: 0, i })));
    expect(crash.error).to.be.instanceOf(CorruptRecordError);
    expect((crash.error as CorruptRecordError).code).to.equal('CORRUPT_MESSAGE');
    expect((crash.error as CorruptRecordError).details).to.deep.equal({ topic: 't', partition: 0, baseOffset: perSend });
    expect((crash.error as Error).message).to.match(/t-0@20 fails its CRC-32C check/);
    expect(crash.restart).to.equal(false);
  });

  it('a fetch that starts at the damaged batch crashes before any record; the batches after it stay readable', async () => {
    const database = freshName();
    const perSend = 5;
    const bases = await writeThreeBatches(database, perSend);
    await damage(database, bases[1]!);
    const first = await consumeUntilCrash(database, bases[1]! + 2);
    expect(first.got).to.deep.equal([]);
    expect(first.crash.error).to.be.instanceOf(CorruptRecordError);
    expect((first.crash.error as CorruptRecordError).details).to.deep.equal({ topic: 't', partition: 0, baseOffset: bases[1] });
    const lanes = createClient({ clientId: 'corrupt-test', database, broker: 'in-page', logCleanerIntervalMs: 0 });
    const consumer = lanes.consumer({ maxWaitTimeInMs: 100 });
    await consumer.connect();
    consumer.assign([{ topic: 't', partition: 0, offset: String(bases[2]) }]);
    const after: KafkaMessage[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (e) => reject((e.payload as { error: Error }).error));
      void consumer.run({ eachMessage: async ({ message }) => { after.push(message); if (after.length === perSend) resolve(); } });
    });
    await consumer.disconnect();
    expect(after.map((m) => m.value)).to.deep.equal(Array.from({ length: perSend }, (_, i) => ({ s: 2, i })));
  });
});
