/**
 * The replica store: the one interface the HTTP server and the Kafka listener write and read
 * through. Implementations: SQLite (`stores/sqlite-store.ts`, embedded default) and NATS
 * JetStream (`stores/jetstream-store.ts`, several stateless servers in front of one cluster).
 *
 * Invariants every implementation keeps:
 * - Everything is per tenant: a tenant's topics, offsets, producers and groups are invisible to
 *   every other tenant. Topic names are Kafka's (1-249 of [a-zA-Z0-9._-]).
 * - Offsets of a topic partition are dense, from 0, assigned by the store in append order;
 *   a batch's records get consecutive offsets. `high` is one past the last durably written
 *   record: a read never returns a record at or above the high watermark it reports.
 * - An append is all or nothing per batch, and a batch is applied at most once per dedupe key:
 *   device pushes by (deviceId, producerId, producerEpoch, topic, partition, baseSequence),
 *   Kafka producers by (producerId, producerEpoch, topic, partition, baseSequence). A retried
 *   batch answers `duplicate: true` with its original offsets, however long after.
 * - Within one append call, batches of one partition are applied in the order given.
 * - Stored payloads are in lanes' record-batch payload encoding with offset skips of 0, with a
 *   CRC-32C the store has verified; reads hand them back as they were stored.
 * - Every method may throw StorageError / BrokerUnavailableError (retriable) when the backend
 *   fails; a failed append wrote nothing that a later read or retry could observe twice.
 */
import type { ReplicaBatch } from '../protocol/replica-wire.js';

/** A tenant's topic and its partition count. */
export interface StoreTopic {
  topic: string;
  partitions: number;
}

/** Low and high watermarks of one partition. */
export interface Watermarks {
  partition: number;
  /** First offset held (0 until retention exists on the replica). */
  low: number;
  /** One past the last durably written offset. */
  high: number;
}

/**
 * One batch to append: records already validated and encoded (dense payload, skips 0).
 * `dedupe` is the batch's identity; null appends unconditionally (Kafka producers without
 * idempotence).
 */
export interface AppendBatch {
  topic: string;
  partition: number;
  count: number;
  firstTimestamp: number;
  maxTimestamp: number;
  /** CRC-32C of payload. */
  crc: number;
  payload: Uint8Array;
  dedupe: DedupeKey | null;
}

/**
 * A batch's identity for exactly-once appends (the tenant, topic and partition are added by
 * the store). Devices: source = 'device:' + deviceId (push frames of version 1), or 'device@' +
 * topicGeneration + ':' + deviceId (version 2); Kafka: source = 'kafka'.
 */
export interface DedupeKey {
  source: string;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/** The outcome of one appended batch, in the order given. */
export interface AppendResult {
  topic: string;
  partition: number;
  /** Offset of the batch's first record. */
  baseOffset: number;
  count: number;
  /** True when the dedupe key was applied before; offsets are the original ones. */
  duplicate: boolean;
}

/** Bounds of a read: stops after `maxRecords` records or once `maxBytes` of payload are taken (at least one batch). */
export interface ReadBounds {
  maxRecords: number;
  maxBytes: number;
}

/** The answer to a read: whole stored batches from the one holding `offset`, and watermarks. */
export interface ReadResult {
  low: number;
  high: number;
  /** Batches in offset order; the first may start below the requested offset. */
  batches: ReplicaBatch[];
}

/** One committed group offset (Kafka's OffsetCommit / OffsetFetch). */
export interface GroupOffset {
  topic: string;
  partition: number;
  /** Next offset to consume; -1 when nothing is committed (fetch only). */
  offset: number;
  metadata: string | null;
}

/** The storage behind a replica server. All methods are per tenant. */
export interface ReplicaStore {
  /** 'sqlite' or 'jetstream', for logs and metrics. */
  readonly kind: string;

  /** Topics of a tenant, sorted by name. */
  listTopics(tenant: string): Promise<StoreTopic[]>;
  /** A topic of a tenant, or null. */
  getTopic(tenant: string, topic: string): Promise<StoreTopic | null>;
  /**
   * Creates a topic, or grows it to at least `partitions` partitions (never shrinks).
   * Returns the topic as it is now and whether this call created it.
   */
  ensureTopic(tenant: string, topic: string, partitions: number): Promise<{ topic: StoreTopic; created: boolean }>;

  /** Watermarks of every partition of a topic (TopicNotFoundError when it does not exist). */
  watermarks(tenant: string, topic: string): Promise<Watermarks[]>;

  /**
   * Appends batches (creating topics and partitions as needed), each once per dedupe key.
   * Results come back in the order of `batches`. Durable when the promise resolves.
   */
  append(tenant: string, batches: readonly AppendBatch[]): Promise<AppendResult[]>;

  /**
   * Reads stored batches of a partition from `offset` (the batch holding it first).
   * An offset at the high watermark answers no batches; above it or below low,
   * OffsetOutOfRangeError. TopicNotFoundError for an unknown topic or partition.
   */
  read(tenant: string, topic: string, partition: number, offset: number, bounds: ReadBounds): Promise<ReadResult>;

  /** Allocates a producer id unique within the tenant (Kafka's InitProducerId), starting at 0. */
  allocateProducerId(tenant: string): Promise<number>;
  /**
   * The last sequence number stored for a Kafka producer on a partition (for the listener's
   * OutOfOrderSequence check), or null when it never wrote there.
   */
  lastSequence(tenant: string, source: string, producerId: number, producerEpoch: number, topic: string, partition: number): Promise<number | null>;

  /** Commits group offsets (all or nothing). */
  commitOffsets(tenant: string, groupId: string, offsets: readonly GroupOffset[]): Promise<void>;
  /** Committed offsets of a group; `topics` narrows the answer (null: every committed one). */
  fetchOffsets(tenant: string, groupId: string, topics: readonly string[] | null): Promise<GroupOffset[]>;
  /** Groups of a tenant that have committed offsets. */
  listGroups(tenant: string): Promise<string[]>;

  /** Whether the backend is reachable now (for `/v1/health`); absent means always. */
  health?(): { ok: boolean; detail?: string };

  /** Releases connections and files; in-flight calls finish first. */
  close(): Promise<void>;
}
