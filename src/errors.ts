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

/** KafkaJS's `type` where Kafka's name differs from lanes' code; elsewhere the two are equal. */
const KAFKA_TYPES: Partial<Record<ErrorCode, string>> = {
  INVALID_ARGUMENT: 'INVALID_REQUEST',
  RECORD_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  BROKER_UNAVAILABLE: 'BROKER_NOT_AVAILABLE',
  STORAGE_ERROR: 'KAFKA_STORAGE_ERROR',
  GROUP_NOT_EMPTY: 'NON_EMPTY_GROUP',
};

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
    this.type = KAFKA_TYPES[this.code] ?? this.code;
  }
}

type Opts = Omit<LanesErrorOptions, 'code'>;

/** A call argument is missing or malformed. */
export class InvalidArgumentError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'INVALID_ARGUMENT' }); }
}
/** An unknown config name, or a config value out of range. */
export class InvalidConfigError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'INVALID_CONFIG' }); }
}
/** A record whose key, value or headers cannot be stored. */
export class InvalidRecordError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'INVALID_RECORD' }); }
}
/** A record larger than the topic's `max.message.bytes`. */
export class RecordTooLargeError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'RECORD_TOO_LARGE' }); }
}
/** numPartitions < 1, or a partition count that does not grow the topic. */
export class InvalidPartitionsError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'INVALID_PARTITIONS' }); }
}
/** The topic does not exist (and may not be auto-created), or the partition is out of range. */
export class TopicNotFoundError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'UNKNOWN_TOPIC_OR_PARTITION' }); }
}
/**
 * An operation a topic does not allow: a user write, delete or deleteRecords on an internal
 * topic (`__consumer_offsets`, `__transaction_state`), as Kafka's INVALID_TOPIC_EXCEPTION.
 */
export class InvalidTopicError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'INVALID_TOPIC_EXCEPTION' }); }
}
/** createTopics of a topic that exists. */
export class TopicExistsError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'TOPIC_ALREADY_EXISTS' }); }
}
/** A fetch below the low watermark or past the log end. */
export class OffsetOutOfRangeError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'OFFSET_OUT_OF_RANGE' }); }
}
/** An idempotent producer skipped a sequence number: an earlier batch was lost. */
export class OutOfOrderSequenceError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }); }
}
/** A producer epoch older than the one the log knows: a fenced producer. */
export class InvalidProducerEpochError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'INVALID_PRODUCER_EPOCH' }); }
}
/**
 * A newer producer with the same transactionalId has connected (another tab, a reload): this
 * one's epoch is stale and it may not commit. Not retriable: make a new producer.
 */
export class ProducerFencedError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'PRODUCER_FENCED', retriable: false }); }
}
/** A transactional call made in the wrong state (no transaction active, or one already active). */
export class InvalidTxnStateError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'INVALID_TXN_STATE', retriable: false }); }
}
/** A stored batch whose CRC32C does not match its contents. */
export class CorruptRecordError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'CORRUPT_MESSAGE' }); }
}
/** The origin's storage quota is exhausted. Not retriable: free space first. */
export class QuotaExceededError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'QUOTA_EXCEEDED', retriable: false }); }
}
/** IndexedDB failed for another reason (the DOMException is the cause). */
export class StorageError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'STORAGE_ERROR' }); }
}
/**
 * The database was written by a newer lanes (a higher schema version) than this code: this
 * context writes nothing to it. `details` names `databaseVersion` and `codeVersion`; reloading
 * the page to the newer app version fixes it. Not retriable.
 */
export class IncompatibleVersionError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'INCOMPATIBLE_VERSION', retriable: false }); }
}
/** The broker cannot be reached right now (its host went away); retriable. */
export class BrokerUnavailableError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { retriable: true, ...o, code: 'BROKER_UNAVAILABLE' }); }
}
/** The group is rebalancing; rejoin and retry. */
export class RebalanceInProgressError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { retriable: true, ...o, code: 'REBALANCE_IN_PROGRESS' }); }
}
/** A commit or heartbeat from a stale generation: this member was fenced and must rejoin. */
export class IllegalGenerationError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { retriable: true, ...o, code: 'ILLEGAL_GENERATION' }); }
}
/** The coordinator does not know this member (evicted); it must rejoin. */
export class UnknownMemberIdError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { retriable: true, ...o, code: 'UNKNOWN_MEMBER_ID' }); }
}
/** deleteGroups or setOffsets on a group that has active members. */
export class GroupNotEmptyError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'GROUP_NOT_EMPTY' }); }
}
/** The group does not exist. */
export class GroupIdNotFoundError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'GROUP_ID_NOT_FOUND' }); }
}
/** A member shares no partition assignor with its group. */
export class InconsistentGroupProtocolError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'INCONSISTENT_GROUP_PROTOCOL' }); }
}

/** The replica refused the credentials. */
export class UnauthorizedError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'UNAUTHORIZED' }); }
}
/** A broker call that got no answer within its deadline (`requestTimeout`); retriable. */
export class RequestTimeoutError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { retriable: true, ...o, code: 'REQUEST_TIMED_OUT' }); }
}
/** A compression codec lanes cannot write (Snappy, LZ4, ZSTD). */
export class UnsupportedCompressionTypeError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'UNSUPPORTED_COMPRESSION_TYPE' }); }
}
/** A client call made before connect() or after disconnect(). */
export class NotConnectedError extends LanesError {
  constructor(message: string, o: Opts = {}) { super(message, { ...o, code: 'NOT_CONNECTED' }); }
}

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

const byCode: Partial<Record<ErrorCode, new (m: string, o?: Opts) => LanesError>> = {
  INVALID_ARGUMENT: InvalidArgumentError,
  INVALID_CONFIG: InvalidConfigError,
  INVALID_RECORD: InvalidRecordError,
  RECORD_TOO_LARGE: RecordTooLargeError,
  INVALID_PARTITIONS: InvalidPartitionsError,
  UNKNOWN_TOPIC_OR_PARTITION: TopicNotFoundError,
  INVALID_TOPIC_EXCEPTION: InvalidTopicError,
  TOPIC_ALREADY_EXISTS: TopicExistsError,
  OFFSET_OUT_OF_RANGE: OffsetOutOfRangeError,
  OUT_OF_ORDER_SEQUENCE_NUMBER: OutOfOrderSequenceError,
  INVALID_PRODUCER_EPOCH: InvalidProducerEpochError,
  CORRUPT_MESSAGE: CorruptRecordError,
  QUOTA_EXCEEDED: QuotaExceededError,
  STORAGE_ERROR: StorageError,
  INCOMPATIBLE_VERSION: IncompatibleVersionError,
  BROKER_UNAVAILABLE: BrokerUnavailableError,
  REBALANCE_IN_PROGRESS: RebalanceInProgressError,
  ILLEGAL_GENERATION: IllegalGenerationError,
  UNKNOWN_MEMBER_ID: UnknownMemberIdError,
  UNAUTHORIZED: UnauthorizedError,
  GROUP_NOT_EMPTY: GroupNotEmptyError,
  GROUP_ID_NOT_FOUND: GroupIdNotFoundError,
  INCONSISTENT_GROUP_PROTOCOL: InconsistentGroupProtocolError,
  NOT_CONNECTED: NotConnectedError,
  REQUEST_TIMED_OUT: RequestTimeoutError,
  UNSUPPORTED_COMPRESSION_TYPE: UnsupportedCompressionTypeError,
  PRODUCER_FENCED: ProducerFencedError,
  INVALID_TXN_STATE: InvalidTxnStateError,
};

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

/** Plain data of any thrown value, for postMessage. */
export function errorToData(e: unknown): ErrorData {
  const err = e instanceof Error ? e : new Error(String(e));
  const d: ErrorData = e instanceof LanesError
    ? { name: e.name, message: e.message, code: e.code, retriable: e.retriable, details: e.details, stack: e.stack }
    : { name: err.name, message: err.message, code: 'UNKNOWN', retriable: false, details: {}, stack: err.stack };
  if (err.cause !== undefined) d.cause = errorToData(err.cause);
  return d;
}

/** Rebuilds the right LanesError subclass from {@link errorToData}'s output. */
export function errorFromData(d: ErrorData): LanesError {
  const Ctor = byCode[d.code];
  const cause = d.cause && errorFromData(d.cause);
  const e = Ctor
    ? new Ctor(d.message, { retriable: d.retriable, details: d.details, cause })
    : new LanesError(d.message, { code: d.code, retriable: d.retriable, details: d.details, cause });
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
