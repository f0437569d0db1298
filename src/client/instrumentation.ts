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

/**
 * A kind's event names as KafkaJS spells them, from their suffixes: `eventsOf('admin', 'connect')`
 * is `{ CONNECT: 'admin.connect' }`, each key the suffix in upper case without `network.`. Every
 * kind has the request events (KafkaJS's `<kind>.network.*`).
 */
function eventsOf<P extends string, N extends string>(prefix: P, names: string): EventNames<P, N | NetworkEvent> {
  return Object.fromEntries(`${names} network.request network.request_timeout network.request_queue_size`.split(' ')
    .map((n) => [n.replace('network.', '').toUpperCase(), `${prefix}.${n}`])) as EventNames<P, N | NetworkEvent>;
}

type NetworkEvent = 'network.request' | 'network.request_timeout' | 'network.request_queue_size';

/** `{ CONNECT: 'admin.connect', REQUEST: 'admin.network.request', ... }` as a type. */
export type EventNames<P extends string, N extends string> = {
  readonly [K in N as Uppercase<K extends `network.${infer R}` ? R : K>]: `${P}.${K}`;
};

/** Producer event names, as KafkaJS: CONNECT, DISCONNECT, REQUEST, REQUEST_TIMEOUT, REQUEST_QUEUE_SIZE. */
export const PRODUCER_EVENTS = eventsOf<'producer', 'connect' | 'disconnect'>('producer', 'connect disconnect');

/**
 * Admin event names, as KafkaJS (CONNECT, DISCONNECT and the request events); lanes adds
 * LOG_CLEANER_ERROR (a cleaner run of the broker failed: `{ error }`).
 */
export const ADMIN_EVENTS = eventsOf<'admin', 'connect' | 'disconnect' | 'log_cleaner_error'>('admin', 'connect disconnect log_cleaner_error');

/**
 * Consumer event names, as KafkaJS: HEARTBEAT, COMMIT_OFFSETS, GROUP_JOIN, FETCH, FETCH_START,
 * START_BATCH_PROCESS, END_BATCH_PROCESS, CONNECT, DISCONNECT, STOP, CRASH, REBALANCING,
 * RECEIVED_UNSUBSCRIBED_TOPICS and the request events. lanes adds COMMIT_OFFSETS_ERROR (a
 * commit failed: `{ groupId, memberId, groupGenerationId, topics, error }`) and
 * PARTITION_UNAVAILABLE: a partition this consumer was reading no longer exists (its topic was
 * deleted, or a free consumer was assigned a partition that is not there); the consumer drops it
 * and goes on with the rest. Payload `{ topic, partition, error }`, error a TopicNotFoundError.
 */
export const CONSUMER_EVENTS = eventsOf<'consumer',
  | 'commit_offsets_error' | 'heartbeat' | 'commit_offsets' | 'group_join' | 'fetch' | 'fetch_start' | 'start_batch_process'
  | 'end_batch_process' | 'connect' | 'disconnect' | 'stop' | 'crash' | 'rebalancing' | 'received_unsubscribed_topics' | 'partition_unavailable'
>('consumer', 'commit_offsets_error heartbeat commit_offsets group_join fetch fetch_start start_batch_process end_batch_process connect disconnect stop crash rebalancing received_unsubscribed_topics partition_unavailable');

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
