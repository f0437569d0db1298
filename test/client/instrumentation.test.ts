/** The event-name tables are KafkaJS's, key for key, and typed as literals. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ADMIN_EVENTS, CONSUMER_EVENTS, Instrumentation, PRODUCER_EVENTS } from '../../src/client/instrumentation.js';

const network = (p: string) => ({ REQUEST: `${p}.network.request`, REQUEST_TIMEOUT: `${p}.network.request_timeout`, REQUEST_QUEUE_SIZE: `${p}.network.request_queue_size` });

describe('event names', () => {
  it('are KafkaJS\'s (plus lanes\' LOG_CLEANER_ERROR, COMMIT_OFFSETS_ERROR and PARTITION_UNAVAILABLE)', () => {
    expect(PRODUCER_EVENTS).toEqual({ CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect', ...network('producer') });
    expect(ADMIN_EVENTS).toEqual({ CONNECT: 'admin.connect', DISCONNECT: 'admin.disconnect', LOG_CLEANER_ERROR: 'admin.log_cleaner_error', ...network('admin') });
    expect(CONSUMER_EVENTS).toEqual({
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
      PARTITION_UNAVAILABLE: 'consumer.partition_unavailable',
    });
  });

  it('are typed as their literal strings', () => {
    expectTypeOf(CONSUMER_EVENTS.FETCH).toEqualTypeOf<'consumer.fetch'>();
    expectTypeOf(CONSUMER_EVENTS.REQUEST_QUEUE_SIZE).toEqualTypeOf<'consumer.network.request_queue_size'>();
    expectTypeOf(ADMIN_EVENTS.LOG_CLEANER_ERROR).toEqualTypeOf<'admin.log_cleaner_error'>();
    expectTypeOf(PRODUCER_EVENTS).toEqualTypeOf<{
      readonly CONNECT: 'producer.connect'; readonly DISCONNECT: 'producer.disconnect'; readonly REQUEST: 'producer.network.request';
      readonly REQUEST_TIMEOUT: 'producer.network.request_timeout'; readonly REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size';
    }>();
  });

  it('on() refuses a name not in the table, naming the ones it takes', () => {
    const events = new Instrumentation(PRODUCER_EVENTS);
    expect(() => events.on('producer.nope', () => undefined)).toThrow(/producer\.connect.*got "producer\.nope"/);
    const seen: unknown[] = [];
    const off = events.on(PRODUCER_EVENTS.CONNECT, (e) => seen.push(e.payload));
    events.emit(PRODUCER_EVENTS.CONNECT, { n: 1 });
    off();
    events.emit(PRODUCER_EVENTS.CONNECT, { n: 2 });
    expect(seen).toEqual([{ n: 1 }]);
  });
});
