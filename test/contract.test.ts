/**
 * The root export's contract, checked on the built bundle as a user imports it: in a fresh
 * Node process, importing `lanes` has no side effects and provides murmur2, partitionForKey,
 * createClient and assigners.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function runNode(code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
}

describe('the root export of lanes', () => {
  it('imports in Node without side effects', () => {
    const out = JSON.parse(runNode(`
      const before = new Set(Object.getOwnPropertyNames(globalThis));
      const handlesBefore = process.getActiveResourcesInfo().length;
      const lanes = await import('lanes');
      const added = Object.getOwnPropertyNames(globalThis).filter((k) => !before.has(k));
      await new Promise((r) => setTimeout(r, 20)); // let the module loader close its files
      const handles = process.getActiveResourcesInfo().length - handlesBefore;
      console.log(JSON.stringify({ added, exports: Object.keys(lanes).sort(), handles }));
    `)) as { added: string[]; exports: string[]; handles: number };
    expect(out.added).toEqual([]);
    expect(out.handles).toBe(0); // no timers, channels or sockets opened by the import
    for (const name of ['murmur2', 'partitionForKey', 'createClient', 'assigners', 'LanesError', 'isRetriable', 'Partitioners']) {
      expect(out.exports).toContain(name);
    }
  });

  it('murmur2 and partitionForKey match Kafka, and assigners are pure functions', () => {
    const out = JSON.parse(runNode(`
      const { murmur2, partitionForKey, assigners: names } = await import('lanes');
      const { assigners } = await import('lanes/assigners');
      const a = assigners.range.assign({ members: [{ memberId: 'a', topics: ['t'] }, { memberId: 'b', topics: ['t'] }], topics: { t: 3 } });
      console.log(JSON.stringify({
        m: [murmur2('21'), murmur2('foobar'), murmur2(new TextEncoder().encode('abc'))],
        p: partitionForKey('foobar', 10),
        names: [assigners.range.name, assigners.roundRobin.name, assigners.cooperativeSticky.name],
        refs: [names.range.name, names.roundRobin.name, names.cooperativeSticky.name],
        a,
      }));
    `));
    expect(out.m).toEqual([-973932308, -790332482, 479470107]);
    expect(out.p).toBe((-790332482 & 0x7fffffff) % 10);
    expect(out.names).toEqual(['range', 'roundrobin', 'cooperative-sticky']);
    expect(out.refs).toEqual(out.names); // the client's names of the broker's assignors
    expect(out.a).toEqual({ a: { t: [0, 1] }, b: { t: [2] } });
  });

  it("createClient({ broker: 'in-page', indexedDB }) needs nothing more than a fake-indexeddb factory", () => {
    const out = JSON.parse(runNode(`
      const { IDBFactory } = await import('fake-indexeddb');
      const { createClient } = await import('lanes');
      const lanes = createClient({ clientId: 'c', database: 'bare', broker: 'in-page', indexedDB: new IDBFactory(), logCleanerIntervalMs: 0 });
      const producer = lanes.producer();
      await producer.connect();
      const sent = await producer.send({ topic: 'auto', messages: [{ value: { n: 1 } }] });
      await producer.disconnect();
      console.log(JSON.stringify({ globals: typeof globalThis.IDBKeyRange, sent }));
    `));
    expect(out.globals).toBe('undefined');
    expect(out.sent[0]).toMatchObject({ topicName: 'auto', partition: 0, baseOffset: '0' });
  });

  it("createClient({ broker: 'in-page', indexedDB }) runs on fake-indexeddb in Node", () => {
    const out = JSON.parse(runNode(`
      const { IDBFactory, IDBKeyRange } = await import('fake-indexeddb');
      const { createClient } = await import('lanes');
      const lanes = createClient({ clientId: 'c', database: 'contract', broker: 'in-page', indexedDB: new IDBFactory(), IDBKeyRange, logCleanerIntervalMs: 0 });
      const admin = lanes.admin();
      await admin.connect();
      const created = await admin.createTopics({ topics: [{ topic: 't', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '60000' }] }] });
      const producer = lanes.producer();
      await producer.connect();
      const sent = await producer.send({ topic: 't', messages: [{ key: 'k', value: 'v', partition: 1, headers: { h: 'x' }, timestamp: 5 }] });
      const offsets = await admin.fetchTopicOffsets('t');
      await producer.disconnect();
      await admin.disconnect();
      console.log(JSON.stringify({ created, sent, offsets }));
    `));
    expect(out.created).toBe(true);
    expect(out.sent).toEqual([{ topicName: 't', partition: 1, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' }]);
    expect(out.offsets).toEqual([
      { partition: 0, offset: '0', high: '0', low: '0', lastStable: '0', replicated: '0' },
      { partition: 1, offset: '1', high: '1', low: '0', lastStable: '1', replicated: '0' },
    ]);
  });

  it('an error the in-page broker throws is an instance of the class imported from lanes (the broker host is its own file)', () => {
    const out = JSON.parse(runNode(`
      const { IDBFactory } = await import('fake-indexeddb');
      const lanes = await import('lanes');
      const client = lanes.createClient({ database: 'errors', broker: 'in-page', indexedDB: new IDBFactory(), logCleanerIntervalMs: 0 });
      const admin = client.admin({ retry: { retries: 0 } });
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
      const caught = await admin.createPartitions({ topicPartitions: [{ topic: 't', count: 1 }] }).catch((e) => e);
      const producer = client.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
      await producer.connect();
      const missing = await producer.send({ topic: 'nope', messages: [{ value: 'v' }] }).catch((e) => e);
      await producer.disconnect();
      await admin.disconnect();
      const report = (e) => ({ name: e.name, code: e.code, ofClass: e instanceof lanes[e.name], lanesError: e instanceof lanes.LanesError });
      console.log(JSON.stringify({ caught: report(caught), missing: report(missing.cause ?? missing) }));
    `));
    expect(out.caught).toEqual({ name: 'InvalidPartitionsError', code: 'INVALID_PARTITIONS', ofClass: true, lanesError: true });
    expect(out.missing).toEqual({ name: 'TopicNotFoundError', code: 'UNKNOWN_TOPIC_OR_PARTITION', ofClass: true, lanesError: true });
  });

  it('every error class the broker host file takes from index.js is the class lanes exports under its name', () => {
    // The host build looks its classes up by code (rollup.config.mjs, hostErrorsModule): each
    // name it binds must be the root export of that name.
    const out = JSON.parse(runNode(`
      const { readdirSync, readFileSync } = await import('node:fs');
      const lanes = await import('lanes');
      const host = readdirSync('dist').find((f) => /^local-host-[\\w-]+\\.js$/.test(f));
      const bound = [...readFileSync('dist/' + host, 'utf8').matchAll(/const (\\w+Error) = \\/\\* @__PURE__ \\*\\/ errorClassOf\\("(\\w+)"\\)/g)];
      console.log(JSON.stringify({ host, bound: bound.map(([, name, code]) => ({ name, same: lanes.errorClassOf(code) === lanes[name] && typeof lanes[name] === 'function' })) }));
    `));
    expect(out.host).toMatch(/^local-host-/);
    expect(out.bound.length).toBeGreaterThan(15);
    for (const b of out.bound) expect(b, b.name).toEqual({ name: b.name, same: true });
  });

  it('a Node process exits once its clients disconnect, even with a consumer waiting at the log end', () => {
    // The consumer's long poll is 120 s; the child has 30 s to exit or execFileSync throws.
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      const { IDBFactory } = await import('fake-indexeddb');
      const { createClient } = await import('lanes');
      const lanes = createClient({ database: 'exit', broker: 'in-page', indexedDB: new IDBFactory(), logCleanerIntervalMs: 0 });
      const admin = lanes.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 't' }] });
      const c = lanes.consumer({ groupId: 'g', maxWaitTimeInMs: 120000 });
      await c.connect();
      await c.subscribe({ topics: ['t'] });
      await c.run({ eachMessage: async () => {} });
      await new Promise((r) => setTimeout(r, 200)); // the fetch is now waiting at the log end
      await c.disconnect();
      await admin.disconnect();
      console.log('disconnected');
    `], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(out.trim().split('\n').at(-1)).toBe('disconnected');
  });
});
