/**
 * The tab <-> broker contract. Everything here crosses a worker boundary (a MessagePort, see
 * port-rpc.ts, or BroadcastChannel for the leader-tab host), so requests and answers are plain
 * structured-clone data; offsets are numbers on the wire and decimal strings in the public API.
 */
import type { EncodedRecords, RecordBatch } from './record-batch.js';
import type { TopicConfig } from './topic-config.js';
import type { ConfigEntry, ITopicConfig } from '../types.js';
import type { ErrorData } from '../errors.js';

/** A topic as the broker describes it. */
export interface TopicInfo {
  topic: string;
  numPartitions: number;
  config: TopicConfig;
  internal: boolean;
}

/** Options of a metadata request. */
export interface MetadataRequest {
  /** Topics to describe; all (non-internal) topics when omitted. */
  topics?: string[];
  /** Create missing topics (with numPartitions) instead of failing. */
  allowAutoTopicCreation?: boolean;
  numPartitions?: number;
  /** Leave topics that do not exist (and are not created) out of the answer instead of failing. */
  allowMissing?: boolean;
  /** Do not auto-create a topic deleted less than this many ms ago (a consumer's metadataMaxAge). */
  notDeletedWithinMs?: number;
}

/** Records for one partition in a produce request. */
export interface ProduceBatch {
  topic: string;
  partition: number;
  baseSequence: number;
  records: EncodedRecords;
}

/** A produce request of one producer. */
export interface ProduceRequest {
  producerId: number;
  producerEpoch: number;
  batches: ProduceBatch[];
  /** Set by a transactional producer: the records join its open transaction (opening one). */
  transactionalId?: string;
  /** With transactionalId: the broker aborts the transaction this long (ms) after it opened. Default 60000. */
  transactionTimeout?: number;
}

/** Where one batch landed. */
export interface ProduceResult {
  topic: string;
  partition: number;
  baseOffset: number;
  logAppendTime: number;
  logStartOffset: number;
  duplicate: boolean;
}

/** One partition of a fetch. */
export interface FetchPartition {
  topic: string;
  partition: number;
  /** Where to read from; -1 the high watermark (latest), -2 the low watermark (earliest), as Kafka's ListOffsets. */
  offset: number;
  /**
   * Kafka's auto.offset.reset for an offset out of range: below the log start the read starts
   * there; past the log end it starts at the end, or with 'earliest' at the start. Without it,
   * an offset out of range answers OFFSET_OUT_OF_RANGE.
   */
  reset?: 'earliest' | 'latest';
}

/** A fetch request (Kafka's Fetch): long-polls up to maxWaitMs when no partition has data. */
export interface FetchRequest {
  partitions: FetchPartition[];
  maxWaitMs: number;
  /** Total bytes across partitions; at least one batch is returned regardless. */
  maxBytes: number;
  maxBytesPerPartition: number;
  /** Stop adding batches to a partition's answer once they hold this many records. */
  maxRecordsPerPartition?: number;
  /** 'replicated': read only what the sync replica holds (as Kafka consumers read up to the high watermark). */
  isolation?: 'replicated';
  /**
   * Kafka's read_uncommitted: read up to the high watermark, records of open and aborted
   * transactions included. Default (read_committed): up to the last stable offset, aborted
   * records left out. Transaction markers are never delivered (their batches come back empty).
   */
  readUncommitted?: boolean;
}

/** One partition's answer to a fetch. */
export interface FetchPartitionResult {
  topic: string;
  partition: number;
  /** The offset read from: the one asked for, or where -1, -2 or `reset` put it. */
  offset: number;
  high: number;
  low: number;
  batches: RecordBatch[];
  /** Kafka's last stable offset: the first offset of the oldest open transaction, else `high`. */
  lastStable?: number;
  error?: ErrorData;
}

/** Low and high watermarks of a partition. */
export interface PartitionWatermarks {
  partition: number;
  low: number;
  high: number;
  /** End of what the sync replica holds (every record below it is replicated); listOffsets always sets it. */
  replicated?: number;
  /** Kafka's last stable offset (first offset of the oldest open transaction, else high); listOffsets sets it. */
  lastStable?: number;
}

/** What a log-cleaner run did. */
export interface CleanerStats {
  segmentsSealed: number;
  segmentsDeleted: number;
  segmentsCompacted: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
}

/** A segment as admin tools and sync see it. */
export interface SegmentInfo {
  topic: string;
  partition: number;
  baseOffset: number;
  nextOffset: number;
  sizeBytes: number;
  recordCount: number;
  sealed: boolean;
  version: number;
}

/** A consumer joining (or rejoining) its group. */
export interface JoinGroupRequest {
  groupId: string;
  /** Chosen by the member (it holds the Web Lock named after it before joining). */
  memberId: string;
  groupInstanceId?: string | null;
  clientId: string;
  /** Subscribed topic names (regular expressions resolved by the member). */
  topics: string[];
  /** Partitions the member still owns (cooperative protocol); {} for eager assignors. */
  owned: { [topic: string]: number[] };
  /** Assignor names the member supports, in preference order. */
  protocols: string[];
  sessionTimeout: number;
  rebalanceTimeout: number;
}

/** The outcome of a join: this member's assignment in the new generation. */
export interface JoinGroupResult {
  groupId: string;
  memberId: string;
  generationId: number;
  protocol: string;
  assignment: { [topic: string]: number[] };
  /** The group's longest-standing member (KafkaJS's leader; the assignment itself is computed by the broker). */
  leaderId?: string;
  /** Committed offsets of the assigned partitions (absent: none committed). */
  committed: { topic: string; partition: number; offset: number }[];
}

/**
 * A consumer's heartbeat in the broker-side group protocol (in the spirit of Kafka's KIP-848
 * ConsumerGroupHeartbeat): its subscription and the partitions it owns. The broker runs the
 * membership (joins, rounds, assignment) and answers with the target the member reconciles to.
 */
export interface GroupHeartbeatRequest extends JoinGroupRequest {
  /** -1 to join (or to start over after being fenced); otherwise the epoch the member holds. */
  memberEpoch: number;
}

/**
 * A consumer's subscription as its heartbeat carries it. The broker resolves it to the topic
 * names the member reports (as Kafka's KIP-848 resolves regular expressions broker-side):
 * - Named topics are reported whether they exist or not. The coordinator assigns only what
 *   exists, and starts a round when a subscribed topic is created, so a consumer whose topic
 *   was deleted keeps its other partitions and gets the topic back when it reappears.
 * - Only on `first` (the first heartbeat of a run) are missing named topics auto-created
 *   (`allowAutoTopicCreation`), never one deleted within `metadataMaxAge`; with auto-creation
 *   off a missing named topic fails that heartbeat (TopicNotFoundError, as KafkaJS's subscribe).
 * - Patterns match the topics that exist at each heartbeat (internal topics excluded): a
 *   matching topic created or deleted changes the member's topics, which rejoins it.
 */
export interface ConsumerSubscription {
  subscription: (string | RegExp)[];
  allowAutoTopicCreation: boolean;
  /** Partitions of an auto-created topic. */
  numPartitions?: number;
  /** KafkaJS's metadataMaxAge: no auto-creation of a topic deleted less than this long ago. */
  metadataMaxAge: number;
  first: boolean;
}

/** A consumer's heartbeat as a tab sends it: its subscription instead of topic names. */
export type ConsumerHeartbeatRequest = Omit<GroupHeartbeatRequest, 'topics'> & ConsumerSubscription;

/** The answer to a heartbeat: the member's epoch and the partitions it must own now. */
export interface GroupHeartbeatResponse {
  groupId: string;
  memberId: string;
  /** The generation of the assignment (also what commits carry). */
  memberEpoch: number;
  /** The assigner the group agreed on. */
  protocol: string;
  /** Target assignment: partitions missing here must be stopped, committed and given up. */
  assignment: { [topic: string]: number[] };
  /** Committed offsets of the target's partitions (absent: none committed). */
  committed: { topic: string; partition: number; offset: number }[];
  /** The group's longest-standing member (KafkaJS's leader; the broker computes the assignment). */
  leaderId?: string;
  /** True while the group is rebalancing this member's assignment. */
  rebalancing: boolean;
  /** The member was fenced: it must give up everything without committing. */
  fenced: boolean;
}

/** Identifies a member in a generation: what fencing checks. */
export interface GroupMemberRef {
  groupId: string;
  memberId: string;
  generationId: number;
}

/** Offsets to commit for a group. memberId '' and generationId -1 commit as admin (group must be empty). */
export interface OffsetCommitRequest extends GroupMemberRef {
  offsets: { topic: string; partition: number; offset: number; metadata?: string | null }[];
}

/**
 * A transaction's end (Kafka's EndTxn): commit or abort. A commit may carry a group's offsets,
 * which the broker encodes as one `__consumer_offsets` batch carrying `offsetsSequence` so a
 * retried commit is recognised whole; they are written with the COMMIT markers.
 */
export interface EndTxnRequest {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  offsets?: {
    groupId: string;
    /** The consumer's member id and generation; when given, a stale generation is refused. */
    memberId?: string;
    generationId?: number;
    offsetsSequence: number;
    offsets: { topic: string; partition: number; offset: number; metadata?: string | null }[];
  };
}

/** A committed offset as fetchOffsets returns it (offset -1: none). */
export interface CommittedOffsetInfo {
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
}

/** A group as describeGroups returns it. */
export interface GroupDescription {
  groupId: string;
  state: 'Empty' | 'PreparingRebalance' | 'Stable' | 'Dead';
  protocol: string;
  protocolType: 'consumer';
  generationId: number;
  members: { memberId: string; clientId: string; groupInstanceId: string | null; topics: string[]; assignment: { [topic: string]: number[] } }[];
}

/** What a watch looks at: topics' watermarks and groups' generations and committed offsets. */
export interface WatchRequest {
  /** Topics to watch; every non-internal topic when omitted. */
  topics?: string[];
  /** Groups to watch (membership generation, state, committed offsets). */
  groups?: string[];
  /** The state the caller last saw; the broker answers at once when the current one differs. */
  known?: WatchState | null;
  /** Longest wait for a change, in ms. */
  maxWaitMs: number;
}

/** The watched state, as the broker answers a watch. Missing topics are left out. */
export interface WatchState {
  topics: { topic: string; partitions: PartitionWatermarks[] }[];
  groups: { groupId: string; state: string; generationId: number; committed: { topic: string; partition: number; offset: number }[] }[];
}

/** What a tab gives the broker to turn sync on (createClient's `sync`, token resolved). */
export interface SyncConfigureRequest {
  /** Base URL of the replica server. */
  url: string;
  /** The bearer token to upload with (stored with the log for the service worker). */
  token: string | null;
  /** How long the active segment's tail waits for more records before it is pushed (ms). */
  lingerMs?: number;
  /** Upper bound of one push request's record bytes. */
  maxRequestBytes?: number;
  /** Pause between a mirror's polls once it caught up (ms). */
  mirrorIntervalMs?: number;
}

/** Pending records and bytes of one topic. */
export interface SyncTopicPending {
  records: number;
  bytes: number;
}

/** The last failure of the uploader. */
export interface SyncFailureInfo {
  /** network: unreachable; unauthorized: token refused or expired; rejected: the replica refused the data; server: 5xx. */
  kind: 'network' | 'unauthorized' | 'rejected' | 'server';
  message: string;
  code?: string;
  /** What the replica named as at fault, e.g. `batches[0].records[0]`. */
  field?: string;
  /** When it happened (ms since the epoch). */
  at: number;
}

/** A partition the uploader holds back: the replica refused the batch at `baseOffset` for good. */
export interface SyncBlockedPartition {
  topic: string;
  partition: number;
  /** Local offset of the refused batch: what comes before it is uploaded, nothing after it. */
  baseOffset: number;
  /** The replica's error code, e.g. RECORD_TOO_LARGE, INVALID_RECORD, CORRUPT_MESSAGE. */
  code: string;
  message: string;
  /** When the refusal arrived (ms since the epoch). */
  at: number;
}

/** Sync status: what components render, as snapshot and as events. */
export interface SyncStatus {
  /** False until a client configured sync for this database. */
  configured: boolean;
  online: boolean;
  /**
   * idle: everything replicated; uploading; waiting (linger or backoff, see retryAt); offline;
   * unauthorized: the token was refused or expired, waiting for a fresh one (sync.getToken);
   * standby: another context (the service worker) holds the upload lock; off: not configured.
   */
  state: 'idle' | 'uploading' | 'waiting' | 'offline' | 'unauthorized' | 'standby' | 'off';
  /** Records and stored bytes not yet acknowledged by the replica, in total and per topic. */
  pendingRecords: number;
  pendingBytes: number;
  topics: Record<string, SyncTopicPending>;
  /** When the replica last acknowledged a push (ms since the epoch). */
  lastSuccessAt: number | null;
  lastError: SyncFailureInfo | null;
  /** While a backlog uploads: records uploaded of it, and its size. */
  progress: { uploaded: number; total: number } | null;
  /** When the next retry is due, while backing off. */
  retryAt: number | null;
  /**
   * Partitions held back because the replica refused their next batch for good (a 4xx naming
   * the batch, e.g. RECORD_TOO_LARGE); the other partitions keep uploading. A held partition is
   * tried again on `sync.retry()`, when an uploader takes over (reload, service worker) and when
   * the network comes back.
   */
  blocked: SyncBlockedPartition[];
  /** Who reported this status: the broker (a tab is open) or the service worker. */
  uploader: 'broker' | 'service-worker' | null;
  deviceId: string | null;
  url: string | null;
  /** Local topics following replica topics; `lastError` while a mirror's rounds fail (it retries); `stopped` after stopMirror(). */
  mirrors: { topic: string; into: string; lastError?: SyncFailureInfo; stopped?: true }[];
  /** Result of navigator.storage.persist() (filled in by the tab; null where unknown). */
  persisted: boolean | null;
}

/** A topic config as describeConfigs answers it (Kafka's names; `isDefault`: the value is the default). */
export interface ConfigDescription extends ConfigEntry {
  isDefault: boolean;
}

/** The broker, as clients reach it. Every method is async: it runs in another context. */
export interface BrokerApi {
  /** Protocol version and the host the broker runs in. */
  hello(): Promise<{ version: number; host: 'in-page' | 'shared-worker' | 'leader-tab'; database: string }>;
  metadata(req: MetadataRequest): Promise<TopicInfo[]>;
  /** Creates topics; answers false when one already existed (as KafkaJS). */
  createTopics(topics: ITopicConfig[], validateOnly: boolean): Promise<boolean>;
  deleteTopics(topics: string[]): Promise<void>;
  /** Grows topics; all-or-nothing. `validateOnly`: checks every count and changes nothing. */
  createPartitions(topicPartitions: { topic: string; count: number }[], validateOnly?: boolean): Promise<void>;
  /** Applies config entries over a topic's configs. `validateOnly`: checks them (InvalidConfigError naming the entry) and changes nothing. */
  alterConfigs(topic: string, entries: ConfigEntry[], validateOnly?: boolean): Promise<TopicConfig>;
  /** A topic's configs, for admin.describeConfigs. */
  describeConfigs(topic: string): Promise<ConfigDescription[]>;
  /** A producer id; with a transactionalId, that id's producer with a bumped epoch (fencing older ones). */
  initProducerId(req?: { transactionalId?: string }): Promise<{ producerId: number; producerEpoch: number }>;
  /** Ends a transaction: its markers (and, on commit, offsets) in one appender request (all or nothing). */
  endTransaction(req: EndTxnRequest): Promise<void>;
  produce(req: ProduceRequest): Promise<ProduceResult[]>;
  fetch(req: FetchRequest): Promise<FetchPartitionResult[]>;
  listOffsets(topic: string): Promise<PartitionWatermarks[]>;
  offsetsForTimestamp(topic: string, timestamp: number): Promise<{ partition: number; offset: number }[]>;
  deleteRecords(topic: string, partitions: { partition: number; offset: number }[]): Promise<{ partition: number; lowWatermark: number }[]>;
  segments(topic: string, partition: number): Promise<SegmentInfo[]>;
  runLogCleaner(topics?: string[]): Promise<CleanerStats>;
  /** Joins or rejoins a group; resolves when the group's rebalance completes. */
  joinGroup(req: JoinGroupRequest): Promise<JoinGroupResult>;
  heartbeat(ref: GroupMemberRef): Promise<void>;
  /**
   * The consumer's side of the group protocol: reports subscription and owned partitions,
   * answers the member's epoch and target assignment (waits while a join of it is under way).
   */
  groupHeartbeat(req: ConsumerHeartbeatRequest): Promise<GroupHeartbeatResponse>;
  leaveGroup(ref: { groupId: string; memberId: string }): Promise<void>;
  commitOffsets(req: OffsetCommitRequest): Promise<void>;
  /** Committed offsets of a group, for the given topics' partitions (all committed ones when omitted). */
  fetchOffsets(groupId: string, topics?: string[]): Promise<CommittedOffsetInfo[]>;
  describeGroups(groupIds: string[]): Promise<GroupDescription[]>;
  listGroups(): Promise<{ groupId: string; protocolType: 'consumer'; state: string }[]>;
  deleteGroups(groupIds: string[]): Promise<void>;
  /** Long-polls for a change of the watched state (appends, topic changes, rebalances, commits). */
  watch(req: WatchRequest): Promise<WatchState>;
  /** Turns sync on (or updates its URL, token and tunables); answers the status. */
  syncConfigure(req: SyncConfigureRequest): Promise<SyncStatus>;
  /** Stores a fresh token (used by the broker now and by the service worker later). */
  syncSetToken(token: string | null): Promise<void>;
  /** The sync status now. */
  syncStatus(): Promise<SyncStatus>;
  /** The network state a tab sees (a worker's navigator.onLine can lag behind it). */
  syncNetwork(online: boolean): Promise<void>;
  /** Retries the upload now instead of waiting out the backoff. */
  syncRetry(): Promise<void>;
  /** Follows replica topic `topic` into local topic `into` (persisted: resumed by every later broker). */
  syncMirror(req: { topic: string; into: string }): Promise<void>;
  /** Stops following into `into` (records already mirrored stay). */
  syncStopMirror(into: string): Promise<void>;
}

/** Bumped when BrokerApi changes incompatibly; tabs of another version refuse to talk. */
export const PROTOCOL_VERSION = 4;

/** Every BrokerApi method, for hosts that forward calls (port and BroadcastChannel RPC). */
export const BROKER_METHODS = [
  'hello', 'metadata', 'createTopics', 'deleteTopics', 'createPartitions', 'alterConfigs', 'describeConfigs', 'initProducerId',
  'endTransaction', 'produce', 'fetch', 'listOffsets', 'offsetsForTimestamp', 'deleteRecords', 'segments', 'runLogCleaner',
  'joinGroup', 'heartbeat', 'groupHeartbeat', 'leaveGroup', 'commitOffsets', 'fetchOffsets', 'describeGroups', 'listGroups', 'deleteGroups',
  'watch',
  'syncConfigure', 'syncSetToken', 'syncStatus', 'syncNetwork', 'syncRetry', 'syncMirror', 'syncStopMirror',
] as const satisfies readonly (keyof BrokerApi)[];

/** Compile-time check that BROKER_METHODS lists every method of BrokerApi. */
export type MissingBrokerMethods = Exclude<keyof BrokerApi, (typeof BROKER_METHODS)[number]>;
const _allListed: MissingBrokerMethods extends never ? true : never = true;
void _allListed;

/**
 * A BrokerApi whose every method, by name, is `call(method, args)`: how a tab's port client and
 * request layer forward calls without a list of the methods. It has no `then` (a broker is a
 * promise's value, never a thenable) and no symbol-keyed members.
 */
export function brokerProxy(call: (method: keyof BrokerApi, args: unknown[]) => Promise<unknown>): BrokerApi {
  return new Proxy({} as BrokerApi, {
    get: (_, m) => (m === 'then' || typeof m !== 'string' ? undefined : (...a: unknown[]) => call(m as keyof BrokerApi, a)),
  });
}

/** Names of the Web Locks and channels of a database. */
export const names = {
  brokerLock: (db: string) => `lanes:${db}:broker`,
  memberLock: (db: string, memberId: string) => `lanes:${db}:member:${memberId}`,
  syncLock: (db: string) => `lanes:${db}:sync`,
  /** Sync status and replicated-offset notices from whichever context uploads. */
  syncChannel: (db: string) => `lanes:${db}:sync`,
  /** Background Sync tag of a database (service worker). */
  syncTag: (db: string) => `lanes:${db}`,
  rpcChannel: (db: string) => `lanes:${db}:rpc`,
  groupChannel: (db: string) => `lanes:${db}:group`,
};
