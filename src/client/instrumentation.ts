/**
 * KafkaJS-style instrumentation events: `consumer.on(consumer.events.FETCH, e => ...)`.
 * Listeners get `{ id, type, timestamp, payload }` and never break the emitter when they throw.
 */

/** An instrumentation event. */
export interface InstrumentationEvent<T = unknown> {
  id: number;
  type: string;
  timestamp: number;
  payload: T;
}

/** Removes the listener it was returned for. */
export type RemoveInstrumentationEventListener = () => void;

/** Consumer event names, as KafkaJS. */
export const CONSUMER_EVENTS = {
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
} as const;

/** A consumer event name. */
export type ConsumerEventName = (typeof CONSUMER_EVENTS)[keyof typeof CONSUMER_EVENTS];

let nextId = 0;

/** A tiny typed emitter. */
export class Instrumentation {
  private listeners = new Map<string, Set<(e: InstrumentationEvent) => void>>();

  on(type: string, listener: (e: InstrumentationEvent) => void): RemoveInstrumentationEventListener {
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
