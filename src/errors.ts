/**
 * The LanesError hierarchy. Every error lanes throws is a LanesError with a stable `code`,
 * a `retriable` flag (KafkaJS's idea: a client may retry these by itself) and plain-data
 * `details`. Errors cross the worker boundary as `{ name, code, message, retriable, details }`
 * and are rebuilt into the right subclass by {@link errorFromData}.
 */

/** Stable error codes; names follow Kafka's error codes where Kafka has one. */
export type ErrorCode =
  | 'UNKNOWN'
  | 'INVALID_ARGUMENT'
  | 'INVALID_CONFIG'
  | 'INVALID_RECORD'
  | 'RECORD_TOO_LARGE'
  | 'INVALID_PARTITIONS'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'INVALID_TOPIC_EXCEPTION'
  | 'TOPIC_ALREADY_EXISTS'
  | 'OFFSET_OUT_OF_RANGE'
  | 'OUT_OF_ORDER_SEQUENCE_NUMBER'
  | 'INVALID_PRODUCER_EPOCH'
  | 'CORRUPT_MESSAGE'
  | 'QUOTA_EXCEEDED'
  | 'STORAGE_ERROR'
  | 'INCOMPATIBLE_VERSION'
  | 'BROKER_UNAVAILABLE'
  | 'REBALANCE_IN_PROGRESS'
  | 'ILLEGAL_GENERATION'
  | 'UNKNOWN_MEMBER_ID'
  | 'GROUP_NOT_EMPTY'
  | 'GROUP_ID_NOT_FOUND'
  | 'FENCED_INSTANCE_ID'
  | 'INCONSISTENT_GROUP_PROTOCOL'
  | 'UNAUTHORIZED'
  | 'NOT_CONNECTED'
  | 'NUMBER_OF_RETRIES_EXCEEDED'
  | 'REQUEST_TIMED_OUT'
  | 'UNSUPPORTED_COMPRESSION_TYPE'
  | 'PRODUCER_FENCED'
  | 'INVALID_TXN_STATE';

/** KafkaJS's `type` where Kafka's name differs from lanes' code (from the table below); elsewhere the two are equal. */
const kafkaTypes: Partial<Record<ErrorCode, string>> = {};

/** Options of a LanesError. */
export interface LanesErrorOptions {
  code?: ErrorCode;
  retriable?: boolean;
  cause?: unknown;
  details?: Record<string, unknown>;
}

/** Base class of every error lanes throws. */
export class LanesError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** True when retrying the same call may succeed (KafkaJS's `retriable`). */
  readonly retriable: boolean;
  /** Plain data about the failure: the field, topic, partition or offset involved. */
  readonly details: Record<string, unknown>;
  /** Kafka's error name as KafkaJS's `type` (e.g. 'OFFSET_OUT_OF_RANGE', 'REQUEST_TIMED_OUT'). */
  readonly type: string;

  constructor(message: string, options: LanesErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 'UNKNOWN';
    this.retriable = options.retriable ?? false;
    this.details = options.details ?? {};
    this.type = kafkaTypes[this.code] ?? this.code;
  }
}

type Opts = Omit<LanesErrorOptions, 'code'>;

/** A LanesError subclass with a fixed code: `new TopicNotFoundError(message, { cause, details })`. */
export type LanesErrorClass = new (message: string, options?: Opts) => LanesError;

/** Classes by code; no prototype, so a code such as `toString` finds nothing. */
const byCode: Partial<Record<ErrorCode, LanesErrorClass>> = Object.create(null);

/**
 * The subclasses, in the order of the exports below, as one table (it is part of every page's
 * bundle, so it is written compactly): `Name[:CODE][=TYPE][+|!]` per class. The class is
 * `NameError`; its code is Name in SNAKE_CASE unless given; TYPE is KafkaJS's `type` where
 * Kafka's name differs from the code; `+`: retriable unless the options say not, `!`: never
 * retriable (the options cannot make it so), neither: not retriable unless the options say so.
 */
const TABLE = 'InvalidArgument=INVALID_REQUEST InvalidConfig InvalidRecord RecordTooLarge=MESSAGE_TOO_LARGE InvalidPartitions TopicNotFound:UNKNOWN_TOPIC_OR_PARTITION InvalidTopic:INVALID_TOPIC_EXCEPTION TopicExists:TOPIC_ALREADY_EXISTS OffsetOutOfRange OutOfOrderSequence:OUT_OF_ORDER_SEQUENCE_NUMBER InvalidProducerEpoch ProducerFenced! InvalidTxnState! CorruptRecord:CORRUPT_MESSAGE QuotaExceeded! Storage:STORAGE_ERROR=KAFKA_STORAGE_ERROR IncompatibleVersion! BrokerUnavailable=BROKER_NOT_AVAILABLE+ RebalanceInProgress+ IllegalGeneration+ UnknownMemberId+ GroupNotEmpty=NON_EMPTY_GROUP GroupIdNotFound InconsistentGroupProtocol Unauthorized RequestTimeout:REQUEST_TIMED_OUT+ UnsupportedCompressionType NotConnected';

const classes = TABLE.split(' ').map((entry): LanesErrorClass => {
  const [, base, given, type, flag] = /^(\w+)(?::(\w+))?(?:=(\w+))?([+!]?)$/.exec(entry)!;
  const code = (given ?? base!.replace(/\B(?=[A-Z])/g, '_').toUpperCase()) as ErrorCode;
  if (type) kafkaTypes[code] = type;
  const retriable = flag ? flag === '+' : undefined;
  const C = class extends LanesError {
    constructor(message: string, o: Opts = {}) {
      super(message, { retriable, ...o, code, ...(retriable === false && { retriable }) });
    }
  };
  Object.defineProperty(C, 'name', { value: `${base}Error` });
  return (byCode[code] = C);
});

/** The class of table entry `i` (a pure call: a bundler drops the classes a page never names). */
function pick(i: number): LanesErrorClass {
  return classes[i]!;
}

/** A call argument is missing or malformed. */
export const InvalidArgumentError = /* @__PURE__ */ pick(0);
/** An unknown config name, or a config value out of range. */
export const InvalidConfigError = /* @__PURE__ */ pick(1);
/** A record whose key, value or headers cannot be stored. */
export const InvalidRecordError = /* @__PURE__ */ pick(2);
/** A record larger than the topic's `max.message.bytes`. */
export const RecordTooLargeError = /* @__PURE__ */ pick(3);
/** numPartitions < 1, or a partition count that does not grow the topic. */
export const InvalidPartitionsError = /* @__PURE__ */ pick(4);
/** The topic does not exist (and may not be auto-created), or the partition is out of range. */
export const TopicNotFoundError = /* @__PURE__ */ pick(5);
/**
 * An operation a topic does not allow: a user write, delete or deleteRecords on an internal
 * topic (`__consumer_offsets`, `__transaction_state`), as Kafka's INVALID_TOPIC_EXCEPTION.
 */
export const InvalidTopicError = /* @__PURE__ */ pick(6);
/** createTopics of a topic that exists. */
export const TopicExistsError = /* @__PURE__ */ pick(7);
/** A fetch below the low watermark or past the log end. */
export const OffsetOutOfRangeError = /* @__PURE__ */ pick(8);
/** An idempotent producer skipped a sequence number: an earlier batch was lost. */
export const OutOfOrderSequenceError = /* @__PURE__ */ pick(9);
/** A producer epoch older than the one the log knows: a fenced producer. */
export const InvalidProducerEpochError = /* @__PURE__ */ pick(10);
/**
 * A newer producer with the same transactionalId has connected (another tab, a reload): this
 * one's epoch is stale and it may not commit. Not retriable: make a new producer.
 */
export const ProducerFencedError = /* @__PURE__ */ pick(11);
/** A transactional call made in the wrong state (no transaction active, or one already active). */
export const InvalidTxnStateError = /* @__PURE__ */ pick(12);
/** A stored batch whose CRC32C does not match its contents. */
export const CorruptRecordError = /* @__PURE__ */ pick(13);
/** The origin's storage quota is exhausted. Not retriable: free space first. */
export const QuotaExceededError = /* @__PURE__ */ pick(14);
/** IndexedDB failed for another reason (the DOMException is the cause). */
export const StorageError = /* @__PURE__ */ pick(15);
/**
 * The database was written by a newer lanes (a higher schema version) than this code: this
 * context writes nothing to it. `details` names `databaseVersion` and `codeVersion`; reloading
 * the page to the newer app version fixes it. Not retriable.
 */
export const IncompatibleVersionError = /* @__PURE__ */ pick(16);
/** The broker cannot be reached right now (its host went away); retriable. */
export const BrokerUnavailableError = /* @__PURE__ */ pick(17);
/** The group is rebalancing; rejoin and retry. */
export const RebalanceInProgressError = /* @__PURE__ */ pick(18);
/** A commit or heartbeat from a stale generation: this member was fenced and must rejoin. */
export const IllegalGenerationError = /* @__PURE__ */ pick(19);
/** The coordinator does not know this member (evicted); it must rejoin. */
export const UnknownMemberIdError = /* @__PURE__ */ pick(20);
/** deleteGroups or setOffsets on a group that has active members. */
export const GroupNotEmptyError = /* @__PURE__ */ pick(21);
/** The group does not exist. */
export const GroupIdNotFoundError = /* @__PURE__ */ pick(22);
/** A member shares no partition assignor with its group. */
export const InconsistentGroupProtocolError = /* @__PURE__ */ pick(23);
/** The replica refused the credentials. */
export const UnauthorizedError = /* @__PURE__ */ pick(24);
/** A broker call that got no answer within its deadline (`requestTimeout`); retriable. */
export const RequestTimeoutError = /* @__PURE__ */ pick(25);
/** A compression codec lanes cannot write (Snappy, LZ4, ZSTD). */
export const UnsupportedCompressionTypeError = /* @__PURE__ */ pick(26);
/** A client call made before connect() or after disconnect(). */
export const NotConnectedError = /* @__PURE__ */ pick(27);

/* Each class is also a type, as a `class` declaration would make it. */
export type InvalidArgumentError = LanesError;
export type InvalidConfigError = LanesError;
export type InvalidRecordError = LanesError;
export type RecordTooLargeError = LanesError;
export type InvalidPartitionsError = LanesError;
export type TopicNotFoundError = LanesError;
export type InvalidTopicError = LanesError;
export type TopicExistsError = LanesError;
export type OffsetOutOfRangeError = LanesError;
export type OutOfOrderSequenceError = LanesError;
export type InvalidProducerEpochError = LanesError;
export type ProducerFencedError = LanesError;
export type InvalidTxnStateError = LanesError;
export type CorruptRecordError = LanesError;
export type QuotaExceededError = LanesError;
export type StorageError = LanesError;
export type IncompatibleVersionError = LanesError;
export type BrokerUnavailableError = LanesError;
export type RebalanceInProgressError = LanesError;
export type IllegalGenerationError = LanesError;
export type UnknownMemberIdError = LanesError;
export type GroupNotEmptyError = LanesError;
export type GroupIdNotFoundError = LanesError;
export type InconsistentGroupProtocolError = LanesError;
export type UnauthorizedError = LanesError;
export type RequestTimeoutError = LanesError;
export type UnsupportedCompressionTypeError = LanesError;
export type NotConnectedError = LanesError;

/**
 * A call kept failing with retriable errors until its retries ran out (KafkaJS's
 * KafkaJSNumberOfRetriesExceeded). `cause` is the last error; details carry `retryCount` and
 * `retryTime` (the wait that would have come next).
 */
export class NumberOfRetriesExceededError extends LanesError {
  constructor(cause: unknown, retry: { retryCount: number; retryTime: number }) {
    super(cause instanceof Error ? cause.message : String(cause), { cause, details: { ...retry }, retriable: false, code: 'NUMBER_OF_RETRIES_EXCEEDED' });
  }
  /** Retries made before giving up. */
  get retryCount(): number { return Number(this.details.retryCount); }
  /** The wait that would have come next (ms). */
  get retryTime(): number { return Number(this.details.retryTime); }
}

/** The plain-data form of an error, as it crosses a worker boundary. */
export interface ErrorData {
  name: string;
  message: string;
  code: ErrorCode;
  retriable: boolean;
  details: Record<string, unknown>;
  stack?: string;
  /** The error's cause, as data (a broker that failed to open says why). */
  cause?: ErrorData;
}


/**
 * The LanesError subclass of an error code (`errorClassOf('CORRUPT_MESSAGE') === CorruptRecordError`),
 * the class {@link errorFromData} rebuilds an error of that code as; undefined for a code without one.
 */
export function errorClassOf(code: string): LanesErrorClass | undefined {
  return byCode[code as ErrorCode];
}

/** Rebuilds the right LanesError subclass from {@link errorToData}'s output. */
export function errorFromData(d: ErrorData): LanesError {
  const Ctor = errorClassOf(d.code) ?? LanesError;
  const e = new Ctor(d.message, { code: d.code, retriable: d.retriable, details: d.details, cause: d.cause && errorFromData(d.cause) });
  if (d.stack) e.stack = d.stack;
  return e;
}

/** True when the error says "try again" (KafkaJS's `retriable`). */
export function isRetriable(e: unknown): boolean {
  return e instanceof LanesError && e.retriable;
}

/** True when the coordinator no longer counts this member (stale generation, or evicted): it must give up its partitions and rejoin. */
export function isFenced(e: unknown): boolean {
  return e instanceof LanesError && (e.code === 'ILLEGAL_GENERATION' || e.code === 'UNKNOWN_MEMBER_ID');
}

/** True when the error means the consumer must rejoin its group. */
export function isRebalancing(e: unknown): boolean {
  return isFenced(e) || (e instanceof LanesError && e.code === 'REBALANCE_IN_PROGRESS');
}

/**
 * A value as an error message shows it: strings quoted, and numbers as JavaScript writes them
 * (`NaN`, `Infinity`, `-0`), where JSON.stringify would say `null`; `undefined`, bigints and
 * objects by kind.
 */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : (v as object).constructor?.name ?? 'object';
  return typeof v;
}
