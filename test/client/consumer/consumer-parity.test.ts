/**
 * KafkaJS parity of the consumer: event names and payload fields (FETCH duration, batch lags,
 * GROUP_JOIN isLeader, COMMIT_OFFSETS shape, STOP on disconnect), failed commits as events and
 * log lines, commit metadata read back by admin.fetchOffsets, commitOffsetsIfNecessary(offsets).
 */
import { describe, expect, it } from 'vitest';
import { logLevel, TopicNotFoundError, type Consumer, type InstrumentationEvent, type LogEntry } from '../../../src/index.js';
import { disconnectAfterEach, groupEnv, waitFor } from '../../group/helpers.js';

const open = disconnectAfterEach();

async function connect() {
  const entries: LogEntry[] = [];
  const e = await groupEnv(open, { logLevel: logLevel.INFO, logCreator: () => (entry) => entries.push(entry) });
  return { ...e, entries };
}

function collect(consumer: Consumer) {
  const got: InstrumentationEvent[] = [];
  for (const t of Object.values(consumer.events)) consumer.on(t, (e) => got.push(e));
  return { got, of: (t: string) => got.filter((e) => e.type === t).map((e) => e.payload as Record<string, unknown>) };
}

describe('consumer events (KafkaJS payloads)', () => {
  it('FETCH has duration; START/END_BATCH_PROCESS carry offsetLag and offsetLagLow; GROUP_JOIN says who leads', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    await e.producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await e.producer.send({ topic: 't', messages: [{ value: 'd' }, { value: 'e' }] });
    const c = await e.consumer();
    const ev = collect(c);
    const seen: string[] = [];
    await c.subscribe({ topics: ['t'], fromBeginning: true });
    await c.run({ eachMessage: async ({ message }) => { seen.push(message.offset); } });
    await waitFor(() => ev.of(c.events.END_BATCH_PROCESS).length === 2, 'two batches processed');
    const [join] = ev.of(c.events.GROUP_JOIN);
    expect(join).toMatchObject({ groupId: 'g', memberId: c.memberId, leaderId: c.memberId, isLeader: true, groupProtocol: 'cooperative-sticky', memberAssignment: { t: [0] } });
    expect(typeof join!.duration).toBe('number');
    const fetches = ev.of(c.events.FETCH);
    expect(fetches[0]).toMatchObject({ numberOfBatches: 2 });
    expect(typeof fetches[0]!.duration).toBe('number');
    // High watermark 5: the first stored batch holds 0-2, the second 3-4.
    expect(ev.of(c.events.START_BATCH_PROCESS)).toEqual([
      { topic: 't', partition: 0, highWatermark: '5', offsetLag: '2', offsetLagLow: '4', batchSize: 3, firstOffset: '0', lastOffset: '2' },
      { topic: 't', partition: 0, highWatermark: '5', offsetLag: '0', offsetLagLow: '1', batchSize: 2, firstOffset: '3', lastOffset: '4' },
    ]);
    const ends = ev.of(c.events.END_BATCH_PROCESS);
    expect(ends.map(({ duration, ...rest }) => { expect(typeof duration).toBe('number'); return rest; })).toEqual(ev.of(c.events.START_BATCH_PROCESS));
    // A second member is not the leader; the first stays leader.
    const c2 = await e.consumer();
    const ev2 = collect(c2);
    await c2.subscribe({ topics: ['t'] });
    await c2.run({ eachMessage: async () => undefined });
    await waitFor(() => ev2.of(c2.events.GROUP_JOIN).length > 0, 'the second member joined');
    expect(ev2.of(c2.events.GROUP_JOIN)[0]).toMatchObject({ isLeader: false, leaderId: c.memberId });
    // Every broker call of the member is a REQUEST event, the group's included.
    const apis = new Set(ev.of(c.events.REQUEST).map((r) => r.apiName));
    for (const api of ['groupHeartbeat', 'fetch']) expect(apis).toContain(api);
    // Log lines of the join and the rebalance it caused.
    const messages = e.entries.filter((x) => x.namespace === 'Consumer').map((x) => x.log.message);
    expect(messages).toContain('Consumer has joined the group');
    expect(messages).toContain('The group is rebalancing, re-joining');
  });

  it('COMMIT_OFFSETS groups offsets by topic (strings); commit metadata is kept and read back by admin.fetchOffsets', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 'm', numPartitions: 2 }] });
    const c = await e.consumer();
    const ev = collect(c);
    await c.subscribe({ topics: ['m'] });
    await c.run({ autoCommit: false, eachMessage: async () => undefined });
    await c.commitOffsets([{ topic: 'm', partition: 0, offset: '0', metadata: 'checkpoint-7' }, { topic: 'm', partition: 1, offset: '0' }]);
    expect(ev.of(c.events.COMMIT_OFFSETS)[0]).toMatchObject({ groupId: 'g', memberId: c.memberId, topics: [{ topic: 'm', partitions: [{ partition: 0, offset: '0' }, { partition: 1, offset: '0' }] }] });
    expect(await e.admin.fetchOffsets({ groupId: 'g', topics: ['m'] })).toEqual([
      { topic: 'm', partitions: [{ partition: 0, offset: '0', metadata: 'checkpoint-7' }, { partition: 1, offset: '0', metadata: null }] },
    ]);
    await expect(c.commitOffsets([{ topic: 'm', partition: 0, offset: '0', metadata: 7 as never }])).rejects.toThrow(/metadata must be a string or null/);
  });

  it('a failed commit is emitted as COMMIT_OFFSETS_ERROR and logged, not dropped', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 'f' }] });
    const c = await e.consumer();
    const ev = collect(c);
    await c.subscribe({ topics: ['f'] });
    await c.run({ eachMessage: async () => undefined });
    const err = await c.commitOffsets([{ topic: 'no-such-topic', partition: 0, offset: '1' }]).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(TopicNotFoundError);
    const [failed] = ev.of(c.events.COMMIT_OFFSETS_ERROR);
    expect(failed).toMatchObject({ groupId: 'g', topics: [{ topic: 'no-such-topic', partitions: [{ partition: 0, offset: '1' }] }] });
    expect(failed!.error).toBe(err);
    expect(e.entries.some((x) => x.label === 'ERROR' && x.log.message.startsWith('Failed to commit offsets'))).toBe(true);
  });

  it('eachBatch commitOffsetsIfNecessary(offsets) commits exactly the offsets given', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 'b' }] });
    await e.producer.send({ topic: 'b', messages: [{ value: '0' }, { value: '1' }, { value: '2' }] });
    const c = await e.consumer();
    await c.subscribe({ topics: ['b'], fromBeginning: true });
    let done!: () => void;
    const committed = new Promise<void>((r) => { done = r; });
    await c.run({
      autoCommit: false,
      eachBatch: async ({ batch, commitOffsetsIfNecessary }) => {
        // Commit "after offset 0" although the whole batch is processed.
        await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: '1' }] }] });
        done();
      },
    });
    await committed;
    expect(await e.admin.fetchOffsets({ groupId: 'g', topics: ['b'] })).toEqual([{ topic: 'b', partitions: [{ partition: 0, offset: '1', metadata: null }] }]);
  });

  it('STOP is emitted on disconnect, before DISCONNECT', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 's' }] });
    const c = await e.consumer();
    const ev = collect(c);
    await c.subscribe({ topics: ['s'] });
    await c.run({ eachMessage: async () => undefined });
    await c.disconnect();
    const types = ev.got.map((x) => x.type).filter((t) => t === c.events.STOP || t === c.events.DISCONNECT);
    expect(types).toEqual(['consumer.stop', 'consumer.disconnect']);
    expect(e.entries.some((x) => x.namespace === 'Consumer' && x.log.message === 'Stopped')).toBe(true);
  });

  it('logs handler retries and the crash that follows them', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 'x' }] });
    await e.producer.send({ topic: 'x', messages: [{ value: 'poison' }] });
    const c = await e.consumer({ retry: { retries: 1, initialRetryTime: 1, restartOnFailure: async () => false } });
    const crashed = new Promise<void>((resolve) => c.on(c.events.CRASH, () => resolve()));
    await c.subscribe({ topics: ['x'], fromBeginning: true });
    await c.run({ eachMessage: async () => { throw new Error('handler says no'); } });
    await crashed;
    const errors = e.entries.filter((x) => x.namespace === 'Consumer' && x.label === 'ERROR').map((x) => x.log);
    expect(errors.filter((l) => l.message === 'Error when calling the handler, retrying: handler says no').map((l) => l.retryCount)).toEqual([0, 1]);
    expect(errors.some((l) => l.message.startsWith('Crash: ') && l.message.includes('handler says no'))).toBe(true);
  });

  it('on() refuses an unknown event name (KafkaJS)', async () => {
    const e = await connect();
    const c = await e.consumer();
    expect(() => c.on('consumer.nope', () => undefined)).toThrow(/event name must be one of/);
  });
});
