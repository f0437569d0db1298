/**
 * KafkaJS-style instrumentation events: `consumer.on(consumer.events.FETCH, e => ...)`.
 * Listeners get `{ id, type, timestamp, payload }` and never break the emitter when they throw.
 */
import { InvalidArgumentError } from '../errors.js';

/** An instrumentation event. */
export interface InstrumentationEvent<T = unknown> {
  id: number;
  type: string;
  timestamp: number;
  payload: T;
}

/** Removes the listener it was returned for. */
export type RemoveInstrumentationEventListener = () => void;

/** The request events of a client kind (KafkaJS's `<kind>.network.*`). */
const network = <P extends string>(p: P) => ({
  REQUEST: `${p}.network.request`,
  REQUEST_TIMEOUT: `${p}.network.request_timeout`,
  REQUEST_QUEUE_SIZE: `${p}.network.request_queue_size`,
}) as { REQUEST: `${P}.network.request`; REQUEST_TIMEOUT: `${P}.network.request_timeout`; REQUEST_QUEUE_SIZE: `${P}.network.request_queue_size` };

/** Producer event names, as KafkaJS. */
export const PRODUCER_EVENTS = { CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect', ...network('producer') } as const;

/**
 * Admin event names, as KafkaJS; lanes adds LOG_CLEANER_ERROR (a cleaner run of the broker
 * failed: `{ error }`).
 */
export const ADMIN_EVENTS = { CONNECT: 'admin.connect', DISCONNECT: 'admin.disconnect', LOG_CLEANER_ERROR: 'admin.log_cleaner_error', ...network('admin') } as const;

/**
 * Consumer event names, as KafkaJS; lanes adds COMMIT_OFFSETS_ERROR (a commit failed:
 * `{ groupId, memberId, groupGenerationId, topics, error }`).
 */
export const CONSUMER_EVENTS = {
  ...network('consumer'),
  COMMIT_OFFSETS_ERROR: 'consumer.commit_offsets_error',
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH: 'consumer.fetch',
  FETCH_START: 'consumer.fetch_start',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics',
  /**
   * lanes: a partition this consumer was reading no longer exists (its topic was deleted, or a
   * free consumer was assigned a partition that is not there). The consumer drops it and goes
   * on with the rest. Payload `{ topic, partition, error }`, error a TopicNotFoundError.
   */
  PARTITION_UNAVAILABLE: 'consumer.partition_unavailable',
} as const;

/** A consumer event name. */
export type ConsumerEventName = (typeof CONSUMER_EVENTS)[keyof typeof CONSUMER_EVENTS];

let nextId = 0;

/** A tiny typed emitter. */
export class Instrumentation {
  private listeners = new Map<string, Set<(e: InstrumentationEvent) => void>>();

  /** Which event names `on` accepts (KafkaJS refuses others). */
  constructor(private readonly names: Readonly<Record<string, string>> = {}) {}

  on(type: string, listener: (e: InstrumentationEvent) => void): RemoveInstrumentationEventListener {
    if (!Object.values(this.names).includes(type)) {
      throw new InvalidArgumentError(`event name must be one of ${Object.values(this.names).join(', ')}; got ${JSON.stringify(type)}`);
    }
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  emit(type: string, payload: unknown): void {
    const set = this.listeners.get(type);
    if (!set || set.size === 0) return;
    const e: InstrumentationEvent = { id: nextId++, type, timestamp: Date.now(), payload };
    for (const l of set) {
      try { l(e); } catch { /* a listener's failure is its own */ }
    }
  }
}
