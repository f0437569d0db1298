/**
 * Transactions of a transactional producer (KafkaJS's shape: `producer.transaction()`, then
 * `send`, `sendBatch`, `sendOffsets`, `commit` or `abort`). Loaded on demand by the first
 * `producer.transaction()`.
 *
 * lanes keeps a transaction's records and offsets in the producer until commit, then sends them
 * to the broker as one request, which writes them as ONE appender request: one IndexedDB
 * transaction makes every record and every offset visible together, or none of them. An aborted
 * transaction (or one whose tab dies before commit) was never written, so consumers need no
 * last stable offset or control records to skip it.
 *
 * Invariants:
 * - At most one transaction per producer is active; a finished one (committed, aborted or
 *   failed) refuses every call with InvalidTxnStateError.
 * - A commit carries the producer's next sequence for every partition it writes, including
 *   `__consumer_offsets`-0, so a retried commit is recognised by the log and written once.
 * - Sequences advance only after the broker acknowledged the commit.
 */
import { InvalidArgumentError, InvalidTxnStateError, isRetriable, ProducerFencedError } from '../../errors.js';
import { Codec } from '../../protocol/codec.js';
import { OFFSETS_TOPIC } from '../../protocol/internal-topics.js';
import type { BrokerApi, ProduceBatch } from '../../protocol/broker-api.js';
import type { EncodedRecords } from '../../protocol/record-batch.js';
import { tpKey } from '../../protocol/topic-partition.js';
import type { CompressionTypes, RecordMetadata, TopicSchema, UntypedTopics } from '../../types.js';
import type { ProducerBatch, ProducerRecord } from './producer.js';

/** Offsets committed inside a transaction (KafkaJS's sendOffsets argument). */
export interface TransactionOffsets {
  consumerGroupId: string;
  topics: { topic: string; partitions: { partition: number; offset: string | number; metadata?: string | null }[] }[];
  /**
   * The consumer's member id and generation (lanes extension). When given, the commit is
   * refused with IllegalGenerationError if the consumer lost its partitions in a rebalance.
   */
  memberId?: string;
  generationId?: number;
}

/** A transaction of a transactional producer. */
export interface Transaction<S extends TopicSchema = UntypedTopics> {
  /** Adds records to the transaction; they are written at commit (offsets in the answer are '-1'). */
  send(record: ProducerRecord<S>): Promise<RecordMetadata[]>;
  /** Adds records to several topics to the transaction. */
  sendBatch(batch: ProducerBatch<S>): Promise<RecordMetadata[]>;
  /** Adds a group's offsets, committed atomically with the transaction's records. */
  sendOffsets(offsets: TransactionOffsets): Promise<void>;
  /** Writes the records and offsets in one IndexedDB transaction; all visible, or none. */
  commit(): Promise<void>;
  /** Drops the transaction: nothing of it is ever written. */
  abort(): Promise<void>;
  /** True until commit or abort is called. */
  isActive(): boolean;
}

/** One partition's encoded records, as the producer prepares them. */
export interface TxnChunk { topic: string; partition: number; records: EncodedRecords; compression?: CompressionTypes }

/** What a transaction needs of its producer. */
export interface TxnContext {
  transactionalId: string;
  ids(): { producerId: number; producerEpoch: number };
  broker(): Promise<BrokerApi>;
  sequences: Map<string, number>;
  retry: <T>(fn: (bail: (e: unknown) => never, retryCount: number, retryTime: number) => Promise<T>) => Promise<T>;
  /** Joins one partition's records into one batch payload, gzipped when asked. */
  joinRecords(parts: EncodedRecords[], gzip: boolean): Promise<EncodedRecords>;
  /** Validates and encodes a send (throws on bad input). */
  prepareSend(record: unknown): Promise<TxnChunk[]>;
  prepareBatch(batch: unknown): Promise<TxnChunk[]>;
  onFenced(e: ProducerFencedError): void;
  onEnd(): void;
}

const GROUP_CODES = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'FENCED_INSTANCE_ID']);

/** Creates a transaction on a transactional producer. */
export function createTransaction<S extends TopicSchema>(ctx: TxnContext): Transaction<S> {
  let state: 'active' | 'committing' | 'ended' = 'active';
  const chunks: TxnChunk[] = [];
  const offsets = new Map<string, { groupId: string; memberId?: string; generationId?: number; byTp: Map<string, { topic: string; partition: number; offset: number; metadata: string | null }> }>();

  const assertActive = (call: string) => {
    if (state !== 'active') throw new InvalidTxnStateError(`transaction.${call}: the transaction is no longer active (it was committed or aborted)`);
  };
  const end = () => { state = 'ended'; ctx.onEnd(); };
  const metadataOf = (list: TxnChunk[]): RecordMetadata[] => {
    const seen = new Set<string>();
    return list.filter((c) => !seen.has(tpKey(c.topic, c.partition)) && seen.add(tpKey(c.topic, c.partition)))
      .map((c) => ({ topicName: c.topic, partition: c.partition, errorCode: 0, baseOffset: '-1', logAppendTime: '-1', logStartOffset: '-1' }));
  };

  async function add(prepared: Promise<TxnChunk[]>, call: string): Promise<RecordMetadata[]> {
    assertActive(call);
    const list = await prepared;
    assertActive(call);
    chunks.push(...list);
    return metadataOf(list);
  }

  return {
    async send(record) {
      assertActive('send');
      return add(ctx.prepareSend(record), 'send');
    },
    async sendBatch(batch) {
      assertActive('sendBatch');
      return add(ctx.prepareBatch(batch), 'sendBatch');
    },
    async sendOffsets(o) {
      assertActive('sendOffsets');
      if (!o || typeof o.consumerGroupId !== 'string' || o.consumerGroupId === '') throw new InvalidArgumentError('sendOffsets.consumerGroupId must be a non-empty string');
      if (!Array.isArray(o.topics)) throw new InvalidArgumentError('sendOffsets.topics must be an array');
      if (o.generationId !== undefined && !Number.isInteger(o.generationId)) throw new InvalidArgumentError('sendOffsets.generationId must be an integer');
      if (o.memberId !== undefined && typeof o.memberId !== 'string') throw new InvalidArgumentError('sendOffsets.memberId must be a string');
      const parsed: { topic: string; partition: number; offset: number; metadata: string | null }[] = [];
      o.topics.forEach((t, i) => {
        if (!t || typeof t.topic !== 'string' || t.topic === '') throw new InvalidArgumentError(`sendOffsets.topics[${i}].topic must be a non-empty string`);
        if (!Array.isArray(t.partitions)) throw new InvalidArgumentError(`sendOffsets.topics[${i}].partitions must be an array`);
        t.partitions.forEach((p, j) => {
          const offset = typeof p?.offset === 'string' && /^\d+$/.test(p.offset) ? Number(p.offset) : p?.offset;
          if (!Number.isInteger(p?.partition) || p.partition < 0) throw new InvalidArgumentError(`sendOffsets.topics[${i}].partitions[${j}].partition must be a non-negative integer`);
          if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgumentError(`sendOffsets.topics[${i}].partitions[${j}].offset must be a non-negative integer; got ${JSON.stringify(p?.offset)}`);
          parsed.push({ topic: t.topic, partition: p.partition, offset, metadata: p.metadata ?? null });
        });
      });
      let g = offsets.get(o.consumerGroupId);
      if (g && offsets.size > 0 && (g.memberId !== o.memberId || g.generationId !== o.generationId)) g = undefined;
      if (!g && offsets.size > 0) throw new InvalidArgumentError('sendOffsets: a transaction commits the offsets of one consumer group and member');
      if (!g) offsets.set(o.consumerGroupId, (g = { groupId: o.consumerGroupId, memberId: o.memberId, generationId: o.generationId, byTp: new Map() }));
      for (const p of parsed) g.byTp.set(tpKey(p.topic, p.partition), p);
    },
    async commit() {
      assertActive('commit');
      state = 'committing';
      try {
        const byTp = new Map<string, TxnChunk[]>();
        for (const c of chunks) {
          const k = tpKey(c.topic, c.partition);
          const list = byTp.get(k);
          if (list) list.push(c); else byTp.set(k, [c]);
        }
        const batches: ProduceBatch[] = [];
        for (const [k, list] of byTp) {
          const records = await ctx.joinRecords(list.map((c) => c.records), list.some((c) => c.compression === Codec.GZIP));
          batches.push({ topic: list[0]!.topic, partition: list[0]!.partition, baseSequence: ctx.sequences.get(k) ?? 0, records });
        }
        const g = [...offsets.values()][0];
        const offKey = tpKey(OFFSETS_TOPIC, 0);
        const offs = g && g.byTp.size > 0
          ? { groupId: g.groupId, memberId: g.memberId, generationId: g.generationId, offsetsSequence: ctx.sequences.get(offKey) ?? 0, offsets: [...g.byTp.values()] }
          : undefined;
        if (batches.length === 0 && !offs) return;
        const { producerId, producerEpoch } = ctx.ids();
        await ctx.retry(async (bail) => {
          try {
            return await (await ctx.broker()).commitTransaction({ transactionalId: ctx.transactionalId, producerId, producerEpoch, batches, offsets: offs });
          } catch (e) {
            // A group's answer (a rebalance fenced the member) is final for this transaction:
            // the consumer must rejoin and process its new partitions in a new one.
            if (!isRetriable(e) || GROUP_CODES.has((e as { code?: string }).code ?? '')) bail(e);
            throw e;
          }
        });
        for (const b of batches) ctx.sequences.set(tpKey(b.topic, b.partition), b.baseSequence + b.records.count);
        if (offs) ctx.sequences.set(offKey, offs.offsetsSequence + offs.offsets.length);
      } catch (e) {
        if (e instanceof ProducerFencedError || (e as { code?: string })?.code === 'PRODUCER_FENCED') ctx.onFenced(e as ProducerFencedError);
        throw e;
      } finally {
        end();
      }
    },
    async abort() {
      assertActive('abort');
      chunks.length = 0;
      offsets.clear();
      end();
    },
    isActive: () => state === 'active',
  };
}
