/**
 * The consumer (KafkaJS shape). With a groupId it is a member of a consumer group: the broker's
 * coordinator assigns it partitions, balanced among the group's live tabs, and it commits its
 * offsets. Without a groupId it is a free consumer (Kafka's assign()): it reads the partitions
 * it is given, from the offsets it is given, and commits nothing.
 *
 * A consumer that crashes (its handler kept failing, or its group refused it) stops and
 * leaves its group, as KafkaJS disconnects on a crash, so its partitions move to the other
 * members; then, as KafkaJS, it restarts after a backoff when the error was retriable (a
 * handler that ran out of retries counts as one) and `retry.restartOnFailure(error)` does not
 * say no. CRASH carries `{ error, groupId, restart }`. A run() that fails to join (no
 * subscription, no common assignor) stops what it started.
 *
 * Invariants:
 * - A restart is scheduled only if nobody called run(), stop() or disconnect() since the
 *   crash; stop() and disconnect() cancel a scheduled restart.
 * - `seek` and `pause` of a group consumer's partition not assigned yet (KafkaJS's
 *   `consumer.run(); consumer.seek(...)`) apply once the partition is assigned.
 */
import { formatValue, InvalidArgumentError, NotConnectedError } from '../../errors.js';
import type { AssignerRef } from '../../protocol/assigner-names.js';
import type { GroupDescription } from '../../protocol/broker-api.js';
import type { TopicPartition, TopicPartitionOffset, TopicSchema, UntypedTopics } from '../../types.js';
import type { Connection } from '../connection.js';
import { CONSUMER_EVENTS, Instrumentation, type InstrumentationEvent, type RemoveInstrumentationEventListener } from '../instrumentation.js';
import { parseOffset } from '../offsets.js';
import { randomId } from '../../protocol/ids.js';
import { createMembership, type Membership } from './membership.js';
import { Positions, type ResetPolicy } from './positions.js';
import { Runner, type FetchConfig, type RunConfig } from './runner.js';
import type { Logger } from '../logger.js';
import { retryConfig, type RetryOptions } from '../retry.js';

/** Options of consumer(). */
export interface ConsumerConfig {
  /** The consumer group; omit for a free consumer that uses assign(). */
  groupId?: string;
  /** Evict this member when no heartbeat arrives for this long (ms). Default 30000. */
  sessionTimeout?: number;
  /** Longest a rebalance waits for members to rejoin (ms). Default 60000. */
  rebalanceTimeout?: number;
  /** Heartbeat period (ms). Default 3000. */
  heartbeatInterval?: number;
  /**
   * Assignors in preference order: `assigners.cooperativeSticky` (default), `assigners.range`,
   * `assigners.roundRobin`, or their names. They run in the broker, so custom code cannot be passed.
   */
  partitionAssigners?: readonly (AssignerRef | string)[];
  /** Static membership: a stable id for this member (kept across reloads), or true for one kept in sessionStorage. */
  groupInstanceId?: string | true;
  /**
   * Kafka's isolation level. false (default, read_committed): records up to the last stable
   * offset, none of an aborted transaction. true (read_uncommitted): everything up to the high
   * watermark, open and aborted transactions' records included. Markers are never delivered.
   */
  readUncommitted?: boolean;
  /**
   * Create subscribed topics that do not exist. Default true. A topic deleted less than
   * `metadataMaxAge` ago is not re-created: the consumer goes on without it and picks it up
   * when it is created again.
   */
  allowAutoTopicCreation?: boolean;
  /** KafkaJS's metadataMaxAge (ms): the window in which a deleted topic is not auto-created. Default 300000. */
  metadataMaxAge?: number;
  /** Longest a fetch waits at the log end before answering empty. Default 5000. */
  maxWaitTimeInMs?: number;
  /** Bytes per fetch across partitions. Default 10 MiB. */
  maxBytes?: number;
  /** Bytes per partition per fetch. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Most records handed over per partition per fetch (Kafka's max.poll.records). Default: no limit. */
  maxRecordsPerPartition?: number;
  /**
   * Handler retries before the consumer crashes, and whether it then restarts (KafkaJS's
   * retry options; `restartOnFailure` defaults to restarting on retriable errors).
   */
  retry?: RetryOptions;
  /** Where a free consumer's partition without a position starts. Default 'latest'. */
  autoOffsetReset?: 'earliest' | 'latest';
  /** 'replicated': read only records the sync replica holds (below `replicated` of fetchTopicOffsets). Default: everything in the log. */
  isolation?: 'replicated';
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
  /** Free consumer: read exactly these partitions (replaces any earlier assignment and its pauses). */
  assign(partitions: AssignedPartition[]): void;
  /** The partitions this consumer reads now. */
  assignment(): TopicPartition[];
  subscribe(subscription: { topics: (string | RegExp)[]; fromBeginning?: boolean } | { topic: string | RegExp; fromBeginning?: boolean }): Promise<void>;
  run(config: RunConfig): Promise<void>;
  stop(): Promise<void>;
  /** Commits offsets (next offset to consume, as KafkaJS) for this group, each with optional `metadata`. */
  commitOffsets(offsets: (TopicPartitionOffset & { metadata?: string | null })[]): Promise<void>;
  /** Moves an assigned partition's position; offset '-2' is the earliest offset, '-1' the latest (KafkaJS). */
  seek(tpo: { topic: string; partition: number; offset: string }): void;
  pause(topics: { topic: string; partitions?: number[] }[]): void;
  resume(topics: { topic: string; partitions?: number[] }[]): void;
  paused(): { topic: string; partitions: number[] }[];
  describeGroup(): Promise<GroupDescription>;
  on(event: string, listener: (e: InstrumentationEvent) => void): RemoveInstrumentationEventListener;
  readonly events: typeof CONSUMER_EVENTS;
  /** The consumer's logger (namespace 'Consumer'). */
  logger(): Logger;
  /** This member's id in its group ('' for a free consumer). */
  readonly memberId: string;
  /** Phantom type carrier for the topic schema. */
  readonly __schema?: S;
}

function instanceId(database: string, groupId: string, v: string | true | undefined): string | null {
  if (v === undefined) return null;
  if (typeof v === 'string') return v;
  const key = `lanes:${database}:${groupId}:groupInstanceId`;
  const store = (globalThis as { sessionStorage?: Storage }).sessionStorage;
  let id = store?.getItem(key) ?? null;
  if (!id) {
    id = randomId();
    store?.setItem(key, id);
  }
  return id;
}

/** Creates a consumer on a connection. */
export function createConsumer<S extends TopicSchema>(conn: Connection, config: ConsumerConfig = {}): Consumer<S> {
  const events = new Instrumentation(CONSUMER_EVENTS);
  const logger = conn.logger.namespace('Consumer');
  const broker = () => conn.broker(events, 'consumer');
  // Log lines as KafkaJS writes them, fed by the consumer's own events.
  const E = CONSUMER_EVENTS;
  events.on(E.GROUP_JOIN, (e) => logger.info('Consumer has joined the group', e.payload as object));
  events.on(E.REBALANCING, (e) => logger.info('The group is rebalancing, re-joining', e.payload as object));
  events.on(E.CRASH, (e) => { const p = e.payload as { error: Error; restart?: boolean }; logger.error(`Crash: ${p.error?.name}: ${p.error?.message}`, { ...p, error: p.error?.message }); });
  events.on(E.COMMIT_OFFSETS_ERROR, (e) => { const p = e.payload as { error: Error }; logger.error(`Failed to commit offsets: ${p.error?.message}`, { ...p, error: p.error?.message }); });
  events.on(E.STOP, () => logger.info('Stopped'));
  const positions = new Positions();
  const fetchConfig: FetchConfig = {
    maxWaitTimeInMs: config.maxWaitTimeInMs ?? 5000,
    maxBytes: config.maxBytes ?? 10 * 1024 * 1024,
    maxBytesPerPartition: config.maxBytesPerPartition ?? 1024 * 1024,
    maxRecordsPerPartition: config.maxRecordsPerPartition ?? Infinity,
    retry: retryConfig(config.retry, 'consumer: retry'),
    logger,
    resetPolicy: config.autoOffsetReset ?? 'latest',
    isolation: config.isolation,
    readUncommitted: config.readUncommitted === true,
  };
  if (config.readUncommitted !== undefined && typeof config.readUncommitted !== 'boolean') throw new InvalidArgumentError(`consumer: readUncommitted must be a boolean; got ${JSON.stringify(config.readUncommitted)}`, { details: { field: 'readUncommitted' } });
  if (config.isolation !== undefined && config.isolation !== 'replicated') throw new InvalidArgumentError(`consumer: isolation must be 'replicated' or omitted; got ${JSON.stringify(config.isolation)}`, { details: { field: 'isolation' } });
  if (!(fetchConfig.maxRecordsPerPartition >= 1)) throw new InvalidArgumentError(`consumer: maxRecordsPerPartition must be >= 1; got ${String(config.maxRecordsPerPartition)}`);
  let membership: Membership | undefined;
  if (config.groupId !== undefined) {
    if (typeof config.groupId !== 'string' || config.groupId === '') throw new InvalidArgumentError('consumer: groupId must be a non-empty string');
    const protocols = (config.partitionAssigners ?? ['cooperative-sticky']).map((a) => (typeof a === 'string' ? a : a?.name));
    if (protocols.length === 0 || protocols.some((p) => typeof p !== 'string')) throw new InvalidArgumentError('consumer: partitionAssigners must be assigners or assigner names');
    const sessionTimeout = config.sessionTimeout ?? 30_000;
    const heartbeatInterval = config.heartbeatInterval ?? 3000;
    // A timer beyond 2^31-1 ms fires at once; NaN at once too: either would spin the group timers.
    for (const [field, v] of [['sessionTimeout', sessionTimeout], ['heartbeatInterval', heartbeatInterval], ['rebalanceTimeout', config.rebalanceTimeout ?? 60_000]] as const) if (!(v > 0 && v <= 0x7fffffff)) throw new InvalidArgumentError(`consumer: ${field} must be a number of ms from 1 to 2147483647; got ${String(v)}`, { details: { field } });
    if (heartbeatInterval >= sessionTimeout) throw new InvalidArgumentError(`consumer: heartbeatInterval (${heartbeatInterval}) must be below sessionTimeout (${sessionTimeout})`);
    membership = createMembership(conn, {
      join: {
        groupId: config.groupId,
        clientId: conn.config.clientId ?? 'lanes',
        sessionTimeout,
        rebalanceTimeout: config.rebalanceTimeout ?? 60_000,
        protocols,
        groupInstanceId: instanceId(conn.config.database, config.groupId, config.groupInstanceId),
        allowAutoTopicCreation: config.allowAutoTopicCreation ?? true,
        numPartitions: conn.config.defaultNumPartitions,
        metadataMaxAge: config.metadataMaxAge ?? 300_000,
      },
      heartbeatInterval,
      retry: fetchConfig.retry,
    }, positions, events, (e) => { void crash(e); });
  }
  // While not in a generation (joining, rejoining) this answers generation -1: a transaction's
  // offsets are then refused rather than committed unchecked.
  const memberOf = () => (membership ? { memberId: membership.memberId, generationId: membership.generationId } : undefined);
  let connected = false;
  let runner: Runner | undefined;
  /** The run() in force (kept for restarts), and a counter of user run/stop calls. */
  let running: RunConfig | undefined;
  let runs = 0;
  let restartTimer: ReturnType<typeof setTimeout> | undefined;
  const restartOnFailure = config.retry?.restartOnFailure;

  const selectPartitions = (topics: { topic: string; partitions?: number[] }[], paused: boolean) => {
    const what = paused ? 'pause' : 'resume';
    if (!Array.isArray(topics)) throw new InvalidArgumentError(`${what} takes an array of { topic, partitions? }`);
    topics.forEach((t, i) => {
      if (!t || typeof t.topic !== 'string' || t.topic === '') throw new InvalidArgumentError(`${what}[${i}].topic must be a topic name`, { details: { index: i } });
      if (t.partitions !== undefined && (!Array.isArray(t.partitions) || t.partitions.some((p) => !Number.isInteger(p) || p < 0))) {
        throw new InvalidArgumentError(`${what}[${i}].partitions must be an array of non-negative integers`, { details: { index: i } });
      }
    });
    for (const t of topics) positions.pause(t.topic, t.partitions, paused);
  };

  const stop = async () => {
    clearTimeout(restartTimer);
    restartTimer = undefined;
    const r = runner;
    runner = undefined;
    if (r) {
      const stopping = r.stop();
      membership?.runnerStopped();
      await stopping;
    }
    await membership?.leave();
    positions.clearPending();
  };

  /** The runner or the group gave up: stop, tell (CRASH), and restart after a backoff when allowed. */
  const crash = async (error: unknown) => {
    const run = runs;
    await stop().catch(() => undefined);
    // The restart rule is loaded on first use (./failure.ts); if it cannot load, no restart.
    const f = await import('./failure.js').catch(() => undefined);
    const restart = !!f && connected && run === runs && (await f.shouldRestart(error, restartOnFailure));
    events.emit(CONSUMER_EVENTS.CRASH, { error, groupId: config.groupId, restart });
    if (!restart || run !== runs || !running) return;
    const retryTime = f!.restartDelay(error, fetchConfig);
    const again = running;
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (run !== runs || !connected) return;
      start(again).catch((e: unknown) => crash(e));
    }, retryTime);
  };
  /** Starts the runner (and joins the group); resolves with the first assignment. */
  const start = async (runConfig: RunConfig) => {
    const r = (runner = new Runner(broker, positions, fetchConfig, runConfig, events, (e) => { void crash(e); }, membership));
    r.start();
    try {
      await membership?.start({
        enabled: runConfig.autoCommit ?? true,
        interval: runConfig.autoCommitInterval === undefined ? 5000 : runConfig.autoCommitInterval,
        threshold: runConfig.autoCommitThreshold ?? null,
      }, r);
    } catch (e) {
      if (runner === r) await stop(); // a refused join leaves nothing running: run() may be called again
      throw e;
    }
  };

  return {
    events: CONSUMER_EVENTS,
    get memberId() { return membership?.memberId ?? ''; },
    logger: () => logger,
    async connect() {
      if (connected) return;
      await conn.acquire();
      connected = true;
      if (config.groupId !== undefined) {
        let set = conn.groupMembers.get(config.groupId);
        if (!set) conn.groupMembers.set(config.groupId, (set = new Set()));
        set.add(memberOf);
      }
      logger.debug('Connected', { groupId: config.groupId });
      events.emit(CONSUMER_EVENTS.CONNECT, {});
    },
    async disconnect() {
      runs++;
      running = undefined;
      await stop();
      if (!connected) return;
      events.emit(CONSUMER_EVENTS.STOP, {});
      connected = false;
      if (config.groupId !== undefined) conn.groupMembers.get(config.groupId)?.delete(memberOf);
      await conn.release();
      events.emit(CONSUMER_EVENTS.DISCONNECT, {});
    },
    assign(partitions) {
      if (membership) throw new InvalidArgumentError('assign() is for free consumers; a group consumer gets its partitions from the group (subscribe)');
      if (!Array.isArray(partitions)) throw new InvalidArgumentError('assign takes an array of { topic, partition, offset? }');
      const list = partitions.map((p, i) => {
        if (!p || typeof p.topic !== 'string' || !Number.isInteger(p.partition) || p.partition < 0) {
          throw new InvalidArgumentError(`assign[${i}] needs a topic name and a non-negative integer partition; got topic ${formatValue(p?.topic)}, partition ${formatValue(p?.partition)}`, { details: { index: i, topic: p?.topic, partition: p?.partition } });
        }
        const o = p.offset ?? fetchConfig.resetPolicy;
        const position = o === 'earliest' || o === 'latest' ? null : parseOffset(o, `assign[${i}].offset`);
        const reset: ResetPolicy | undefined = o === 'earliest' || o === 'latest' ? o : undefined;
        return { topic: p.topic, partition: p.partition, position, reset };
      });
      // assign() replaces: the partitions given start afresh, at the offsets given and unpaused.
      positions.set([]);
      positions.clearPauses();
      positions.set(list);
    },
    assignment() {
      return positions.all().map((c) => ({ topic: c.topic, partition: c.partition }));
    },
    async subscribe(sub) {
      if (!membership) throw new InvalidArgumentError('subscribe needs a groupId; a free consumer uses assign()');
      const s = sub as { topics?: (string | RegExp)[]; topic?: string | RegExp; fromBeginning?: boolean };
      const topics = s.topics ?? (s.topic !== undefined ? [s.topic] : undefined);
      if (!Array.isArray(topics) || topics.length === 0) throw new InvalidArgumentError('subscribe needs topics: (string | RegExp)[]');
      if (runner || restartTimer !== undefined) {
        throw new InvalidArgumentError('subscribe: the consumer is running; subscribe before run(), or stop() first (as KafkaJS)');
      }
      membership.subscribe(topics, s.fromBeginning ?? false);
    },
    async run(runConfig) {
      if (!connected) throw new NotConnectedError('consumer is not connected: call consumer.connect() first');
      if (!runConfig || (typeof runConfig.eachMessage !== 'function' && typeof runConfig.eachBatch !== 'function')) {
        throw new InvalidArgumentError('run needs eachMessage or eachBatch');
      }
      // An interval beyond 2^31-1 ms fires every millisecond (browsers and Node).
      const aci = runConfig.autoCommitInterval;
      if (aci !== undefined && aci !== null && !(aci >= 0 && aci <= 0x7fffffff)) throw new InvalidArgumentError(`run: autoCommitInterval must be null or a number of ms from 0 to 2147483647; got ${String(aci)}`, { details: { field: 'autoCommitInterval' } });
      if (runner?.running) throw new InvalidArgumentError('consumer is already running');
      runs++;
      clearTimeout(restartTimer);
      running = runConfig;
      await start(runConfig);
    },
    async stop() {
      runs++;
      running = undefined;
      await stop();
      events.emit(CONSUMER_EVENTS.STOP, {});
    },
    async commitOffsets(offsets) {
      if (!membership) throw new InvalidArgumentError('commitOffsets needs a groupId');
      if (!connected) throw new NotConnectedError('commitOffsets: the consumer is not connected (call connect() first; it was disconnected)');
      if (!membership.running) throw new NotConnectedError('commitOffsets: the consumer is not running in its group; call run() first');
      if (!Array.isArray(offsets)) throw new InvalidArgumentError('commitOffsets takes [{ topic, partition, offset, metadata? }]');
      await membership.commit(offsets);
    },
    seek({ topic, partition, offset }) {
      const special = offset === '-1' || offset === '-2';
      const position = special ? null : parseOffset(offset, 'seek.offset');
      if (typeof topic !== 'string' || topic === '') throw new InvalidArgumentError('seek.topic must be a topic name', { details: { field: 'topic' } });
      if (!Number.isInteger(partition) || partition < 0) throw new InvalidArgumentError(`seek.partition must be a non-negative integer; got ${String(partition)}`, { details: { field: 'partition' } });
      const reset = special ? (offset === '-2' ? 'earliest' as const : 'latest' as const) : undefined;
      // A group consumer that runs may seek a partition it does not have yet: applied on assignment.
      const later = !!membership && !!runner && membership.subscribes(topic);
      if (!positions.seek(topic, partition, position, reset, later)) {
        throw new InvalidArgumentError(membership
          ? `seek: ${topic}-${partition} is not assigned to this consumer, and ${runner ? 'its topic is not subscribed' : 'the consumer is not running (call run() first)'}`
          : `seek: ${topic}-${partition} is not assigned to this consumer`, { details: { topic, partition } });
      }
    },
    pause(topics) { selectPartitions(topics, true); },
    resume(topics) { selectPartitions(topics, false); },
    paused() {
      return positions.paused();
    },
    async describeGroup() {
      if (!membership) throw new InvalidArgumentError('describeGroup needs a groupId');
      const [d] = await (await conn.broker()).describeGroups([config.groupId!]);
      return d!;
    },
    on(event, listener) {
      return events.on(event, listener);
    },
  };
}
