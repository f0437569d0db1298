/**
 * lanes: Kafka-style event streams in the browser. Public API of the tab side.
 * Importing this module has no side effects.
 */
export { createClient, type Client } from './client/client.js';
export type { ClientConfig, BrokerHostKind } from './client/connection.js';
export type { Producer, ProducerConfig, ProducerRecord, ProducerBatch, Transaction, TransactionOffsets } from './client/producer/producer.js';
export type { Consumer, ConsumerConfig, AssignedPartition } from './client/consumer/consumer.js';
export type { RunConfig, EachMessagePayload, EachBatchPayload, Batch } from './client/consumer/runner.js';
export type { Admin, AdminConfig, GroupInfo } from './client/admin/admin.js';
export type { Watch, WatchEvent, WatchOptions } from './client/watch.js';
export { ADMIN_EVENTS, CONSUMER_EVENTS, PRODUCER_EVENTS, type InstrumentationEvent, type RemoveInstrumentationEventListener } from './client/instrumentation.js';
export { logLevel, type LogCreator, type LogEntry, type Logger, type LogLevel } from './client/logger.js';
export { murmur2, partitionForKey, toPositive } from './partitioner/murmur2.js';
export { Partitioners, DefaultPartitioner, RoundRobinPartitioner, type PartitionerFactory } from './partitioner/partitioners.js';
export { assigners, type AssignerRef } from './protocol/assigner-names.js';
export type { Assigner, AssignInput, AssignMember, Assignment } from './group/assigners/index.js';
export * from './errors.js';
// Only the broker side calls it; kept out of errors.ts, which the broker host build shares.
export { errorToData } from './protocol/error-data.js';
export * from './types.js';
export type { TopicConfig, CleanupPolicy } from './protocol/topic-config.js';
export type { CleanerStats, SegmentInfo, SyncStatus, SyncFailureInfo, SyncTopicPending, SyncBlockedPartition } from './protocol/broker-api.js';
export { SYNC_EVENTS, type SyncClient, type SyncOptions, type SyncEventName } from './client/sync/sync-client.js';
