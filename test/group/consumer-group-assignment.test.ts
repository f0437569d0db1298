/**
 * Consumer groups in one Node process: several consumers, each on its own client sharing one
 * fake-indexeddb database, so they share the in-page broker. No Web Locks here: liveness is
 * heartbeats, sessionTimeout and leaveGroup. Conditions are awaited by polling with a deadline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assigners, createClient, type AssignerRef, type Consumer, type ConsumerConfig, type EachMessagePayload } from '../../src/index.js';
import { nodeClient } from '../helpers/node-client.js';
import { waitFor, FAST } from './helpers.js';

/** Polls `cond` until it holds; fails naming `what` after `ms`. */

type Env = Awaited<ReturnType<typeof open>>;
let env: Env | undefined;
afterEach(async () => { await env?.close(); env = undefined; });

async function open() {
  const { client, config } = nodeClient();
  const admin = client.admin();
  await admin.connect();
  const producer = client.producer();
  await producer.connect();
  const consumers: Consumer[] = [];
  let n = 0;
  const e = {
    admin, producer,
    /** A connected group consumer on its own client (same broker), disconnected by close(). */
    async consumer(c: ConsumerConfig = {}) {
      const consumer = createClient({ ...config, clientId: `m${n++}` }).consumer({ groupId: 'g', ...FAST, ...c });
      await consumer.connect();
      consumers.push(consumer);
      return consumer;
    },
    async close() {
      for (const c of consumers) await c.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    },
  };
  env = e;
  return e;
}

/** Partitions of `consumer`'s assignment in `topic`, sorted. */
const parts = (consumer: Consumer, topic = 't') => consumer.assignment().filter((a) => a.topic === topic).map((a) => a.partition).sort((x, y) => x - y);

/** True when the consumers own every one of `count` partitions exactly once, `each` apiece. */
function balanced(consumers: Consumer[], count: number, each: number[]): boolean {
  const owned = consumers.map((c) => parts(c));
  const all = owned.flat().sort((a, b) => a - b);
  return all.length === count && all.every((p, i) => p === i) &&
    [...owned.map((o) => o.length)].sort().join() === [...each].sort().join();
}

describe('partitions are spread over the members of a group', () => {
  it('a single member gets every partition', async () => {
    const e = await open();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 6 }] });
    const a = await e.consumer();
    await a.subscribe({ topics: ['t'] });
    await a.run({ eachMessage: async () => undefined });
    expect(parts(a)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  const cases: [string, AssignerRef[] | undefined, string][] = [
    ['cooperative-sticky (default)', undefined, 'cooperative-sticky'],
    ['range', [assigners.range], 'range'],
    ['roundRobin', [assigners.roundRobin], 'roundrobin'],
  ];
  for (const [name, partitionAssigners, protocol] of cases) {
    it(`three members of a six-partition topic get two each (${name}); a member that leaves hands its partitions on`, async () => {
      const e = await open();
      await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 6 }] });
      const members: Consumer[] = [];
      for (let i = 0; i < 3; i++) {
        const c = await e.consumer({ partitionAssigners });
        await c.subscribe({ topics: ['t'] });
        await c.run({ eachMessage: async () => undefined });
        members.push(c);
      }
      await waitFor(() => balanced(members, 6, [2, 2, 2]), 'two partitions per member');
      const { groups: [group] } = await e.admin.describeGroups(['g']);
      expect(group!.protocol).toBe(protocol);
      expect(group!.members.map((m) => m.memberId).sort()).toEqual(members.map((m) => m.memberId).sort());

      const [gone, ...rest] = members as [Consumer, Consumer, Consumer];
      const lost = parts(gone);
      await gone.disconnect();
      await waitFor(() => balanced(rest, 6, [3, 3]), 'three partitions per remaining member');
      expect(rest.flatMap((c) => parts(c))).toEqual(expect.arrayContaining(lost));
      expect(gone.assignment()).toEqual([]);
    });
  }
});

describe('every record is processed exactly once while the group changes', () => {
  for (const [name, partitionAssigners] of [['cooperative-sticky', undefined], ['range', [assigners.range]], ['roundRobin', [assigners.roundRobin]]] as const) {
    it(`with commits after each record and no crash (${name}), in offset order per partition`, async () => {
      const e = await open();
      await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 6 }] });
      const processed: { partition: number; offset: number; by: string }[] = [];
      let produced = 0;
      const produce = async (n: number) => {
        for (let i = 0; i < n; i++, produced++) await e.producer.send({ topic: 't', messages: [{ value: String(produced), partition: produced % 6 }] });
      };
      const join = async () => {
        const c = await e.consumer({ partitionAssigners });
        await c.subscribe({ topics: ['t'], fromBeginning: true });
        await c.run({
          autoCommitThreshold: 1,
          eachMessage: async ({ partition, message }: EachMessagePayload) => {
            processed.push({ partition, offset: Number(message.offset), by: c.memberId });
            await new Promise((r) => setTimeout(r, 1)); // let rebalances land mid-stream
          },
        });
        return c;
      };
      await produce(30);
      const a = await join();
      await produce(30);
      const b = await join();
      await produce(30);
      const c = await join();
      await produce(30);
      await waitFor(() => processed.length >= 60, 'some progress');
      await b.disconnect();
      await produce(30);
      await waitFor(() => processed.length >= produced, `${produced} records processed`);
      await c.disconnect();
      await produce(30);
      await waitFor(() => processed.length >= produced, `${produced} records processed`);

      await waitFor(async () => {
        const [t] = await e.admin.fetchOffsets({ groupId: 'g', topics: ['t'] });
        return t!.partitions.every((p) => p.offset === String(produced / 6));
      }, 'offsets committed up to the log end');
      const keys = processed.map((p) => `${p.partition}:${p.offset}`);
      expect(new Set(keys).size).toBe(keys.length); // nothing twice
      expect(keys.length).toBe(produced); // nothing missed
      for (let p = 0; p < 6; p++) {
        const offsets = processed.filter((x) => x.partition === p).map((x) => x.offset);
        expect(offsets).toEqual(Array.from({ length: produced / 6 }, (_, i) => i));
      }
      expect(new Set(processed.map((p) => p.by)).size).toBeGreaterThan(1); // the work really was shared
      expect(a.assignment()).toHaveLength(6);
    });
  }
});

describe('a slow handler during a rebalance', () => {
  it('eager protocol: keeps its member alive; nobody else gets the partition until the handler returned and the offset was committed', async () => {
    const e = await open();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const processed: string[] = [];
    let entered!: () => void;
    const inside = new Promise<void>((r) => { entered = r; });
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    const a = await e.consumer({ sessionTimeout: 500, partitionAssigners: [assigners.range] });
    await a.subscribe({ topics: ['t'], fromBeginning: true });
    await a.run({
      autoCommitThreshold: 1,
      eachMessage: async ({ partition, message }) => {
        processed.push(`a ${partition}:${message.offset}`);
        if (processed.length === 1) { entered(); await released; }
      },
    });
    await e.producer.send({ topic: 't', messages: [{ value: 'x', partition: 0 }, { value: 'y', partition: 1 }] });
    await inside;

    // b's join starts a round that waits for a, whose handler is still busy.
    const b = await e.consumer({ sessionTimeout: 500, partitionAssigners: [assigners.range] });
    await b.subscribe({ topics: ['t'], fromBeginning: true });
    const joined = b.run({ autoCommitThreshold: 1, eachMessage: async ({ partition, message }) => { processed.push(`b ${partition}:${message.offset}`); } });
    try {
      await waitFor(async () => (await a.describeGroup()).state === 'PreparingRebalance', 'the round to start');
      const blockedAt = Date.now();
      await waitFor(() => Date.now() - blockedAt > 1000, 'twice the session timeout to pass');
      const during = await a.describeGroup();
      expect(during.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort()); // a was not evicted
      expect(processed).toEqual(['a 0:0']);
    } finally {
      release(); // also when an expectation failed: the handler must not outlive the test
    }
    await joined;
    await waitFor(() => a.assignment().length === 1 && b.assignment().length === 1, 'the shared assignment');
    await waitFor(() => processed.length === 2, 'the other record');
    expect(processed.filter((p) => p.endsWith(' 0:0'))).toEqual(['a 0:0']); // once, by a
    expect(processed.map((p) => p.slice(2)).sort()).toEqual(['0:0', '1:0']);
  });

  it('cooperative protocol: the round does not wait for it; the other members and the partitions that stay go on', async () => {
    const e = await open();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const log: string[] = [];
    let entered!: (partition: number) => void;
    const inside = new Promise<number>((r) => { entered = r; });
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    const a = await e.consumer({ sessionTimeout: 500 });
    await a.subscribe({ topics: ['t'], fromBeginning: true });
    await a.run({
      autoCommitThreshold: 1,
      eachMessage: async ({ partition, message }) => {
        log.push(`a ${partition}:${message.offset}`);
        if (log.length === 1) { entered(partition); await released; log.push('a returned'); }
      },
    });
    await e.producer.send({ topic: 't', messages: [{ value: 'x', partition: 0 }] });
    const busy = await inside;
    expect(busy).toBe(0);

    const b = await e.consumer({ sessionTimeout: 500 });
    await b.subscribe({ topics: ['t'], fromBeginning: true });
    try {
      // b's run() returns while a's handler is still blocked; b gets partition 1 (a was not
      // processing it) and processes new records on it, still while a's handler is blocked.
      await b.run({ autoCommitThreshold: 1, eachMessage: async ({ partition, message }) => { log.push(`b ${partition}:${message.offset}`); } });
      await waitFor(() => b.assignment().length === 1, 'b to get a partition');
      expect(b.assignment()).toEqual([{ topic: 't', partition: 1 }]);
      await e.producer.send({ topic: 't', messages: [{ value: 'y', partition: 1 }] });
      await waitFor(() => log.includes('b 1:0'), 'b to process its partition');
      const blockedAt = Date.now();
      await waitFor(() => Date.now() - blockedAt > 1000, 'twice the session timeout to pass');
      const during = await a.describeGroup();
      expect(during.state).toBe('Stable');
      expect(during.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort()); // a was not evicted
      expect(log).toEqual(['a 0:0', 'b 1:0']);
    } finally {
      release(); // also when an expectation failed: the handler must not outlive the test
    }
    await e.producer.send({ topic: 't', messages: [{ value: 'z', partition: 0 }] });
    await waitFor(() => log.includes('a 0:1'), 'a to go on with the partition it kept');
    expect(log).toEqual(['a 0:0', 'b 1:0', 'a returned', 'a 0:1']);
    expect(a.assignment()).toEqual([{ topic: 't', partition: 0 }]);
  });

  it('cooperative protocol: a partition that moves is handed on only after the handler running on it returned and its offset was committed', async () => {
    const e = await open();
    await e.admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const log: string[] = [];
    let entered!: () => void;
    const inside = new Promise<void>((r) => { entered = r; });
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    const a = await e.consumer({ sessionTimeout: 500 });
    await a.subscribe({ topics: ['t'], fromBeginning: true });
    await a.run({
      autoCommitThreshold: 1,
      eachMessage: async ({ partition, message }) => {
        log.push(`a ${partition}:${message.offset}`);
        if (message.value === 'block') { entered(); await released; log.push('a returned'); }
      },
    });
    // Partition 1 is the one the assignor moves to the second member (see the test above).
    await e.producer.send({ topic: 't', messages: [{ value: 'block', partition: 1 }, { value: 'next', partition: 1 }] });
    await inside;
    const b = await e.consumer({ sessionTimeout: 500 });
    await b.subscribe({ topics: ['t'], fromBeginning: true });
    try {
      await b.run({ autoCommitThreshold: 1, eachMessage: async ({ partition, message }) => { log.push(`b ${partition}:${message.offset}`); } });
      await waitFor(() => a.assignment().length === 1, 'a to give partition 1 up');
      expect(a.assignment()).toEqual([{ topic: 't', partition: 0 }]);
      expect(b.assignment()).toEqual([]); // withheld while a's handler runs on it
      const blockedAt = Date.now();
      await waitFor(() => Date.now() - blockedAt > 1000, 'twice the session timeout to pass');
      expect(b.assignment()).toEqual([]);
      expect(log).toEqual(['a 1:0']);
    } finally {
      release();
    }
    await waitFor(() => b.assignment().length === 1, 'b to get partition 1');
    await waitFor(() => log.includes('b 1:1'), 'b to process the record after the one a finished');
    expect(log).toEqual(['a 1:0', 'a returned', 'b 1:1']); // a stopped after its record; b went on from a's commit
  });
});
