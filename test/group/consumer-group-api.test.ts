/**
 * The KafkaJS-shaped consumer API in group mode: RegExp subscriptions, seek / pause / resume,
 * eachBatch's helpers, instrumentation events, memberId and describeGroup, and static
 * membership (groupInstanceId). Consumers share one in-page broker; conditions are polled.
 */
import { describe, expect, it } from 'vitest';
import {
  assigners, type Consumer, type EachBatchPayload, type InstrumentationEvent,
} from '../../src/index.js';
import { NumberOfRetriesExceededError } from '../../src/errors.js';
import { waitFor, disconnectAfterEach, groupEnv } from './helpers.js';

const open = disconnectAfterEach();

const connect = () => groupEnv(open);

/** Runs `consumer` on `topics` recording `topic:partition:offset`, committing after each record. */
async function record(consumer: Consumer, topics: (string | RegExp)[], fromBeginning = true) {
  const seen: string[] = [];
  await consumer.subscribe({ topics, fromBeginning });
  await consumer.run({ autoCommitThreshold: 1, eachMessage: async ({ topic, partition, message }) => { seen.push(`${topic}:${partition}:${message.offset}`); } });
  return seen;
}

/** Collects the consumer's events of the given types. */
function collect(consumer: Consumer, types: string[]) {
  const got: InstrumentationEvent[] = [];
  for (const t of types) consumer.on(t, (e) => got.push(e));
  return { got, of: (t: string) => got.filter((e) => e.type === t) };
}

describe('subscriptions', () => {
  it('a RegExp picks the matching topics only', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 'rx-a', numPartitions: 2 }, { topic: 'rx-b' }, { topic: 'other' }] });
    const c = await e.consumer();
    const seen = await record(c, [/^rx-/]);
    expect(c.assignment().map((a) => `${a.topic}:${a.partition}`).sort()).toEqual(['rx-a:0', 'rx-a:1', 'rx-b:0']);
    for (const topic of ['other', 'rx-a', 'rx-b']) await e.producer.send({ topic, messages: [{ value: topic, partition: 0 }] });
    await waitFor(() => seen.length === 2, 'the matching topics\' records');
    expect(seen.sort()).toEqual(['rx-a:0:0', 'rx-b:0:0']);
    const { groups: [g] } = await e.admin.describeGroups(['g']);
    expect(g!.members[0]!.memberMetadata.topics).toEqual(['rx-a', 'rx-b']);

    const single = await e.consumer({ groupId: 'single' });
    await single.subscribe({ topic: /^oth/ }); // KafkaJS's one-topic form
    await single.run({ eachMessage: async () => undefined });
    expect(single.assignment()).toEqual([{ topic: 'other', partition: 0 }]);
  });
});

describe('seek, pause and resume in a group', () => {
  it('seek moves an assigned partition; -2 is earliest and -1 latest; partitions of unsubscribed topics are refused', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    await e.producer.send({ topic: 't', messages: ['a', 'b', 'c'].map((value) => ({ value })) });
    const c = await e.consumer();
    const fetched = new Promise<void>((r) => { const off = c.on(c.events.FETCH, () => { off(); r(); }); });
    const seen = await record(c, ['t'], false); // starts at the log end
    await fetched;
    expect(seen).toEqual([]);
    c.seek({ topic: 't', partition: 0, offset: '1' });
    await waitFor(() => seen.length === 2, 'records from offset 1');
    c.seek({ topic: 't', partition: 0, offset: '-2' });
    await waitFor(() => seen.length === 5, 'records from the earliest offset');
    c.seek({ topic: 't', partition: 0, offset: '-1' });
    await e.producer.send({ topic: 't', messages: [{ value: 'd' }] });
    await waitFor(() => seen.length === 6, 'the record after seeking to the end');
    expect(seen).toEqual(['t:0:1', 't:0:2', 't:0:0', 't:0:1', 't:0:2', 't:0:3']);
    expect(() => c.seek({ topic: 'other', partition: 0, offset: '0' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => c.seek({ topic: 't', partition: -1, offset: '0' })).toThrow(/seek\.partition/);
    await waitFor(async () => {
      const [t] = await e.admin.fetchOffsets({ groupId: 'g', topics: ['t'] });
      return t!.partitions[0]!.offset === '4';
    }, 'the commit after the last record');
  });

  it('run(); seek(): a seek made before the partition is assigned applies once it is (KafkaJS\'s documented pattern)', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    await e.producer.send({ topic: 't', messages: ['a', 'b', 'c', 'd'].map((value) => ({ value, partition: 1 })) });
    const c = await e.consumer();
    const seen: string[] = [];
    await c.subscribe({ topics: ['t'], fromBeginning: true });
    expect(() => c.seek({ topic: 't', partition: 1, offset: '2' })).toThrow(/run\(\) first/); // as KafkaJS: run first
    const running = c.run({ eachMessage: async ({ partition, message }) => { seen.push(`${partition}:${message.offset}`); } });
    c.seek({ topic: 't', partition: 1, offset: '2' }); // not assigned yet: kept until it is
    await running;
    await waitFor(() => seen.length === 2, 'the records from offset 2');
    expect(seen).toEqual(['1:2', '1:3']);
  });

  it('a pause made before the partition is assigned applies once it is, and resume releases it', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    await e.producer.send({ topic: 't', messages: [{ value: 'x', partition: 0 }, { value: 'y', partition: 1 }] });
    const c = await e.consumer();
    const seen: string[] = [];
    await c.subscribe({ topics: ['t'], fromBeginning: true });
    const running = c.run({ eachMessage: async ({ partition, message }) => { seen.push(`${partition}:${message.offset}`); } });
    c.pause([{ topic: 't', partitions: [0] }]);
    expect(c.paused()).toEqual([{ topic: 't', partitions: [0] }]);
    await running;
    expect(c.assignment()).toHaveLength(2);
    await waitFor(() => seen.length === 1, 'the unpaused partition');
    await e.producer.send({ topic: 't', messages: [{ value: 'z', partition: 1 }] });
    await waitFor(() => seen.length === 2, 'the next record of the unpaused partition');
    expect(seen).toEqual(['1:0', '1:1']); // fetched twice past partition 0's record: it stayed paused
    expect(c.paused()).toEqual([{ topic: 't', partitions: [0] }]);
    c.resume([{ topic: 't', partitions: [0] }]);
    await waitFor(() => seen.length === 3, 'the resumed partition');
    expect(seen[2]).toBe('0:0');
    expect(() => c.pause([{ topic: 't', partitions: [-1] }])).toThrow(/pause\[0\]\.partitions/);
  });

  it('pause holds partitions back, paused() lists them, resume picks up where they stopped', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }, { topic: 'u' }] });
    const c = await e.consumer();
    const seen = await record(c, ['t', 'u']);
    c.pause([{ topic: 't', partitions: [0] }, { topic: 'u' }]);
    expect(c.paused().sort((a, b) => a.topic.localeCompare(b.topic))).toEqual([{ topic: 't', partitions: [0] }, { topic: 'u', partitions: [0] }]);
    await e.producer.send({ topic: 't', messages: [{ value: 'x', partition: 0 }, { value: 'y', partition: 1 }] });
    await e.producer.send({ topic: 'u', messages: [{ value: 'z' }] });
    await waitFor(() => seen.length === 1, 'the unpaused partition');
    expect(seen).toEqual(['t:1:0']);
    c.resume([{ topic: 'u' }]);
    await waitFor(() => seen.length === 2, 'the resumed topic');
    expect(c.paused()).toEqual([{ topic: 't', partitions: [0] }]);
    c.resume([{ topic: 't', partitions: [0] }]);
    await waitFor(() => seen.length === 3, 'the resumed partition');
    expect(c.paused()).toEqual([]);
    expect(seen).toEqual(['t:1:0', 'u:0:0', 't:0:0']);
  });

  for (const [name, partitionAssigners] of [['range, eager', [assigners.range]], ['cooperative-sticky', undefined]] as const) {
    it(`a pause outlives a rebalance for the partitions the member keeps (${name})`, async () => {
      const e = await connect();
      await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }, { topic: 'u', numPartitions: 2 }, { topic: 'w' }] });
      const a = await e.consumer({ partitionAssigners });
      const seen = await record(a, ['t', 'u', 'w']);
      a.pause([{ topic: 't' }]);
      const b = await e.consumer({ partitionAssigners });
      await record(b, ['u']); // b only wants u: a keeps t and w
      const mineOf = (c: Consumer, topic: string) => c.assignment().filter((x) => x.topic === topic).length;
      await waitFor(async () => b.assignment().length > 0 && (await a.describeGroup()).state === 'Stable' && mineOf(a, 't') === 2 && mineOf(a, 'w') === 1, 'the rebalance');
      expect(a.paused()).toEqual([{ topic: 't', partitions: [0, 1] }]);
      await e.producer.send({ topic: 't', messages: [{ value: 'x', partition: 0 }, { value: 'x', partition: 1 }] });
      await e.producer.send({ topic: 'w', messages: [{ value: 'y' }] });
      await waitFor(() => seen.length === 1, 'the record of w'); // fetched after t's records were there
      expect(seen).toEqual(['w:0:0']);
      a.resume([{ topic: 't' }]);
      await waitFor(() => seen.length === 3, 'the records of t');
      expect(seen.slice(1).sort()).toEqual(['t:0:0', 't:1:0']);
    });
  }
});

describe('eachBatch in a group', () => {
  it('resolveOffset, uncommittedOffsets, commitOffsetsIfNecessary, heartbeat, isRunning, isStale', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    await e.producer.send({ topic: 't', messages: ['a', 'b', 'c', 'd'].map((value) => ({ value })) });
    const c = await e.consumer();
    const events = collect(c, [c.events.HEARTBEAT, c.events.COMMIT_OFFSETS]);
    await c.subscribe({ topics: ['t'], fromBeginning: true });
    const batches: string[][] = [];
    const notes: Record<string, unknown> = {};
    let done!: () => void;
    const finished = new Promise<void>((r) => { done = r; });
    await c.run({
      eachBatchAutoResolve: false,
      autoCommitInterval: 0, // commitOffsetsIfNecessary commits whenever something is pending
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale }: EachBatchPayload) => {
        batches.push(batch.messages.map((m) => m.offset));
        if (batches.length === 1) {
          notes.running = isRunning();
          notes.stale = isStale();
          resolveOffset('0');
          resolveOffset('1');
          notes.resolved = uncommittedOffsets();
          await commitOffsetsIfNecessary();
          notes.afterCommit = uncommittedOffsets();
          const [t] = await e.admin.fetchOffsets({ groupId: 'g', topics: ['t'] });
          notes.committed = t!.partitions[0]!.offset;
          await heartbeat();
          return; // c and d are not resolved: they come again
        }
        resolveOffset(batch.lastOffset());
        done();
      },
    });
    await finished;
    expect(batches).toEqual([['0', '1', '2', '3'], ['2', '3']]);
    expect(notes).toEqual({
      running: true,
      stale: false,
      resolved: { topics: [{ topic: 't', partitions: [{ partition: '0', offset: '2' }] }] },
      afterCommit: { topics: [] },
      committed: '2',
    });
    expect(events.of(c.events.HEARTBEAT).length).toBeGreaterThan(0);
    expect(events.of(c.events.COMMIT_OFFSETS)[0]!.payload).toMatchObject({ groupId: 'g', memberId: c.memberId, topics: [{ topic: 't', partitions: [{ partition: 0, offset: '2' }] }] });
    await waitFor(async () => {
      const [t] = await e.admin.fetchOffsets({ groupId: 'g', topics: ['t'] });
      return t!.partitions[0]!.offset === '4';
    }, 'the commit of the second batch');
  });

  it('isStale turns true while the group rebalances (eager protocol), isRunning false once the consumer stops', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    await e.producer.send({ topic: 't', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }] });
    const a = await e.consumer({ partitionAssigners: [assigners.range] });
    await a.subscribe({ topics: ['t'], fromBeginning: true });
    let inBatch!: (p: EachBatchPayload) => void;
    const entered = new Promise<EachBatchPayload>((r) => { inBatch = r; });
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    await a.run({ eachBatch: async (p) => { inBatch(p); await released; } });
    const p = await entered;
    expect(p.isStale()).toBe(false);
    const b = await e.consumer({ partitionAssigners: [assigners.range] });
    await b.subscribe({ topics: ['t'], fromBeginning: true });
    const joined = b.run({ eachMessage: async () => undefined });
    await waitFor(() => p.isStale(), 'the batch to turn stale');
    expect(p.isRunning()).toBe(true);
    const stopping = a.stop();
    await waitFor(() => !p.isRunning(), 'isRunning to turn false');
    release();
    await stopping;
    await joined;
    await waitFor(() => b.assignment().length === 2, 'b to take over');
  });
});

describe('instrumentation events', () => {
  it('GROUP_JOIN, REBALANCING, HEARTBEAT, COMMIT_OFFSETS, FETCH, STOP and DISCONNECT', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const c = await e.consumer();
    const ev = c.events;
    const events = collect(c, [ev.GROUP_JOIN, ev.REBALANCING, ev.HEARTBEAT, ev.COMMIT_OFFSETS, ev.FETCH, ev.STOP, ev.DISCONNECT, ev.CRASH]);
    const seen = await record(c, ['t']);
    expect(c.memberId).toMatch(/^c\d+-./);
    const [join] = events.of(ev.GROUP_JOIN);
    expect(join!.payload).toMatchObject({ groupId: 'g', memberId: c.memberId, groupProtocol: 'cooperative-sticky', memberAssignment: { t: [0, 1] } });
    const group = await c.describeGroup();
    expect(group).toMatchObject({ groupId: 'g', state: 'Stable', protocol: 'cooperative-sticky', members: [{ memberId: c.memberId, assignment: { t: [0, 1] } }] });
    expect((join!.payload as { generationId: number }).generationId).toBe(group.generationId);
    expect(events.of(ev.REBALANCING)[0]!.payload).toEqual({ groupId: 'g', memberId: c.memberId });

    await e.producer.send({ topic: 't', messages: [{ value: 'x', partition: 1 }] });
    await waitFor(() => seen.length === 1 && events.of(ev.COMMIT_OFFSETS).length > 0 && events.of(ev.HEARTBEAT).length > 0, 'a commit and a heartbeat');
    expect(events.of(ev.COMMIT_OFFSETS).at(-1)!.payload).toMatchObject({ groupId: 'g', memberId: c.memberId, groupGenerationId: group.generationId });
    expect(events.of(ev.HEARTBEAT)[0]!.payload).toEqual({ groupId: 'g', memberId: c.memberId, groupGenerationId: group.generationId });
    expect(events.of(ev.FETCH).some((f) => (f.payload as { numberOfBatches: number }).numberOfBatches > 0)).toBe(true);

    await c.stop();
    expect(events.of(ev.STOP)).toHaveLength(1);
    await c.disconnect();
    expect(events.of(ev.DISCONNECT)).toHaveLength(1);
    expect(events.of(ev.CRASH)).toEqual([]);
    expect((await e.admin.describeGroups(['g'])).groups[0]!.state).toBe('Empty');
  });

  it('CRASH { error, groupId, restart: true } when eachMessage keeps throwing; the consumer restarts with backoff and goes on', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    const asked: unknown[] = [];
    const c = await e.consumer({ retry: { retries: 1, initialRetryTime: 10, restartOnFailure: async (err) => { asked.push(err); return true; } } });
    const crashes = collect(c, [c.events.CRASH]);
    const boom = new Error('boom');
    let attempts = 0;
    const seen = await (async () => {
      const got: string[] = [];
      await c.subscribe({ topics: ['t'], fromBeginning: true });
      await c.run({ autoCommitThreshold: 1, eachMessage: async ({ message }) => { if (++attempts <= 3) throw boom; got.push(message.offset); } });
      return got;
    })();
    await e.producer.send({ topic: 't', messages: [{ value: 'x' }, { value: 'y' }] });
    await waitFor(() => seen.length === 2, 'both records after the restart');
    expect(seen).toEqual(['0', '1']);
    expect(attempts).toBe(5); // two tries, crash, restart: two more tries, then 'y'
    expect(crashes.got).toHaveLength(1);
    const payload = crashes.got[0]!.payload as { error: NumberOfRetriesExceededError; groupId: string; restart: boolean };
    expect(payload).toMatchObject({ groupId: 'g', restart: true });
    expect(payload.error).toBeInstanceOf(NumberOfRetriesExceededError);
    expect(payload.error.cause).toBe(boom);
    expect(asked).toEqual([payload.error]);
    expect(c.assignment()).toEqual([{ topic: 't', partition: 0 }]); // a member again
    await waitFor(async () => (await e.admin.fetchOffsets({ groupId: 'g', topics: ['t'] }))[0]!.partitions[0]!.offset === '2', 'the commit');
  });

  it('CRASH with restart: false when restartOnFailure says no: the member leaves and its partitions move on', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const bad = await e.consumer({ retry: { retries: 1, initialRetryTime: 10, restartOnFailure: async () => false } });
    const crashes = collect(bad, [bad.events.CRASH]);
    await bad.subscribe({ topics: ['t'], fromBeginning: true });
    const boom = new Error('boom');
    let attempts = 0;
    await bad.run({ eachMessage: async () => { attempts++; throw boom; } });
    const good = await e.consumer();
    const seen = await record(good, ['t']);
    await waitFor(() => bad.assignment().length === 1 && good.assignment().length === 1, 'a shared group');
    const badPartition = bad.assignment()[0]!.partition;
    await e.producer.send({ topic: 't', messages: [{ value: 'x', partition: badPartition }] });

    await waitFor(() => crashes.got.length > 0, 'the crash');
    const last = crashes.got[0]!.payload as { error: Error; restart: boolean; groupId: string };
    expect(last).toMatchObject({ restart: false, groupId: 'g' });
    expect(last.error.cause).toBe(boom);
    expect(attempts).toBe(2); // the first try and one retry
    // Like KafkaJS (which disconnects on a crash), the member leaves: nobody is stuck with its partition.
    await waitFor(() => good.assignment().length === 2, 'the crashed member\'s partition to move');
    await waitFor(() => seen.length === 1, 'the record the crashed member failed on');
    expect(seen).toEqual([`t:${badPartition}:0`]);
    expect(crashes.got).toHaveLength(1);
  });

  it('stop() during the backoff before a restart cancels the restart', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    const c = await e.consumer({ retry: { retries: 0, initialRetryTime: 100, factor: 0 } });
    const events = collect(c, [c.events.CRASH, c.events.GROUP_JOIN]);
    await c.subscribe({ topics: ['t'], fromBeginning: true });
    await c.run({ eachMessage: async () => { throw new Error('boom'); } });
    // stop() once the restart is scheduled (a macrotask after CRASH), well within its 100 ms backoff.
    const crashed = new Promise<void>((r) => { const off = c.on(c.events.CRASH, () => { off(); setTimeout(() => { void c.stop().then(() => r()); }, 0); }); });
    await e.producer.send({ topic: 't', messages: [{ value: 'x' }] });
    await crashed;
    expect(events.of(c.events.CRASH)[0]!.payload).toMatchObject({ restart: true });
    const stoppedAt = Date.now();
    await waitFor(() => Date.now() - stoppedAt > 1000, 'ten times the restart backoff to pass');
    expect(events.of(c.events.GROUP_JOIN)).toHaveLength(1); // the first run's join only
    expect(c.assignment()).toEqual([]);
  });

  it('a handler error marked retriable: false is not retried and does not restart the consumer', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't' }] });
    const c = await e.consumer({ retry: { retries: 3, initialRetryTime: 10 } });
    const crashes = collect(c, [c.events.CRASH]);
    const fatal = Object.assign(new Error('fatal'), { retriable: false });
    let attempts = 0;
    await c.subscribe({ topics: ['t'], fromBeginning: true });
    await c.run({ eachMessage: async () => { attempts++; throw fatal; } });
    await e.producer.send({ topic: 't', messages: [{ value: 'x' }] });
    await waitFor(() => crashes.got.length > 0, 'the crash');
    expect(crashes.got[0]!.payload).toMatchObject({ error: fatal, restart: false, groupId: 'g' });
    expect(attempts).toBe(1);
    await waitFor(async () => (await e.admin.describeGroups(['g'])).groups[0]!.state === 'Empty', 'the member to leave');
  });
});

describe('static membership', () => {
  it('a consumer with the same groupInstanceId takes its place within sessionTimeout: same partitions, no rebalance', async () => {
    const e = await connect();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 4 }] });
    const first = await e.consumer({ groupInstanceId: 'x' });
    await record(first, ['t']);
    const other = await e.consumer();
    const otherEvents = collect(other, [other.events.GROUP_JOIN, other.events.REBALANCING]);
    await record(other, ['t']);
    await waitFor(() => first.assignment().length === 2 && other.assignment().length === 2, 'a balanced group');
    const stable = await other.describeGroup();
    expect(stable.state).toBe('Stable');
    const mine = first.assignment().map((a) => a.partition).sort();
    const joinsBefore = otherEvents.of(other.events.GROUP_JOIN).length;
    const rebalancesBefore = otherEvents.of(other.events.REBALANCING).length;

    await first.disconnect(); // a static member does not leave the group
    const second = await e.consumer({ groupInstanceId: 'x' });
    await record(second, ['t']);
    expect(second.memberId).not.toBe(first.memberId);
    expect(second.assignment().map((a) => a.partition).sort()).toEqual(mine);
    const after = await other.describeGroup();
    expect(after.generationId).toBe(stable.generationId);
    expect(after.state).toBe('Stable');
    expect(after.members.map((m) => m.memberId).sort()).toEqual([second.memberId, other.memberId].sort());
    expect(after.members.find((m) => m.memberId === second.memberId)).toMatchObject({ groupInstanceId: 'x', assignment: { t: mine } });
    expect(otherEvents.of(other.events.GROUP_JOIN)).toHaveLength(joinsBefore);
    expect(otherEvents.of(other.events.REBALANCING)).toHaveLength(rebalancesBefore);
  });
});
