/**
 * When a group consumer commits and heartbeats, through the public API on an in-page broker:
 * autoCommitInterval commits an idle stream, autoCommitThreshold counts records (also with
 * eachBatch), heartbeat() from a handler is throttled to heartbeatInterval, and calls that need
 * a running member are refused with typed errors.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotConnectedError } from '../../src/index.js';
import { disconnectAfterEach, groupEnv, waitFor } from './helpers.js';

const open = disconnectAfterEach();

async function connect() {
  const e = await groupEnv(open);
  const { admin } = e;
  return {
    ...e,
    async committed(topic = 't', partition = 0) {
      const [t] = await admin.fetchOffsets({ groupId: 'g', topics: [topic] });
      return t!.partitions.find((p) => p.partition === partition)!.offset;
    },
  };
}

describe('autoCommitInterval', () => {
  it('commits on the interval when the stream goes idle: 100 records processed, then offset 100 committed without more records', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    const c = await e.consumer();
    let processed = 0;
    await c.subscribe({ topics: ['t'], fromBeginning: true });
    await c.run({ autoCommitInterval: 200, eachMessage: async () => { processed++; } });
    await e.producer.send({ topic: 't', messages: Array.from({ length: 100 }, (_, i) => ({ value: String(i) })) });
    await waitFor(() => processed === 100, '100 records processed');
    await waitFor(async () => (await e.committed()) === '100', 'the idle commit');
    expect(processed).toBe(100);
  });

  it('commits what was processed on stop', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    const c = await e.consumer();
    let processed = 0;
    await c.subscribe({ topics: ['t'], fromBeginning: true });
    await c.run({ autoCommitInterval: 60_000, eachMessage: async () => { processed++; } });
    await e.producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await waitFor(() => processed === 3, 'three records processed');
    await c.stop();
    expect(await e.committed()).toBe('3');
  });
});

describe('autoCommitThreshold', () => {
  it('counts records, also when eachBatch hands several at once', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    await e.producer.send({ topic: 't', messages: Array.from({ length: 5 }, (_, i) => ({ value: String(i) })) });
    const c = await e.consumer();
    const commits: unknown[] = [];
    c.on(c.events.COMMIT_OFFSETS, (ev) => commits.push(ev.payload));
    await c.subscribe({ topics: ['t'], fromBeginning: true });
    let batches = 0;
    await c.run({ autoCommitInterval: null, autoCommitThreshold: 5, eachBatch: async () => { batches++; } });
    await waitFor(() => commits.length === 1, 'the commit after five records');
    expect(batches).toBe(1); // one batch of five records reached the threshold
    expect(await e.committed()).toBe('5');
  });
});

describe('heartbeat() from a handler', () => {
  it('is throttled to heartbeatInterval: one broker call per interval however often it is called', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    const c = await e.consumer({ heartbeatInterval: 10_000, sessionTimeout: 30_000 });
    let heartbeats = 0;
    c.on(c.events.HEARTBEAT, () => { heartbeats++; });
    let processed = 0;
    await c.subscribe({ topics: ['t'], fromBeginning: true });
    await c.run({ eachMessage: async ({ heartbeat }) => { await heartbeat(); processed++; } });
    await e.producer.send({ topic: 't', messages: Array.from({ length: 50 }, (_, i) => ({ value: String(i) })) });
    await waitFor(() => processed === 50, '50 records processed');
    expect(heartbeats).toBeLessThanOrEqual(1);
  });
});

describe('calls that need a running member', () => {
  it('commitOffsets after disconnect() says NotConnected', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    const c = await e.consumer();
    await c.subscribe({ topics: ['t'] });
    await c.run({ eachMessage: async () => undefined });
    await c.commitOffsets([{ topic: 't', partition: 0, offset: '0' }]);
    await c.disconnect();
    await expect(c.commitOffsets([{ topic: 't', partition: 0, offset: '1' }])).rejects.toBeInstanceOf(NotConnectedError);
    const stopped = await e.consumer();
    await expect(stopped.commitOffsets([{ topic: 't', partition: 0, offset: '1' }])).rejects.toBeInstanceOf(NotConnectedError);
  });

  it('subscribe after run is refused; after stop it is accepted again', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }, { topic: 'u' }] });
    const c = await e.consumer();
    await c.subscribe({ topics: ['t'] });
    await c.run({ eachMessage: async () => undefined });
    const err = await c.subscribe({ topics: ['u'] }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(String((err as Error).message)).toMatch(/running/);
    expect(c.assignment()).toEqual([{ topic: 't', partition: 0 }]);
    await c.stop();
    await c.subscribe({ topics: ['u'] });
    await c.run({ eachMessage: async () => undefined });
    expect(c.assignment().map((a) => a.topic).sort()).toEqual(['t', 'u']);
  });
});
