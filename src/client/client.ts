/**
 * createClient: the entry point, KafkaJS's `new Kafka(config)` as a factory. Producers,
 * consumers and admins of one client share one broker connection.
 */
import type { TopicSchema, UntypedTopics } from '../types.js';
import { createAdmin, type Admin, type AdminConfig } from './admin/admin.js';
import { Connection, type ClientConfig } from './connection.js';
import { createConsumer, type Consumer, type ConsumerConfig } from './consumer/consumer.js';
import { createProducer, type Producer, type ProducerConfig } from './producer/producer.js';
import { createWatch, type Watch, type WatchOptions } from './watch.js';
import type { Logger } from './logger.js';
import { retryConfig, type RetryOptions } from './retry.js';
import { createSyncClient, type SyncClient } from './sync/sync-client.js';

/** A lanes client, typed by an optional topic schema. */
export interface Client<S extends TopicSchema = UntypedTopics> {
  producer(config?: ProducerConfig): Producer<S>;
  consumer(config?: ConsumerConfig): Consumer<S>;
  admin(config?: AdminConfig): Admin;
  /**
   * Live changes of topics' watermarks and of groups (rebalances, commits), pushed by the
   * broker: `for await (const e of client.watch({ topics, groups })) ...`; `close()` ends it.
   */
  watch(options?: WatchOptions): Watch;
  /** The client's root logger (KafkaJS's `kafka.logger()`). */
  logger(): Logger;
  /** Sync to the replica: status, events, mirror, tokens (active when createClient got `sync`). */
  readonly sync: SyncClient;
}

/**
 * Creates a client.
 *
 * @example
 * const lanes = createClient({ clientId: 'app', database: 'events', broker: 'in-page' });
 * const producer = lanes.producer();
 * await producer.connect();
 * await producer.send({ topic: 'clicks', messages: [{ key: 'user-1', value: { x: 1 } }] });
 */
export function createClient<S extends TopicSchema = UntypedTopics>(config: ClientConfig): Client<S> {
  const conn = new Connection(config);
  if (config.retry !== undefined) retryConfig(config.retry, 'createClient: retry');
  // KafkaJS's client-wide `retry` is each member's default, field by field.
  const retry = <C extends { retry?: RetryOptions }>(c: C | undefined): C | undefined =>
    config.retry ? { ...c, retry: { ...config.retry, ...c?.retry } } as C : c;
  return {
    producer: (c) => createProducer<S>(conn, retry(c)),
    consumer: (c) => createConsumer<S>(conn, retry(c)),
    admin: (c) => createAdmin(conn, retry(c)),
    watch: (o) => createWatch(conn, o),
    logger: () => conn.logger,
    sync: createSyncClient(conn, config.sync),
  };
}
