/**
 * The broker's transaction coordinator: transactional produces, commit and abort (Kafka's
 * EndTxn), fencing by epoch, and the transaction timeout.
 *
 * A transaction's records go to the log as they are sent (flagged transactional); its end is
 * ONE appender request, one IndexedDB transaction, holding a COMMIT or ABORT marker for every
 * partition it wrote, the group's offsets (commit only) and the transaction index rows. So the
 * records, the offsets and the markers become visible together or not at all, with no
 * coordinator round trips (see log/txn-index.ts for what readers see).
 *
 * Invariants:
 * - Calls of one transactionalId run one after the other (produce, end, init, timeout).
 * - Every call checks the producer's id and epoch against the transactionalId's current ones:
 *   an older epoch gets ProducerFencedError and writes nothing.
 * - initProducerId with a transactionalId bumps its epoch, then aborts the transaction the
 *   previous producer left open (a reload, a crashed tab, another tab taking over).
 * - An open transaction older than its `transactionTimeout` is aborted by the broker, which
 *   bumps the epoch first: the producer that let it expire is fenced, as in Kafka.
 * - Offsets of an aborted transaction are never written.
 */
import { InvalidArgumentError, InvalidTxnStateError, ProducerFencedError } from '../errors.js';
import type { AppendBatch, AppendRequest, AppendResult, MetaPut } from '../log/appender.js';
import type { LogStore } from '../log/log-store.js';
import { abortedKey, openKey, type AbortedRange, type OpenTxn } from '../log/txn-index.js';
import type { EndTxnRequest, OffsetCommitRequest, ProduceRequest, ProduceResult } from '../protocol/broker-api.js';
import { OFFSETS_TOPIC } from '../protocol/internal-topics.js';
import { encodeRecords } from '../protocol/record-batch.js';
import { tpKey } from '../protocol/topic-partition.js';
import type { GroupService } from '../group/group-service.js';

/** Kafka's default transaction.timeout.ms. */
export const DEFAULT_TRANSACTION_TIMEOUT = 60_000;

/** What the coordinator needs of its broker (the store and appender change when a lost database reopens). */
export interface TxnHost {
  readonly store: LogStore;
  readonly groups: GroupService;
  append(req: AppendRequest): Promise<ProduceResult[]>;
  /** Wakes watches (committed offsets changed). */
  poke(): void;
}

/** The transaction coordinator of a broker. */
export class TxnCoordinator {
  private chains = new Map<string, Promise<unknown>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(private readonly host: TxnHost) {}

  /** Runs `fn` after the earlier calls of the same transactionalId. */
  private run<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.chains.set(id, tail);
    void tail.then(() => { if (this.chains.get(id) === tail) this.chains.delete(id); });
    return next;
  }

  /** A producer id and a bumped epoch for `id`; aborts what an older producer left open. */
  initProducer(id: string): Promise<{ producerId: number; producerEpoch: number }> {
    return this.run(id, async () => {
      const next = await this.host.store.initTransactionalProducer(id);
      const open = this.host.store.txns.open.get(id);
      if (open) await this.end(id, open, 'ABORT');
      return next;
    });
  }

  /** Writes a transactional producer's records as part of its open transaction (opening one if needed). */
  produce(req: ProduceRequest & { transactionalId: string }): Promise<ProduceResult[]> {
    const id = checkTransactionalId(req.transactionalId);
    const timeoutMs = req.transactionTimeout ?? DEFAULT_TRANSACTION_TIMEOUT;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new InvalidArgumentError(`producer.transactionTimeout must be a positive integer (ms); got ${JSON.stringify(req.transactionTimeout)}`, { details: { field: 'transactionTimeout' } });
    return this.run(id, async () => {
      await this.checkEpoch(id, req.producerId, req.producerEpoch);
      const index = this.host.store.txns;
      const open = index.open.get(id);
      const startedAt = this.host.store.now();
      let next: OpenTxn | undefined;
      // A send to partitions the open transaction already covers writes no index row: its
      // IndexedDB transaction then leaves the meta store out of its scope.
      const known = open && Array.isArray(req.batches) && req.batches.every((b) => open.partitions.some((p) => p.topic === b?.topic && p.partition === b?.partition));
      const results = await this.host.append({
        producerId: req.producerId,
        producerEpoch: req.producerEpoch,
        batches: req.batches.map((b): AppendBatch => ({ topic: b?.topic, partition: b?.partition, baseSequence: b?.baseSequence, records: b?.records, transactional: true })),
        meta: known ? undefined : (landed) => {
          const base: OpenTxn = open ?? { transactionalId: id, producerId: req.producerId, producerEpoch: req.producerEpoch, startedAt, timeoutMs, partitions: [] };
          const partitions = [...base.partitions];
          for (const r of landed) {
            if (!partitions.some((p) => p.topic === r.topic && p.partition === r.partition)) partitions.push({ topic: r.topic, partition: r.partition, firstOffset: r.baseOffset });
          }
          if (open && partitions.length === open.partitions.length) return [];
          next = { ...base, partitions };
          return [{ key: openKey(id), value: next }];
        },
        committed: () => {
          if (next) index.open.set(id, next);
        },
      });
      this.schedule();
      return results;
    });
  }

  /** Commits or aborts the producer's open transaction (a commit also writes the group's offsets). */
  endTransaction(req: EndTxnRequest): Promise<void> {
    if (!req || typeof req !== 'object') throw new InvalidArgumentError('endTransaction needs a request');
    const id = checkTransactionalId(req.transactionalId);
    if (typeof req.commit !== 'boolean') throw new InvalidArgumentError('endTransaction.commit must be a boolean');
    const o = req.commit ? req.offsets : undefined;
    const groupId = o && typeof o.groupId === 'string' && o.groupId !== '' ? o.groupId : undefined;
    return this.run(id, () => (groupId ? this.host.groups.tracked(groupId, () => this.endChecked(id, req)) : this.endChecked(id, req)));
  }

  /** endTransaction's checks and writes, in the transactionalId's turn. */
  private async endChecked(id: string, req: EndTxnRequest): Promise<void> {
    await this.checkEpoch(id, req.producerId, req.producerEpoch);
    const o = req.commit ? req.offsets : undefined;
    const groups = this.host.groups;
    let offsets: AppendBatch | undefined;
    if (o) {
      if (typeof o.groupId !== 'string' || o.groupId === '') throw new InvalidArgumentError('sendOffsets.consumerGroupId must be a non-empty string');
      if (!Number.isInteger(o.offsetsSequence) || o.offsetsSequence < 0) throw new InvalidArgumentError('endTransaction.offsets.offsetsSequence must be a non-negative integer');
      // Without a member, only the offsets are checked (Kafka's TxnOffsetCommit without group
      // metadata does the same); with one, a stale generation is refused (IllegalGeneration).
      if (o.memberId === undefined && o.generationId === undefined) await groups.checkOffsets(o.offsets);
      else await groups.checkCommit({ groupId: o.groupId, memberId: o.memberId ?? '', generationId: o.generationId ?? -1, offsets: o.offsets });
      if (o.offsets.length > 0) offsets = { topic: OFFSETS_TOPIC, partition: 0, baseSequence: o.offsetsSequence, records: groups.offsets.encodeCommit(o.groupId, o.offsets) };
    }
    const open = this.host.store.txns.open.get(id);
    if (!open && !offsets) return; // nothing written (an empty transaction, or a retried end)
    await this.end(id, open, req.commit ? 'COMMIT' : 'ABORT', offsets && o ? { batch: offsets, groupId: o.groupId, offsets: o.offsets, producerId: req.producerId, producerEpoch: req.producerEpoch } : undefined);
  }

  /** Writes the markers (and offsets) that end `open`, with the index rows, in one append. */
  private async end(id: string, open: OpenTxn | undefined, type: 'COMMIT' | 'ABORT', offsets?: { batch: AppendBatch; groupId: string; offsets: OffsetCommitRequest['offsets']; producerId: number; producerEpoch: number }): Promise<void> {
    const store = this.host.store;
    // The log reads topic rows lazily: after a restart, an open transaction may name topics no
    // call has named yet.
    if (open) await store.useTopics(open.partitions.map((p) => p.topic));
    const index = store.txns;
    const now = store.now();
    const batches: AppendBatch[] = (open?.partitions ?? []).map((p) => ({ topic: p.topic, partition: p.partition, baseSequence: -1, records: encodeRecords([{ value: type }], now), control: type }));
    if (offsets) batches.push(offsets.batch);
    const aborted = new Map<string, AbortedRange[]>();
    const results = await this.host.append({
      producerId: offsets?.producerId ?? open!.producerId,
      producerEpoch: offsets?.producerEpoch ?? open!.producerEpoch,
      batches,
      meta: (landed: AppendResult[]) => {
        const puts: MetaPut[] = open ? [{ key: openKey(id), value: undefined }] : [];
        if (type === 'ABORT' && open) {
          for (const p of open.partitions) {
            const marker = landed.find((r) => r.topic === p.topic && r.partition === p.partition)!;
            const list = [...(index.aborted.get(tpKey(p.topic, p.partition)) ?? []), { producerId: open.producerId, firstOffset: p.firstOffset, lastOffset: marker.baseOffset }]
              .filter((r) => r.lastOffset >= store.watermarks(p.topic, p.partition).low);
            aborted.set(tpKey(p.topic, p.partition), list);
            puts.push({ key: abortedKey(p.topic, p.partition), value: list });
          }
        }
        return puts;
      },
      committed: () => {
        if (open && index.open.get(id) === open) index.open.delete(id);
        for (const [k, list] of aborted) index.aborted.set(k, list);
      },
    });
    if (offsets) {
      const r = results.find((x) => x.topic === OFFSETS_TOPIC);
      // A retried commit already applied its offsets; a later commit may have moved them since.
      if (r && !r.duplicate) this.host.groups.offsets.applyCommitted(offsets.groupId, offsets.offsets);
      this.host.poke();
    }
  }

  /** Throws ProducerFencedError unless (producerId, epoch) is the transactionalId's current producer. */
  private async checkEpoch(id: string, producerId: number, producerEpoch: number): Promise<void> {
    const current = await this.host.store.transactionalProducer(id);
    if (!current) throw new InvalidTxnStateError(`transactionalId ${JSON.stringify(id)} has no producer: call initProducerId first`, { details: { transactionalId: id } });
    if (current.producerId !== producerId || current.producerEpoch !== producerEpoch) {
      throw new ProducerFencedError(`producer ${producerId} (epoch ${producerEpoch}) of transactionalId ${JSON.stringify(id)} was fenced by a newer producer (epoch ${current.producerEpoch})`, {
        details: { transactionalId: id, producerId, producerEpoch, currentEpoch: current.producerEpoch },
      });
    }
  }

  /** Arms the timer for the earliest open transaction's deadline. */
  schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    let earliest = Infinity;
    for (const t of this.host.store.txns.open.values()) earliest = Math.min(earliest, t.startedAt + t.timeoutMs);
    if (earliest === Infinity) return;
    // A delay above 2^31-1 ms fires at once (browsers and Node): wake then and arm again.
    this.timer = setTimeout(() => { void this.expire(); }, Math.min(0x7fffffff, Math.max(0, earliest - this.host.store.now())));
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Aborts every open transaction past its timeout (bumping its epoch: the late producer is fenced). */
  private async expire(): Promise<void> {
    const now = this.host.store.now();
    const due = [...this.host.store.txns.open.values()].filter((t) => t.startedAt + t.timeoutMs <= now);
    await Promise.all(due.map((t) => this.run(t.transactionalId, async () => {
      const open = this.host.store.txns.open.get(t.transactionalId);
      if (open !== t || this.closed) return;
      await this.host.store.initTransactionalProducer(t.transactionalId);
      await this.end(t.transactionalId, open, 'ABORT');
    }).catch((e: unknown) => console.warn(`lanes broker: aborting the timed-out transaction of ${JSON.stringify(t.transactionalId)} failed`, e))));
    this.schedule();
  }

  /** Stops the timer. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}

/** A transactionalId as the broker accepts it: a non-empty string of at most 249 characters. */
export function checkTransactionalId(id: unknown): string {
  if (typeof id !== 'string' || id === '' || id.length > 249) throw new InvalidArgumentError(`transactionalId must be a non-empty string of at most 249 characters; got ${JSON.stringify(id)}`, { details: { transactionalId: id } });
  return id;
}
