/**
 * Transactions of a transactional producer (KafkaJS's shape: `producer.transaction()`, then
 * `send`, `sendBatch`, `sendOffsets`, `commit` or `abort`). Loaded on demand by the first
 * `producer.transaction()`.
 *
 * Records are written to the log as they are sent, flagged transactional: read-uncommitted
 * consumers see them at once, read-committed ones (the default) only after the commit marker,
 * never after an abort. A group's offsets stay in the producer until commit, then travel with
 * the commit, which the broker writes as ONE IndexedDB transaction: markers on every partition
 * the transaction wrote plus the offsets, all visible together or none.
 *
 * Invariants:
 * - At most one transaction per producer is active; a finished one (committed, aborted or
 *   failed) refuses every call with InvalidTxnStateError.
 * - Sends inside a transaction carry the producer's sequences, so a retried send is written once;
 *   a commit carries the next sequence of `__consumer_offsets`-0 for the same reason.
 * - A commit the broker refuses for a group reason (the consumer lost its partitions) aborts the
 *   transaction before the error is thrown, so its records never become visible.
 */
import { InvalidArgumentError, InvalidTxnStateError, isRetriable, ProducerFencedError, TopicNotFoundError } from '../../errors.js';
import { OFFSETS_TOPIC } from '../../protocol/internal-topics.js';
import type { BrokerApi } from '../../protocol/broker-api.js';
import { tpKey } from '../../protocol/topic-partition.js';
import type { RecordMetadata, TopicSchema, UntypedTopics } from '../../types.js';
import type { ProducerBatch, ProducerRecord } from './producer.js';

/** Offsets committed inside a transaction (KafkaJS's sendOffsets argument). */
export interface TransactionOffsets {
  consumerGroupId: string;
  topics: { topic: string; partitions: { partition: number; offset: string | number; metadata?: string | null }[] }[];
  /**
   * The consumer's member id and generation (lanes extension). When omitted, lanes takes them
   * from this tab's running consumer of `consumerGroupId`, if there is one. Either way the
   * commit is refused with IllegalGenerationError if that consumer lost its partitions.
   */
  memberId?: string;
  generationId?: number;
}

/** A transaction of a transactional producer. */
export interface Transaction<S extends TopicSchema = UntypedTopics> {
  /** Writes records inside the transaction (visible to read-committed consumers at commit). */
  send(record: ProducerRecord<S>): Promise<RecordMetadata[]>;
  /** Writes records to several topics inside the transaction. */
  sendBatch(batch: ProducerBatch<S>): Promise<RecordMetadata[]>;
  /** Adds a group's offsets, committed atomically with the transaction's records. */
  sendOffsets(offsets: TransactionOffsets): Promise<void>;
  /** Commits: markers and offsets in one IndexedDB transaction; all visible, or none. */
  commit(): Promise<void>;
  /** Aborts: the records written stay hidden from read-committed consumers; the offsets are not committed. */
  abort(): Promise<void>;
  /** True until commit or abort is called. */
  isActive(): boolean;
}

/** What a transaction needs of its producer (producer.ts makes it once per producer). */
export interface ProducerSide {
  transactionalId: string;
  ids(): { producerId: number; producerEpoch: number };
  broker(): Promise<BrokerApi>;
  sequences: Map<string, number>;
  retry: <T>(fn: (bail: (e: unknown) => never, retryCount: number, retryTime: number) => Promise<T>) => Promise<T>;
  /** Validates, encodes and writes a send (`batch` false) or a sendBatch inside the transaction. */
  write(batch: boolean, arg: unknown): Promise<RecordMetadata[]>;
  /** This client's group consumers, by groupId (connection.ts). */
  groupMembers: Map<string, Set<() => { memberId: string; generationId: number } | undefined>>;
  connected(): boolean;
  notConnected(): Error;
  /** The error that fenced this producer: every later transaction is refused with it. */
  fenced?: ProducerFencedError;
  /** True while a transaction of this producer is active. */
  active?: boolean;
}

/** A fenced producer's error, again for a later call. */
const fencedError = (f: ProducerFencedError) => new ProducerFencedError(f.message, { details: f.details });

/** This tab's running consumer of a group: its member id and generation. */
function memberOf(ctx: ProducerSide, groupId: string): { memberId: string; generationId: number } | undefined {
  for (const f of ctx.groupMembers.get(groupId) ?? []) {
    const m = f();
    if (m) return m;
  }
  return undefined;
}

/**
 * Throws TopicNotFoundError (Kafka's UNKNOWN_TOPIC_OR_PARTITION, TxnOffsetCommit's answer for a
 * partition not in the broker's metadata) naming the first offset whose topic-partition does not
 * exist. Checked at sendOffsets, as Kafka's producer sends TxnOffsetCommit there, so the call
 * fails and the transaction stays usable instead of its commit failing. (KafkaJS retries this
 * error while metadata propagates between brokers; lanes' one broker has no such delay.)
 */
async function checkPartitionsExist(ctx: ProducerSide, list: readonly { topic: string; partition: number; field: string }[]): Promise<void> {
  if (list.length === 0) return;
  const topics = [...new Set(list.map((p) => p.topic))];
  const infos = await ctx.retry(async () => (await ctx.broker()).metadata({ topics, allowMissing: true }));
  const counts = new Map(infos.map((t) => [t.topic, t.numPartitions]));
  for (const { topic, partition, field } of list) {
    const n = counts.get(topic);
    if (n !== undefined && partition < n) continue;
    throw new TopicNotFoundError(n === undefined
      ? `${field}: topic ${JSON.stringify(topic)} does not exist (offsets of ${topic}-${partition})`
      : `${field}: partition ${topic}-${partition} does not exist (the topic has ${n} partition${n === 1 ? '' : 's'})`, { details: { topic, partition, field } });
  }
}

const GROUP_CODES = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'FENCED_INSTANCE_ID']);
const isFenced = (e: unknown) => e instanceof ProducerFencedError || (e as { code?: string })?.code === 'PRODUCER_FENCED';

/**
 * Begins a transaction on a transactional producer: refused when the producer was fenced, is
 * not connected, or has one active already.
 */
export function beginTransaction<S extends TopicSchema>(ctx: ProducerSide): Transaction<S> {
  if (ctx.fenced) throw fencedError(ctx.fenced);
  if (!ctx.connected()) throw ctx.notConnected();
  if (ctx.active) throw new InvalidTxnStateError('a transaction is already active on this producer: commit or abort it first');
  ctx.active = true;
  let state: 'active' | 'ending' | 'ended' = 'active';
  const offsets = new Map<string, { groupId: string; memberId?: string; generationId?: number; byTp: Map<string, { topic: string; partition: number; offset: number; metadata: string | null }> }>();

  const assertActive = (call: string) => {
    if (state !== 'active') throw new InvalidTxnStateError(`transaction.${call}: the transaction is no longer active (it was committed or aborted)`);
    if (!ctx.connected()) throw ctx.notConnected();
  };
  const end = () => { state = 'ended'; ctx.active = false; };

  /** Sends Kafka's EndTxn (with retries); a fenced producer learns it here. */
  async function endTxn(commit: boolean): Promise<void> {
    const g = [...offsets.values()][0];
    const offKey = tpKey(OFFSETS_TOPIC, 0);
    const offs = commit && g && g.byTp.size > 0
      ? { groupId: g.groupId, memberId: g.memberId, generationId: g.generationId, offsetsSequence: ctx.sequences.get(offKey) ?? 0, offsets: [...g.byTp.values()] }
      : undefined;
    const { producerId, producerEpoch } = ctx.ids();
    try {
      await ctx.retry(async (bail) => {
        try {
          return await (await ctx.broker()).endTransaction({ transactionalId: ctx.transactionalId, producerId, producerEpoch, commit, offsets: offs });
        } catch (e) {
          // A group's answer (a rebalance fenced the member) is final for this transaction.
          if (!isRetriable(e) || GROUP_CODES.has((e as { code?: string }).code ?? '')) bail(e);
          throw e;
        }
      });
    } catch (e) {
      if (isFenced(e)) ctx.fenced = e as ProducerFencedError;
      throw e;
    }
    if (offs) ctx.sequences.set(offKey, offs.offsetsSequence + offs.offsets.length);
  }

  /** A send inside the transaction; a fenced producer's sends are refused. */
  const send = (batch: boolean, arg: unknown) => {
    if (ctx.fenced) throw fencedError(ctx.fenced);
    return ctx.write(batch, arg);
  };

  const written = async (p: Promise<RecordMetadata[]>) => {
    try {
      return await p;
    } catch (e) {
      if (isFenced(e)) ctx.fenced = e as ProducerFencedError;
      throw e;
    }
  };

  return {
    async send(record) {
      assertActive('send');
      return written(send(false, record));
    },
    async sendBatch(batch) {
      assertActive('sendBatch');
      return written(send(true, batch));
    },
    async sendOffsets(o) {
      assertActive('sendOffsets');
      if (!o || typeof o.consumerGroupId !== 'string' || o.consumerGroupId === '') throw new InvalidArgumentError('sendOffsets.consumerGroupId must be a non-empty string');
      if (!Array.isArray(o.topics)) throw new InvalidArgumentError('sendOffsets.topics must be an array');
      if (o.generationId !== undefined && !Number.isInteger(o.generationId)) throw new InvalidArgumentError('sendOffsets.generationId must be an integer');
      if (o.memberId !== undefined && typeof o.memberId !== 'string') throw new InvalidArgumentError('sendOffsets.memberId must be a string');
      const parsed: { topic: string; partition: number; offset: number; metadata: string | null; field: string }[] = [];
      o.topics.forEach((t, i) => {
        if (!t || typeof t.topic !== 'string' || t.topic === '') throw new InvalidArgumentError(`sendOffsets.topics[${i}].topic must be a non-empty string`);
        if (!Array.isArray(t.partitions)) throw new InvalidArgumentError(`sendOffsets.topics[${i}].partitions must be an array`);
        t.partitions.forEach((p, j) => {
          const offset = typeof p?.offset === 'string' && /^\d+$/.test(p.offset) ? Number(p.offset) : p?.offset;
          if (!Number.isInteger(p?.partition) || p.partition < 0) throw new InvalidArgumentError(`sendOffsets.topics[${i}].partitions[${j}].partition must be a non-negative integer`);
          if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgumentError(`sendOffsets.topics[${i}].partitions[${j}].offset must be a non-negative integer; got ${JSON.stringify(p?.offset)}`);
          parsed.push({ topic: t.topic, partition: p.partition, offset, metadata: p.metadata ?? null, field: `sendOffsets.topics[${i}].partitions[${j}].partition` });
        });
      });
      await checkPartitionsExist(ctx, parsed);
      // KafkaJS passes only the group: the member and generation are this tab's consumer's.
      const member = o.memberId === undefined && o.generationId === undefined ? memberOf(ctx, o.consumerGroupId) : { memberId: o.memberId, generationId: o.generationId };
      let g = offsets.get(o.consumerGroupId);
      if (g && (g.memberId !== member?.memberId || g.generationId !== member?.generationId)) g = undefined;
      if (!g && offsets.size > 0) throw new InvalidArgumentError('sendOffsets: a transaction commits the offsets of one consumer group and member');
      if (!g) offsets.set(o.consumerGroupId, (g = { groupId: o.consumerGroupId, memberId: member?.memberId, generationId: member?.generationId, byTp: new Map() }));
      for (const { field: _, ...p } of parsed) g.byTp.set(tpKey(p.topic, p.partition), p);
    },
    async commit() {
      assertActive('commit');
      state = 'ending';
      try {
        await endTxn(true);
      } catch (e) {
        // Refused (not fenced): abort, so the records sent stay hidden instead of waiting for
        // the transaction timeout. A fenced producer's transaction is the broker's to abort.
        if (!isFenced(e)) await endTxn(false).catch(() => undefined);
        throw e;
      } finally {
        end();
      }
    },
    async abort() {
      assertActive('abort');
      state = 'ending';
      offsets.clear();
      try {
        await endTxn(false);
      } finally {
        end();
      }
    },
    isActive: () => state === 'active',
  };
}
