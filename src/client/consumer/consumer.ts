/**
 * The consumer (KafkaJS shape). Without a groupId it is a free consumer (Kafka's assign()):
 * it reads the partitions it is given, from the offsets it is given, and commits nothing.
 */
import { InvalidArgumentError, NotConnectedError } from '../../errors.js';
import type { TopicPartition, TopicSchema, UntypedTopics } from '../../types.js';
import type { Connection } from '../connection.js';
import { CONSUMER_EVENTS, Instrumentation, type InstrumentationEvent, type RemoveInstrumentationEventListener } from '../instrumentation.js';
import { Positions, type ResetPolicy } from './positions.js';
import { Runner, type RunConfig, type FetchConfig } from './runner.js';
import { parseOffset } from '../offsets.js';

/** Options of consumer(). */
export interface ConsumerConfig {
  /** The consumer group; omit for a free consumer that uses assign(). */
  groupId?: string;
  /** Longest a fetch waits at the log end before answering empty. Default 5000. */
  maxWaitTimeInMs?: number;
  /** Bytes per fetch across partitions. Default 10 MiB. */
  maxBytes?: number;
  /** Bytes per partition per fetch. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Handler retries before the consumer crashes. */
  retry?: { retries?: number; initialRetryTime?: number };
  /** Where a partition without a position starts (Kafka's auto.offset.reset). Default 'latest'. */
  autoOffsetReset?: 'earliest' | 'latest';
}

/** A partition to read, for a free consumer. offset: decimal string, 'earliest' or 'latest'. */
export interface AssignedPartition {
  topic: string;
  partition: number;
  offset?: string | number | 'earliest' | 'latest';
}

/** The consumer. */
export interface Consumer<S extends TopicSchema = UntypedTopics> {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Free consumer: read exactly these partitions (replaces any earlier assignment). */
  assign(partitions: AssignedPartition[]): void;
  /** The partitions this consumer reads now. */
  assignment(): TopicPartition[];
  subscribe(subscription: { topics: (string | RegExp)[]; fromBeginning?: boolean } | { topic: string | RegExp; fromBeginning?: boolean }): Promise<void>;
  run(config: RunConfig): Promise<void>;
  stop(): Promise<void>;
  seek(tpo: { topic: string; partition: number; offset: string }): void;
  pause(topics: { topic: string; partitions?: number[] }[]): void;
  resume(topics: { topic: string; partitions?: number[] }[]): void;
  paused(): { topic: string; partitions: number[] }[];
  on(event: string, listener: (e: InstrumentationEvent) => void): RemoveInstrumentationEventListener;
  readonly events: typeof CONSUMER_EVENTS;
  /** Phantom type carrier for the topic schema. */
  readonly __schema?: S;
}

/** Creates a consumer on a connection. */
export function createConsumer<S extends TopicSchema>(conn: Connection, config: ConsumerConfig = {}): Consumer<S> {
  if (config.groupId !== undefined) {
    throw new InvalidArgumentError('consumer groups need the broker capability that hosts group coordinators; use a free consumer (no groupId) with assign()');
  }
  const events = new Instrumentation();
  const positions = new Positions();
  const fetchConfig: FetchConfig = {
    maxWaitTimeInMs: config.maxWaitTimeInMs ?? 5000,
    maxBytes: config.maxBytes ?? 10 * 1024 * 1024,
    maxBytesPerPartition: config.maxBytesPerPartition ?? 1024 * 1024,
    retry: { retries: config.retry?.retries ?? 5, initialRetryTime: config.retry?.initialRetryTime ?? 300 },
    resetPolicy: config.autoOffsetReset ?? 'latest',
  };
  let connected = false;
  let runner: Runner | undefined;

  const selectPartitions = (topics: { topic: string; partitions?: number[] }[], paused: boolean) => {
    if (!Array.isArray(topics)) throw new InvalidArgumentError('pause/resume take an array of { topic, partitions? }');
    for (const t of topics) {
      for (const c of positions.all()) {
        if (c.topic === t.topic && (!t.partitions || t.partitions.includes(c.partition))) c.paused = paused;
      }
    }
    positions.wake();
  };

  return {
    events: CONSUMER_EVENTS,
    async connect() {
      if (connected) return;
      await conn.acquire();
      connected = true;
      events.emit(CONSUMER_EVENTS.CONNECT, {});
    },
    async disconnect() {
      await runner?.stop();
      runner = undefined;
      if (!connected) return;
      connected = false;
      await conn.release();
      events.emit(CONSUMER_EVENTS.DISCONNECT, {});
    },
    assign(partitions) {
      if (!Array.isArray(partitions)) throw new InvalidArgumentError('assign takes an array of { topic, partition, offset? }');
      const list = partitions.map((p, i) => {
        if (!p || typeof p.topic !== 'string' || !Number.isInteger(p.partition) || p.partition < 0) {
          throw new InvalidArgumentError(`assign[${i}] needs a topic name and a non-negative integer partition`, { details: { index: i } });
        }
        const o = p.offset ?? fetchConfig.resetPolicy;
        const position = o === 'earliest' || o === 'latest' ? null : parseOffset(o, `assign[${i}].offset`);
        const reset: ResetPolicy | undefined = o === 'earliest' || o === 'latest' ? o : undefined;
        return { topic: p.topic, partition: p.partition, position, reset };
      });
      positions.set([]); // assign() replaces: positions given now win over earlier ones
      positions.set(list);
    },
    assignment() {
      return positions.all().map((c) => ({ topic: c.topic, partition: c.partition }));
    },
    async subscribe() {
      throw new InvalidArgumentError('subscribe needs a groupId; a free consumer uses assign()');
    },
    async run(runConfig) {
      if (!connected) throw new NotConnectedError('consumer is not connected: call consumer.connect() first');
      if (!runConfig || (typeof runConfig.eachMessage !== 'function' && typeof runConfig.eachBatch !== 'function')) {
        throw new InvalidArgumentError('run needs eachMessage or eachBatch');
      }
      if (runner?.running) throw new InvalidArgumentError('consumer is already running');
      runner = new Runner(() => conn.broker(), positions, fetchConfig, runConfig, events);
      runner.start();
    },
    async stop() {
      await runner?.stop();
      runner = undefined;
      events.emit(CONSUMER_EVENTS.STOP, {});
    },
    seek({ topic, partition, offset }) {
      const position = offset === '-1' || offset === '-2' ? null : parseOffset(offset, 'seek.offset');
      if (!positions.seek(topic, partition, position)) {
        throw new InvalidArgumentError(`seek: ${topic}-${partition} is not assigned to this consumer`, { details: { topic, partition } });
      }
    },
    pause(topics) { selectPartitions(topics, true); },
    resume(topics) { selectPartitions(topics, false); },
    paused() {
      const out = new Map<string, number[]>();
      for (const c of positions.all()) if (c.paused) { const l = out.get(c.topic) ?? []; l.push(c.partition); out.set(c.topic, l); }
      return [...out].map(([topic, partitions]) => ({ topic, partitions }));
    },
    on(event, listener) {
      return events.on(event, listener);
    },
  };
}
