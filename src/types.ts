/**
 * Public types: messages, metadata and configs, in KafkaJS's shapes. Offsets and timestamps
 * in API objects are decimal strings, as in KafkaJS; inside the log they are numbers.
 */

/** A JSON-compatible value: what lanes stores for a value that is neither string nor bytes. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A record key: string, bytes, or null (keyless). */
export type Key = string | Uint8Array | null;

/** A record value: string, bytes, any JSON-compatible value, or null (a tombstone when keyed). */
export type Value = string | Uint8Array | JsonValue | null;

/** Header values, as KafkaJS: a repeated header key carries an array. */
export type HeaderValue = string | Uint8Array;
/** Record headers. */
export interface IHeaders {
  [key: string]: HeaderValue | HeaderValue[] | undefined;
}

/**
 * Topic schema, as idb's DBSchema: maps topic names to key and value types, so that
 * `createClient<MyTopics>()` checks sends at compile time.
 *
 * @example
 * interface MyTopics extends TopicSchema {
 *   orders: { key: string; value: { id: number; total: number } };
 * }
 */
export interface TopicSchema {
  [topic: string]: { key: Key; value: Value };
}

/** The schema used when none is given: any topic, any key and value. */
export interface UntypedTopics extends TopicSchema {}

/** The declared keys of T, without its index signature (idb's trick for DBSchema). */
type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };

/** Topic names of a schema: its declared topics, or any string when it declares none. */
export type TopicName<S extends TopicSchema> = [KnownKeys<S>] extends [never] ? string : Extract<KnownKeys<S>, string>;
/** Key type of a topic of a schema. */
export type KeyOf<S extends TopicSchema, T extends string> = T extends KnownKeys<S> ? S[T]['key'] : Key;
/** Value type of a topic of a schema. */
export type ValueOf<S extends TopicSchema, T extends string> = T extends KnownKeys<S> ? S[T]['value'] : Value;

/** A message to produce (KafkaJS's Message). */
export interface Message<K extends Key = Key, V extends Value = Value> {
  key?: K | null;
  value: V | null;
  partition?: number;
  headers?: IHeaders;
  /** Milliseconds since the epoch, as number or decimal string. Default: now. */
  timestamp?: string | number;
}

/** The answer to a send, one per topic-partition written (KafkaJS's RecordMetadata). */
export interface RecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
  /** Offset of this send's first record in the partition. */
  baseOffset: string;
  /** The broker's append time when the topic uses LogAppendTime, else '-1'. */
  logAppendTime: string;
  /** Offset of the log start when the send was written. */
  logStartOffset: string;
}

/** A consumed message (KafkaJS's KafkaMessage). */
export interface KafkaMessage<K extends Key = Key, V extends Value = Value> {
  key: K | null;
  value: V | null;
  headers: IHeaders;
  timestamp: string;
  offset: string;
  attributes: number;
  /** Encoded size in bytes. */
  size: number;
}

/** A topic, partition and offset. */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/** A topic and partition. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Offsets of one partition, as admin.fetchTopicOffsets returns them. */
export interface PartitionOffsets {
  partition: number;
  /** The log end offset (same as high). */
  offset: string;
  high: string;
  low: string;
  /** End of what the sync replica holds: every record below it is replicated ('0' without sync). */
  replicated: string;
  /** Kafka's last stable offset: the first offset of the oldest open transaction, else `high` (set by fetchTopicOffsets). */
  lastStable?: string;
}

/** A config entry, as KafkaJS. */
export interface ConfigEntry {
  name: string;
  value: string;
}

/** A topic to create (KafkaJS's ITopicConfig). */
export interface ITopicConfig {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  configEntries?: ConfigEntry[];
}

/** Topic metadata (KafkaJS's ITopicMetadata). */
export interface ITopicMetadata {
  name: string;
  partitions: { partitionId: number; leader: number; replicas: number[]; isr: number[]; partitionErrorCode: number }[];
}

/**
 * KafkaJS's compression codecs (a plain object, as KafkaJS's own: an unused one costs an app's
 * bundle nothing, where a TypeScript enum would stay in it). lanes writes None and GZIP (through
 * the platform's CompressionStream); the others are refused with UnsupportedCompressionTypeError.
 */
export const CompressionTypes = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const;

/** A compression codec number: `CompressionTypes.GZIP` and the others. */
export type CompressionTypes = (typeof CompressionTypes)[keyof typeof CompressionTypes];
