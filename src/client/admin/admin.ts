/**
 * The admin client (KafkaJS shape): topics, partitions, configs, offsets, record deletion,
 * plus lanes' own log tools (segments, cleaner). The calls an app rarely makes (configs, record
 * deletion, offsets by time, group administration and offsets, lanes' log tools) are in
 * admin-tools.ts, loaded on their first use.
 */
import { errorFromData, InvalidArgumentError, NotConnectedError, type ErrorData } from '../../errors.js';
import { names, type BrokerApi } from '../../protocol/broker-api.js';
import type { CleanerStats, SegmentInfo } from '../../protocol/broker-api.js';
import type { ConfigEntry, ITopicConfig, ITopicMetadata, PartitionOffsets } from '../../types.js';
import type { Connection } from '../connection.js';
import { ADMIN_EVENTS, Instrumentation, type InstrumentationEvent, type RemoveInstrumentationEventListener } from '../instrumentation.js';
import type { Logger } from '../logger.js';
import { createRetry, type RetryOptions } from '../retry.js';

/** Options of admin(). */
export interface AdminConfig {
  /** KafkaJS's retry options for retriable failures (broker unavailable, request timeout). Default 5 retries from 300 ms. */
  retry?: RetryOptions;
}

/** The admin client. */
export interface Admin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Creates topics; false when any of them already existed (KafkaJS). */
  createTopics(o: { topics: ITopicConfig[]; validateOnly?: boolean; waitForLeaders?: boolean; timeout?: number }): Promise<boolean>;
  deleteTopics(o: { topics: string[]; timeout?: number }): Promise<void>;
  /** Grows topics: `count` is the new total number of partitions. */
  createPartitions(o: { topicPartitions: { topic: string; count: number }[]; validateOnly?: boolean }): Promise<boolean>;
  listTopics(): Promise<string[]>;
  fetchTopicMetadata(o?: { topics?: string[] }): Promise<{ topics: ITopicMetadata[] }>;
  /** Low and high watermarks per partition. */
  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Per partition, the first offset with a timestamp >= `timestamp` (the high watermark when none). */
  fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<{ partition: number; offset: string }[]>;
  /** Moves the low watermark of partitions (offset '-1': to the high watermark). */
  deleteTopicRecords(o: { topic: string; partitions: { partition: number; offset: string }[] }): Promise<void>;
  /** Kafka's name for deleteTopicRecords. */
  deleteRecords(o: { topic: string; partitions: { partition: number; offset: string }[] }): Promise<void>;
  describeConfigs(o: { resources: { type?: number; name: string; configNames?: string[] }[]; includeSynonyms?: boolean }): Promise<{ resources: { resourceName: string; resourceType: number; errorCode: number; configEntries: (ConfigEntry & { configName: string; configValue: string; readOnly: boolean; isDefault: boolean })[] }[] }>;
  alterConfigs(o: { resources: { type?: number; name: string; configEntries: ConfigEntry[] }[]; validateOnly?: boolean }): Promise<void>;
  /** lanes: the segments of a partition (sealed ones are what sync ships). */
  describeSegments(o: { topic: string; partition: number }): Promise<SegmentInfo[]>;
  /** lanes: runs retention and compaction now instead of waiting for the cleaner's timer. */
  runLogCleaner(o?: { topics?: string[] }): Promise<CleanerStats>;
  /** Groups with their state, protocol and members' assignments. */
  describeGroups(groupIds: string[]): Promise<{ groups: GroupInfo[] }>;
  listGroups(): Promise<{ groups: { groupId: string; protocolType: string }[] }>;
  /** Deletes groups with no active members (their committed offsets go). */
  deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]>;
  /** Committed offsets of a group ('-1' where none); lag = high watermark - offset. */
  fetchOffsets(o: { groupId: string; topics?: string[] }): Promise<{ topic: string; partitions: { partition: number; offset: string; metadata: string | null }[] }[]>;
  /** Sets committed offsets of a group with no active members. */
  setOffsets(o: { groupId: string; topic: string; partitions: { partition: number; offset: string }[] }): Promise<void>;
  /** Moves a group's committed offsets of a topic to the earliest (or latest) offsets. */
  resetOffsets(o: { groupId: string; topic: string; earliest?: boolean }): Promise<void>;
  /** KafkaJS's instrumentation events: CONNECT, DISCONNECT, REQUEST, REQUEST_TIMEOUT, REQUEST_QUEUE_SIZE; lanes adds LOG_CLEANER_ERROR. */
  on(event: string, listener: (e: InstrumentationEvent) => void): RemoveInstrumentationEventListener;
  readonly events: typeof ADMIN_EVENTS;
  /** The admin's logger (namespace 'Admin'). */
  logger(): Logger;
}

/** A group as admin.describeGroups returns it (KafkaJS's GroupDescription, assignment as plain data). */
export interface GroupInfo {
  groupId: string;
  errorCode: number;
  state: string;
  protocol: string;
  protocolType: string;
  generationId: number;
  members: { memberId: string; clientId: string; clientHost: string; groupInstanceId: string | null; memberMetadata: { topics: string[] }; memberAssignment: { [topic: string]: number[] } }[];
}

/** The calls loaded on first use (admin-tools.ts). */
type AdminTools = Pick<Admin, 'deleteRecords' | 'describeConfigs' | 'alterConfigs' | 'describeGroups' | 'deleteGroups' | 'setOffsets' | 'resetOffsets'
  | 'fetchTopicOffsetsByTimestamp' | 'describeSegments' | 'runLogCleaner' | 'listGroups' | 'fetchOffsets'>;

/** Creates an admin client on a connection. */
export function createAdmin(conn: Connection, config: AdminConfig = {}): Admin {
  const retry = createRetry(config.retry, {}, 'admin: retry');
  let connected = false;
  const events = new Instrumentation(ADMIN_EVENTS);
  const logger = conn.logger.namespace('Admin');
  let notices: BroadcastChannel | undefined;
  const broker = async () => {
    if (!connected) throw new NotConnectedError('admin is not connected: call admin.connect() first');
    const b = await conn.broker(events, 'admin');
    // Every call is retried on retriable errors (KafkaJS's admin retry).
    // (No `then`: the proxy is resolved as a promise's value and must not look like a thenable.)
    return new Proxy(b, { get: (t, m: keyof BrokerApi | 'then') => m === 'then' ? undefined : (...a: unknown[]) => retry(() => (t[m] as (...x: unknown[]) => Promise<unknown>)(...a)) });
  };
  /** A call whose code (admin-tools.ts) is loaded on its first use. */
  const tool = <K extends keyof AdminTools>(m: K) =>
    (async (...a: unknown[]) => ((await import('./admin-tools.js'))[m] as (b: BrokerApi, ...x: unknown[]) => unknown)(await broker(), ...a)) as Admin[K];
  return {
    events: ADMIN_EVENTS,
    on: (event, listener) => events.on(event, listener),
    logger: () => logger,
    async connect() {
      if (connected) return;
      await conn.acquire();
      connected = true;
      if (typeof BroadcastChannel === 'function') {
        // The broker's notices: a failed timer run of the log cleaner.
        notices = new BroadcastChannel(names.groupChannel(conn.config.database));
        (notices as { unref?: () => void }).unref?.();
        notices.onmessage = (ev: MessageEvent<{ type?: string; error?: ErrorData }>) => {
          if (ev.data?.type !== 'cleaner-error' || !ev.data.error) return;
          const error = errorFromData(ev.data.error);
          logger.error('Log cleaner run failed', { error: error.message, code: error.code });
          events.emit(ADMIN_EVENTS.LOG_CLEANER_ERROR, { error });
        };
      }
      logger.debug('Connected');
      events.emit(ADMIN_EVENTS.CONNECT, {});
    },
    async disconnect() {
      if (!connected) return;
      connected = false;
      notices?.close();
      await conn.release();
      events.emit(ADMIN_EVENTS.DISCONNECT, {});
    },
    async createTopics({ topics, validateOnly = false }) {
      return (await broker()).createTopics(topics, validateOnly);
    },
    async deleteTopics({ topics }) {
      if (!Array.isArray(topics)) throw new InvalidArgumentError('deleteTopics needs topics: string[]');
      await (await broker()).deleteTopics(topics);
    },
    async createPartitions({ topicPartitions, validateOnly = false }) {
      await (await broker()).createPartitions(topicPartitions, validateOnly);
      return true;
    },
    async listTopics() {
      return (await (await broker()).metadata({})).map((t) => t.topic);
    },
    async fetchTopicMetadata(o = {}) {
      const infos = await (await broker()).metadata({ topics: o.topics });
      return {
        topics: infos.map((t) => ({
          name: t.topic,
          partitions: Array.from({ length: t.numPartitions }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 })),
        })),
      };
    },
    async fetchTopicOffsets(topic) {
      const marks = await (await broker()).listOffsets(topic);
      return marks.map((m) => ({ partition: m.partition, offset: String(m.high), high: String(m.high), low: String(m.low), replicated: String(m.replicated ?? 0), lastStable: String(m.lastStable ?? m.high) }));
    },
    deleteTopicRecords: tool('deleteRecords'),
    deleteRecords: tool('deleteRecords'),
    describeConfigs: tool('describeConfigs'),
    alterConfigs: tool('alterConfigs'),
    describeGroups: tool('describeGroups'),
    deleteGroups: tool('deleteGroups'),
    setOffsets: tool('setOffsets'),
    resetOffsets: tool('resetOffsets'),
    fetchTopicOffsetsByTimestamp: tool('fetchTopicOffsetsByTimestamp'),
    describeSegments: tool('describeSegments'),
    runLogCleaner: tool('runLogCleaner'),
    listGroups: tool('listGroups'),
    fetchOffsets: tool('fetchOffsets'),
  };
}
