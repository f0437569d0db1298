/**
 * Storage failures at the log's edge, on fake-indexeddb with faults injected into its
 * transactions: a full disk must fail the append whole, as QuotaExceededError (not retriable),
 * however the engine reports it, and leave the log as it was and usable.
 */
import { unwrap } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { QuotaExceededError, StorageError, isRetriable } from '../../src/index.js';
import type { LogStore } from '../../src/log/log-store.js';
import { readAll, rejection, setup } from '../client/helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env | undefined;
afterEach(async () => { await env?.close(); env = undefined; });

/** fake-indexeddb's transaction internals the faults use. */
interface FakeTx extends IDBTransaction {
  _abort(name: string | null): void;
  _execRequestAsync(o: { operation: () => unknown; source: unknown }): IDBRequest;
  error: DOMException | null;
}

type Fault = (tx: FakeTx) => void;

/** Applies `fault` to the next readwrite transaction over (at least) `stores`. */
function injectOnce(store: LogStore, stores: string[], fault: Fault): { fired: () => boolean } {
  const db = unwrap(store.db); // the raw connection: the faults patch fake-indexeddb's objects
  const original = db.transaction.bind(db);
  let fired = false;
  db.transaction = ((names: string | string[], mode?: IDBTransactionMode) => {
    const tx = original(names, mode) as FakeTx;
    const list = typeof names === 'string' ? [names] : [...names];
    if (!fired && mode === 'readwrite' && stores.every((s) => list.includes(s))) {
      fired = true;
      db.transaction = original;
      fault(tx);
    }
    return tx;
  }) as IDBDatabase['transaction'];
  return { fired: () => fired };
}

/** An append writes the batches store (and others only when a segment rolls or the carrier changes). */
const PRODUCE = ['batches'];

/** The transaction aborts at commit with tx.error = QuotaExceededError (Chromium); its requests see AbortError. */
const abortAtCommit: Fault = (tx) => queueMicrotask(() => tx._abort('QuotaExceededError'));

/** The transaction aborts with an AbortError whose message names the quota (WebKit-style). */
const abortErrorMentioningQuota: Fault = (tx) => queueMicrotask(() => {
  tx._abort('AbortError');
  tx.error = new DOMException('The transaction was aborted: QuotaExceededError, the quota has been exceeded.', 'AbortError');
});

/** One put fails with QuotaExceededError (Firefox-style); the default action aborts the transaction. */
function failingPut(errorName: string, txErrorName?: string): Fault {
  return (tx) => {
    if (txErrorName) {
      const abort = tx._abort.bind(tx);
      tx._abort = (name) => abort(name === null ? null : txErrorName);
    }
    const objectStore = tx.objectStore.bind(tx);
    tx.objectStore = ((name: string) => {
      const os = objectStore(name);
      if (name === 'batches') {
        os.put = (() => tx._execRequestAsync({ operation: () => { throw new DOMException('no space left for this value', errorName); }, source: os })) as IDBObjectStore['put'];
      }
      return os;
    }) as IDBTransaction['objectStore'];
  };
}

const quotaCases: [string, Fault][] = [
  ['the transaction aborts with QuotaExceededError (its requests with AbortError)', abortAtCommit],
  ['the transaction aborts with an AbortError that names the quota', abortErrorMentioningQuota],
  ['a put fails with QuotaExceededError and the transaction aborts with it', failingPut('QuotaExceededError')],
  ['a put fails with QuotaExceededError but the transaction reports a plain AbortError', failingPut('QuotaExceededError', 'AbortError')],
];

describe('QuotaExceeded during a send', () => {
  for (const [name, fault] of quotaCases) {
    it(`${name}: the send fails whole with QuotaExceededError, offsets stay, the log stays usable`, async () => {
      env = await setup();
      const { admin, producer, broker, offsets } = env;
      await admin.createTopics({ topics: [{ topic: 'q', numPartitions: 2 }] });
      await producer.send({ topic: 'q', messages: [{ value: 'before-0', partition: 0 }, { value: 'before-1', partition: 1 }] });
      const before = await offsets('q');

      const injected = injectOnce(broker.store, PRODUCE, fault);
      const e = await rejection(producer.send({ topic: 'q', messages: [{ value: 'x', partition: 0 }, { value: 'y', partition: 1 }] }));
      expect(injected.fired()).toBe(true);
      expect(e).toBeInstanceOf(QuotaExceededError);
      expect(e.code).toBe('QUOTA_EXCEEDED');
      expect(e.retriable).toBe(false);
      expect(isRetriable(e)).toBe(false);
      expect((e as Error & { cause?: unknown }).cause).toBeInstanceOf(DOMException);

      expect(await offsets('q')).toEqual(before);
      expect((await readAll(broker, 'q', 0)).map((m) => m.value)).toEqual(['before-0']);
      expect((await readAll(broker, 'q', 1)).map((m) => m.value)).toEqual(['before-1']);

      // Space is free again: the next send lands right after the old records.
      const res = await producer.send({ topic: 'q', messages: [{ value: 'after', partition: 0 }] });
      expect(res[0]!.baseOffset).toBe('1');
      expect((await readAll(broker, 'q', 0)).map((m) => m.value)).toEqual(['before-0', 'after']);
    });
  }

  it('only the sends in the failed transaction fail; sends queued behind it still land', async () => {
    env = await setup();
    const { admin, producer, broker } = env;
    await admin.createTopics({ topics: [{ topic: 'q' }] });
    injectOnce(broker.store, PRODUCE, abortAtCommit);
    const lost = rejection(producer.send({ topic: 'q', messages: [{ value: 'lost' }] }));
    const queued = [producer.send({ topic: 'q', messages: [{ value: 'b' }] }), producer.send({ topic: 'q', messages: [{ value: 'c' }] })];
    expect(await lost).toBeInstanceOf(QuotaExceededError);
    expect((await Promise.all(queued)).map((r) => r[0]!.baseOffset).sort()).toEqual(['0', '1']);
    expect((await readAll(broker, 'q', 0)).map((m) => m.value).sort()).toEqual(['b', 'c']);
  });

  it('another storage failure becomes a StorageError with the DOMException as cause, and writes nothing', async () => {
    env = await setup();
    const { admin, producer, broker, offsets } = env;
    await admin.createTopics({ topics: [{ topic: 'q' }] });
    injectOnce(broker.store, PRODUCE, failingPut('UnknownError'));
    const e = await rejection(producer.send({ topic: 'q', messages: [{ value: 'x' }] }));
    expect(e).toBeInstanceOf(StorageError);
    expect(e.code).toBe('STORAGE_ERROR');
    expect(((e as Error & { cause?: DOMException }).cause)?.name).toBe('UnknownError');
    expect(await offsets('q')).toEqual([{ partition: 0, low: 0, high: 0 }]);
    expect(await readAll(broker, 'q', 0)).toEqual([]);
  });
});

describe('QuotaExceeded during topic admin', () => {
  it('a topic whose creation hit the quota does not exist', async () => {
    env = await setup();
    const { admin, broker } = env;
    injectOnce(broker.store, ['topics', 'partitions', 'segments'], abortAtCommit);
    expect(await rejection(admin.createTopics({ topics: [{ topic: 'q', numPartitions: 3 }] }))).toBeInstanceOf(QuotaExceededError);
    expect(await admin.listTopics()).toEqual([]);
    expect(await admin.createTopics({ topics: [{ topic: 'q', numPartitions: 3 }] })).toBe(true);
  });
});
