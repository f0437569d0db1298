/**
 * Shared by the group and consumer tests: polling with a deadline, fast group timings, clients
 * disconnected after each test, and the usual preamble (a connected admin and producer on a
 * fresh database, and group consumers on clients of their own).
 */
import { afterEach } from 'vitest';
import { createClient, type ClientConfig, type Consumer, type ConsumerConfig } from '../../src/index.js';
import { nodeClient } from '../helpers/node-client.js';

/** Polls `cond` until it holds; fails naming `what` after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Short group timings, so rebalances and evictions happen within a test. */
export const FAST: ConsumerConfig = { heartbeatInterval: 50, sessionTimeout: 1000, rebalanceTimeout: 3000, maxWaitTimeInMs: 100 };

/** A list of clients to disconnect after each test of the file, newest first. */
export function disconnectAfterEach(): { disconnect(): Promise<void> }[] {
  const open: { disconnect(): Promise<void> }[] = [];
  afterEach(async () => { for (const o of open.splice(0).reverse()) await o.disconnect(); });
  return open;
}

/**
 * A connected admin and producer of one client on a fresh database (or the one `over` names),
 * both in `open`; `consumer(c, over)` connects a consumer of group 'g' with {@link FAST} timings
 * (unless `c` says otherwise) on a client of its own on the same database, also in `open`.
 */
export async function groupEnv(open: { disconnect(): Promise<void> }[], over: Partial<ClientConfig> = {}) {
  const { client, config } = nodeClient(over);
  const admin = client.admin();
  await admin.connect();
  open.push(admin);
  const producer = client.producer();
  await producer.connect();
  open.push(producer);
  let n = 0;
  return {
    client, config, admin, producer,
    /** A connected group consumer on its own client (same broker); disconnected after the test. */
    async consumer(c: ConsumerConfig = {}, clientOver: Partial<ClientConfig> = {}): Promise<Consumer> {
      const consumer = createClient({ ...config, clientId: `c${n++}`, ...clientOver }).consumer({ groupId: 'g', ...FAST, ...c });
      await consumer.connect();
      open.push(consumer);
      return consumer;
    },
  };
}
