/**
 * The producer (KafkaJS shape: connect, send, sendBatch, disconnect).
 *
 * Sends are validated and encoded here, in the caller's context, so bad input fails before
 * anything reaches the broker and the broker's thread only writes. Concurrent sends are
 * accumulated while a request is in flight and go together in the next one (Kafka's record
 * accumulator), so 1,000 concurrent one-record sends cost two transactions, not 1,000.
 *
 * Invariants:
 * - One produce request in flight per producer; per partition, batches carry consecutive
 *   sequence numbers, so a retried request is recognised by the log and written once. Where the
 *   log has no state for the producer (the topic was deleted and created again) they restart at 0.
 * - Topic metadata is cached from the first send to a topic and dropped when the broker
 *   answers that a partition does not exist.
 * - A send is atomic: all its partitions travel in one request, which the broker writes whole
 *   or not at all. When a request joining several sends is refused, each send is retried alone,
 *   so one bad send cannot fail its neighbours. What follows a failed request (this, a sequence
 *   that starts over, stale metadata, placing a send again) is ./send-failure.ts, loaded with
 *   the first failure.
 * - The caller's message objects are not kept once encoded: a pending send holds its encoded
 *   records only, and a send placed again (see ./replace.ts) is placed from those.
 */
import { formatValue, InvalidArgumentError, InvalidRecordError, InvalidTxnStateError, NotConnectedError, TopicNotFoundError } from '../../errors.js';
import { checkCodec, Codec } from '../../protocol/codec.js';
import { DefaultPartitioner, type PartitionerFactory } from '../../partitioner/partitioners.js';
import type { ProduceBatch, ProduceResult, TopicInfo } from '../../protocol/broker-api.js';
import { concatRecords, encodeRecords, type EncodedRecords } from '../../protocol/record-batch.js';
import type { CompressionTypes, Message, RecordMetadata, TopicName, TopicSchema, KeyOf, ValueOf, UntypedTopics } from '../../types.js';
import type { Connection } from '../connection.js';
import { Instrumentation, PRODUCER_EVENTS, type InstrumentationEvent, type RemoveInstrumentationEventListener } from '../instrumentation.js';
import type { Logger } from '../logger.js';
import { createRetry, type RetryOptions } from '../retry.js';
import { tpKey } from '../../protocol/topic-partition.js';
import type { ProducerSide, Transaction } from './transaction.js';
import type { Origin, Placed } from './replace.js';

export type { Transaction, TransactionOffsets } from './transaction.js';

/** Options of producer(). */
export interface ProducerConfig {
  /** Create a topic on first send when it does not exist. Default true. */
  allowAutoTopicCreation?: boolean;
  /** Kafka's idempotent producer: retries are written once. Default true. */
  idempotent?: boolean;
  /** KafkaJS-style partitioner factory. Default: murmur2 for keyed records, sticky for keyless. */
  createPartitioner?: PartitionerFactory;
  /** Retries of retriable failures (broker unavailable, request timeout); KafkaJS's retry options. Default 5 retries from 100 ms. */
  retry?: RetryOptions;
  /**
   * Makes the producer transactional: `producer.transaction()` writes records and offsets
   * atomically. A newer producer with the same id fences this one (ProducerFencedError).
   */
  transactionalId?: string;
  /** Accepted for KafkaJS compatibility: one request is always in flight per producer. */
  maxInFlightRequests?: number;
  /** KafkaJS's transactionTimeout (ms): the broker aborts a transaction left open this long (its tab died). Default 60000. */
  transactionTimeout?: number;
}

/** A send to one topic, typed by the client's schema. */
export interface ProducerRecord<S extends TopicSchema = UntypedTopics, T extends TopicName<S> = TopicName<S>> {
  topic: T;
  messages: Message<KeyOf<S, T>, ValueOf<S, T>>[];
  /** Accepted for KafkaJS compatibility; every append is durable once acknowledged. */
  acks?: number;
  timeout?: number;
  /** `CompressionTypes.GZIP` stores the batch payload gzipped; consumers decompress. Snappy, LZ4 and ZSTD are refused. */
  compression?: CompressionTypes;
}

/** A send to several topics (KafkaJS's sendBatch). */
export interface ProducerBatch<S extends TopicSchema = UntypedTopics> {
  topicMessages: { [T in TopicName<S>]: { topic: T; messages: Message<KeyOf<S, T>, ValueOf<S, T>>[] } }[TopicName<S>][];
  acks?: number;
  timeout?: number;
  compression?: CompressionTypes;
}

/** The producer. */
export interface Producer<S extends TopicSchema = UntypedTopics> {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send<T extends TopicName<S>>(record: ProducerRecord<S, T>): Promise<RecordMetadata[]>;
  sendBatch(batch: ProducerBatch<S>): Promise<RecordMetadata[]>;
  /** Begins a transaction (transactional producers only; one active at a time). */
  transaction(): Promise<Transaction<S>>;
  /** True when the producer was configured with a transactionalId. */
  isTransactional(): boolean;
  /** True when the producer is idempotent (it always is unless configured off). */
  isIdempotent(): boolean;
  /** KafkaJS's instrumentation events: CONNECT, DISCONNECT, REQUEST, REQUEST_TIMEOUT, REQUEST_QUEUE_SIZE. */
  on(event: string, listener: (e: InstrumentationEvent) => void): RemoveInstrumentationEventListener;
  readonly events: typeof PRODUCER_EVENTS;
  /** The producer's logger (namespace 'Producer'). */
  logger(): Logger;
}

/** One send's records for one partition, waiting in the accumulator. */
export interface Chunk extends Placed { send: PendingSend }
/** One send (or a transaction's send) waiting in the accumulator. */
export interface PendingSend {
  chunks: Chunk[];
  compression?: CompressionTypes;
  results: Map<string, ProduceResult>;
  resolve: (r: RecordMetadata[]) => void;
  reject: (e: unknown) => void;
  /** Set once the send was placed again with fresh metadata (that happens at most once). */
  placedAgain?: boolean;
}

const notConnected = () => new NotConnectedError('producer is not connected: call producer.connect() first');

/** Joins one partition's encoded records; with `gzip` compresses the payload (the codec is loaded on first use). */
async function joinRecords(parts: EncodedRecords[], gzip: boolean): Promise<EncodedRecords> {
  const records = concatRecords(parts);
  if (!gzip) return records;
  const { gzip: compress } = await import('../../protocol/compression.js');
  return { ...records, payload: await compress(records.payload), compression: Codec.GZIP };
}

/** Creates a producer on a connection. */
export function createProducer<S extends TopicSchema>(conn: Connection, config: ProducerConfig = {}): Producer<S> {
  const autoCreate = config.allowAutoTopicCreation ?? true;
  const idempotent = config.idempotent ?? true;
  const transactionalId = config.transactionalId;
  if (transactionalId !== undefined) {
    if (typeof transactionalId !== 'string' || transactionalId === '' || transactionalId.length > 249) throw new InvalidArgumentError(`producer.transactionalId must be a non-empty string of at most 249 characters; got ${formatValue(transactionalId)}`);
    if (!idempotent) throw new InvalidArgumentError('producer.idempotent must be true for a transactional producer (transactionalId is set)');
  }
  const transactionTimeout = config.transactionTimeout;
  if (transactionTimeout !== undefined && (!Number.isSafeInteger(transactionTimeout) || transactionTimeout <= 0)) throw new InvalidArgumentError(`producer.transactionTimeout must be a positive integer (ms); got ${formatValue(transactionTimeout)}`, { details: { field: 'transactionTimeout' } });
  let txnModule: typeof import('./transaction.js') | undefined;
  /** What a transaction needs of this producer (made by the first transaction()). */
  let txn: ProducerSide | undefined;
  const retry = createRetry({ retries: 5, initialRetryTime: 100, ...config.retry }, {}, 'producer: retry');
  const events = new Instrumentation(PRODUCER_EVENTS);
  const logger = conn.logger.namespace('Producer');
  const broker = () => conn.broker(events, 'producer');
  const partitioner = (config.createPartitioner ?? DefaultPartitioner)();
  /** Topic metadata, cached from the first lookup (in flight ones shared, failed ones dropped). */
  const metadata = new Map<string, Promise<TopicInfo>>();
  const sequences = new Map<string, number>();
  let producerId = -1;
  let producerEpoch = 0;
  let connected = false;
  let queue: PendingSend[] = [];
  let flushing = false;

  function topicInfo(topic: string): Promise<TopicInfo> {
    let info = metadata.get(topic);
    if (!info) {
      info = (async () => {
        const [t] = await (await broker()).metadata({ topics: [topic], allowAutoTopicCreation: autoCreate, numPartitions: conn.config.defaultNumPartitions });
        return t!;
      })();
      metadata.set(topic, info);
      info.catch(() => { if (metadata.get(topic) === info) metadata.delete(topic); });
    }
    return info;
  }

  /** Validates, partitions and encodes one topic's messages into chunks (throws before queuing). */
  async function prepare(send: PendingSend, topic: unknown, messages: unknown, field: string): Promise<void> {
    if (typeof topic !== 'string' || topic === '') throw new InvalidArgumentError(`${field}.topic must be a non-empty string`);
    if (!Array.isArray(messages)) throw new InvalidArgumentError(`${field}.messages must be an array`, { details: { topic } });
    if (messages.length === 0) return; // KafkaJS accepts an empty send: nothing to write
    const now = Date.now();
    // What needs no metadata is checked first, so a refused send does not auto-create its topic.
    messages.forEach((m: Message, i: number) => {
      if (m === null || typeof m !== 'object') throw new InvalidRecordError(`${field}.messages[${i}] must be an object`, { details: { topic } });
      if (m.partition !== undefined && m.partition !== null && !Number.isInteger(m.partition)) {
        throw new InvalidArgumentError(`${field}.messages[${i}].partition must be an integer; got ${formatValue(m.partition)}`, { details: { topic, partition: m.partition } });
      }
    });
    if (!metadata.has(topic)) encodeRecords(messages, now, `${field}.messages`);
    let info = await topicInfo(topic);
    // A partition beyond the cached count: the topic may have grown or been re-created since the
    // lookup (KafkaJS refreshes its metadata then too). Ask once more before refusing.
    if (messages.some((m: Message) => typeof m.partition === 'number' && m.partition >= info.numPartitions)) {
      if (metadata.get(topic) !== undefined) metadata.delete(topic);
      info = await topicInfo(topic);
    }
    const partitionMetadata = Array.from({ length: info.numPartitions }, (_, i) => ({ partitionId: i, leader: 0 }));
    const byPartition = new Map<number, { msgs: Message[]; indices: number[] }>();
    // What placing the records again needs besides their bytes (./replace.ts): never the messages.
    const origin: Origin = { topic, field: `${field}.messages`, numPartitions: info.numPartitions, parts: [] };
    messages.forEach((m: Message, i: number) => {
      let partition: number;
      if (m.partition !== undefined && m.partition !== null) {
        origin.parts.push(~(partition = m.partition));
        if (partition < 0 || partition >= info.numPartitions) {
          throw new TopicNotFoundError(`${field}.messages[${i}].partition ${partition} is out of range: topic ${JSON.stringify(topic)} has ${info.numPartitions} partitions`, { details: { topic, partition } });
        }
      } else {
        origin.parts.push(partition = partitioner({ topic, partitionMetadata, message: m }));
      }
      let list = byPartition.get(partition);
      if (!list) byPartition.set(partition, (list = { msgs: [], indices: [] }));
      list.msgs.push(m);
      list.indices.push(i);
    });
    for (const [partition, { msgs, indices }] of byPartition) {
      // A record over the topic's max.message.bytes is refused by the broker (RecordTooLargeError,
      // nothing written): it checks the topic's current config, which a cache here may not have.
      send.chunks.push({ send, topic, partition, records: encodeRecords(msgs, now, `${field}.messages`, indices), origin });
    }
  }

  function results(send: PendingSend): RecordMetadata[] {
    const out: RecordMetadata[] = [];
    const seen = new Set<string>();
    for (const c of send.chunks) {
      const k = tpKey(c.topic, c.partition);
      if (seen.has(k)) continue;
      seen.add(k);
      const r = send.results.get(k)!;
      out.push({ topicName: c.topic, partition: c.partition, errorCode: 0, baseOffset: String(r.baseOffset), logAppendTime: String(r.logAppendTime), logStartOffset: String(r.logStartOffset) });
    }
    return out;
  }

  /** Sends the chunks of `sends` as one request; resolves the sends, or throws for all. */
  async function request(sends: PendingSend[], inTransaction = false): Promise<void> {
    const byTp = new Map<string, Chunk[]>();
    for (const s of sends) for (const c of s.chunks) {
      const k = tpKey(c.topic, c.partition);
      let list = byTp.get(k);
      if (!list) byTp.set(k, (list = []));
      list.push(c);
    }
    const batches: ProduceBatch[] = [];
    for (const [k, chunks] of byTp) {
      const { topic, partition } = chunks[0]!;
      batches.push({ topic, partition, baseSequence: idempotent ? sequences.get(k) ?? 0 : -1, records: await joinRecords(chunks.map((c) => c.records), chunks.some((c) => c.send.compression === Codec.GZIP)) });
    }
    await retry(async (bail, retryCount, retryTime) => { for (;;) {
      try {
        const res = await (await broker()).produce(inTransaction ? { producerId, producerEpoch, batches, transactionalId, transactionTimeout } : { producerId, producerEpoch, batches });
        for (const r of res) {
          const k = tpKey(r.topic, r.partition);
          const chunks = byTp.get(k)!;
          const b = batches.find((x) => x.topic === r.topic && x.partition === r.partition)!;
          if (idempotent) sequences.set(k, b.baseSequence + b.records.count);
          // Kafka's sticky partitioner moves keyless records on once a batch is closed.
          (partitioner as { onNewBatch?: (t: string, p: number) => void }).onNewBatch?.(r.topic, r.partition);
          let offset = r.baseOffset;
          for (const c of chunks) {
            // A send with two chunks here (sendBatch naming a topic twice) reports its first.
            if (!c.send.results.has(k)) c.send.results.set(k, { ...r, baseOffset: offset });
            offset += c.records.count;
          }
        }
        return;
      } catch (e) {
        // Loaded with the first failure (./send-failure.ts): returns when the request is to be
        // sent again at once (a partition's sequence starts over), else throws (retry or bail).
        (await import('./send-failure.js')).requestFailed({ batches, producerId, metadata, logger }, e, bail, retryCount, retryTime);
      }
    } });
  }

  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length) {
        const sends = queue;
        queue = [];
        try {
          await request(sends);
          for (const s of sends) s.resolve(results(s));
        } catch (e) {
          // Each send alone, or placed again (./send-failure.ts, loaded with the first failure).
          await (await import('./send-failure.js')).sendsFailed({ request, results, topicInfo, partitioner }, sends, e);
        }
      }
    } finally {
      flushing = false;
    }
  }

  const newSend = (): PendingSend => ({ chunks: [], results: new Map(), resolve: () => undefined, reject: () => undefined });

  /** What producer.send adds to a send (or a transaction's send). */
  const buildSend = (record: ProducerRecord | undefined) => (s: PendingSend) => {
    checkCodec(record?.compression, 'send.compression');
    s.compression = record?.compression;
    return prepare(s, record?.topic, record?.messages, 'send');
  };

  /** What producer.sendBatch adds to a send (or a transaction's sendBatch). */
  const buildBatch = (batch: ProducerBatch | undefined) => async (s: PendingSend) => {
    if (!batch || !Array.isArray(batch.topicMessages)) throw new InvalidArgumentError('sendBatch.topicMessages must be an array');
    checkCodec(batch.compression, 'sendBatch.compression');
    s.compression = batch.compression;
    for (let i = 0; i < batch.topicMessages.length; i++) {
      const tm = batch.topicMessages[i]!;
      await prepare(s, tm?.topic, tm?.messages, `sendBatch.topicMessages[${i}]`);
    }
  };

  async function enqueue(build: (send: PendingSend) => Promise<void>): Promise<RecordMetadata[]> {
    if (transactionalId !== undefined) throw new InvalidTxnStateError('a transactional producer sends inside a transaction: use (await producer.transaction()).send(...)');
    if (!connected) throw notConnected();
    const send = newSend();
    await build(send);
    if (send.chunks.length === 0) return [];
    const done = new Promise<RecordMetadata[]>((resolve, reject) => { send.resolve = resolve; send.reject = reject; });
    queue.push(send);
    void flush();
    return done;
  }

  return {
    async connect() {
      if (connected) return;
      await conn.acquire();
      if (idempotent && producerId < 0) {
        try {
          ({ producerId, producerEpoch } = transactionalId === undefined
            ? await (await broker()).initProducerId()
            : await (await broker()).initProducerId({ transactionalId }));
        } catch (e) {
          await conn.release();
          throw e;
        }
      }
      connected = true;
      logger.debug('Connected', { producerId });
      events.emit(PRODUCER_EVENTS.CONNECT, {});
    },
    async disconnect() {
      if (!connected) return;
      connected = false;
      await conn.release();
      events.emit(PRODUCER_EVENTS.DISCONNECT, {});
    },
    send: (record) => enqueue(buildSend(record)),
    sendBatch: (batch) => enqueue(buildBatch(batch as ProducerBatch)),
    async transaction() {
      if (transactionalId === undefined) throw new InvalidTxnStateError('producer.transaction() needs a transactional producer: set transactionalId in producer({ transactionalId })');
      // The transaction machinery is loaded on first use; later transactions begin without
      // awaiting anything (no broker call either: the broker opens a transaction at its first send).
      return (txnModule ?? (txnModule = await import('./transaction.js'))).beginTransaction<S>(txn ??= {
        transactionalId, broker, sequences, retry, groupMembers: conn.groupMembers,
        ids: () => ({ producerId, producerEpoch }),
        connected: () => connected,
        notConnected,
        /** Validates and encodes a send, then writes it inside the transaction (one request). */
        write: async (batch, arg) => {
          const s = newSend();
          await (batch ? buildBatch(arg as ProducerBatch) : buildSend(arg as ProducerRecord))(s);
          if (s.chunks.length === 0) return [];
          await request([s], true);
          return results(s);
        },
      });
    },
    isTransactional: () => transactionalId !== undefined,
    isIdempotent: () => idempotent,
    events: PRODUCER_EVENTS,
    on: (event, listener) => events.on(event, listener),
    logger: () => logger,
  };
}
