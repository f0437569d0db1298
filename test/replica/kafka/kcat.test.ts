// kcat (Debian's, librdkafka 2.x) against the real replica server's Kafka listener
// (`lanes-replica serve --kafka-port 0 --kafka-auth none`, SQLite store): metadata, a plain
// consumer, a consumer group with commits, and a producer whose records the HTTP records
// route (what devices mirror) serves.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../../src/types.js';
import { KCAT, kcat, pushRecords, readRecords, startReplica, type Replica } from './helpers.js';

const FORMAT = '%p|%o|%k|%s|%T|%h\\n';

function pushed(partition: number, n: number): Message[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `k${partition}-${i}`,
    value: i % 2 === 0 ? `order ${partition}/${i} é` : { id: i, partition, items: [1, 2] },
    headers: { source: 'device-a', seq: String(i) },
    timestamp: 1_700_000_000_000 + partition * 1000 + i,
  }));
}

/** The line kcat prints for a record pushed by a device (see FORMAT). */
function expectedLine(partition: number, offset: number, m: Message): string {
  const value = typeof m.value === 'string' ? m.value : JSON.stringify(m.value);
  const headers = Object.entries(m.headers!).map(([k, v]) => `${k}=${v as string}`).join(',');
  return `${partition}|${offset}|${m.key as string}|${value}|${m.timestamp as number}|${headers}`;
}

const byPartition = (out: string): Map<number, string[]> => {
  const m = new Map<number, string[]>();
  for (const line of out.split('\n').filter(Boolean)) {
    const p = Number(line.split('|')[0]);
    m.set(p, [...(m.get(p) ?? []), line]);
  }
  return m;
};

describe('kcat against the replica Kafka listener', () => {
  let r: Replica;
  let broker: string;
  const counts = [5, 8, 3];

  beforeAll(async () => {
    r = await startReplica(['--kafka-auth', 'none']);
    broker = `127.0.0.1:${r.kafkaPort}`;
    const token = await r.token('default');
    await pushRecords(r, token, 'device-a', counts.map((n, p) => ({ topic: 'orders', partition: p, baseOffset: 0, messages: pushed(p, n) })));
  });
  afterAll(async () => { await r?.stop(); });

  it('kcat -L lists the topic with its partitions, led by the one advertised broker', async () => {
    const out = await kcat(['-b', broker, '-L']);
    expect(out).toContain(`broker 1 at ${broker}`);
    expect(out).toContain('topic "orders" with 3 partitions');
    for (let p = 0; p < 3; p++) expect(out).toContain(`partition ${p}, leader 1, replicas: 1, isrs: 1`);
  });

  it('kcat -C -o beginning -e prints exactly the records the device pushed, in order per partition', async () => {
    const out = await kcat(['-b', broker, '-C', '-t', 'orders', '-o', 'beginning', '-e', '-q', '-f', FORMAT]);
    const got = byPartition(out);
    for (let p = 0; p < 3; p++) {
      expect(got.get(p)).toEqual(pushed(p, counts[p]!).map((m, i) => expectedLine(p, i, m)));
    }
  });

  it('kcat -G consumes them as a group and commits: a second run of the group gets nothing', async () => {
    const args = ['-b', broker, '-G', 'kcat-group', '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', FORMAT, 'orders'];
    const first = byPartition(await kcat(args));
    for (let p = 0; p < 3; p++) expect(first.get(p)).toEqual(pushed(p, counts[p]!).map((m, i) => expectedLine(p, i, m)));
    const second = await kcat(args);
    expect(second.trim()).toBe('');
  });

  it('kcat -P produces records that the HTTP records route serves after the device\'s', async () => {
    await kcat(['-b', broker, '-P', '-t', 'orders', '-p', '1', '-K', ':'], 'alpha:first\nbeta:{"n":2}\n');
    const records = await readRecords(r, await r.token('default'), 'orders', 1);
    expect(records).toHaveLength(counts[1]! + 2);
    expect(records.slice(-2).map((x) => [x.offset, x.key, x.value])).toEqual([
      [String(counts[1]), 'alpha', 'first'],
      [String(counts[1]! + 1), 'beta', '{"n":2}'],
    ]);
    // And kcat reads them back from the same offsets.
    const out = await kcat(['-b', broker, '-C', '-t', 'orders', '-p', '1', '-o', String(counts[1]), '-e', '-q', '-f', '%o %k %s\\n']);
    expect(out).toBe(`${counts[1]} alpha first\n${counts[1]! + 1} beta {"n":2}\n`);
  });

  it('two kcat members with cooperative-sticky: the partition the first revokes incrementally is the one the second gets', async () => {
    const children: ChildProcess[] = [];
    const member = (name: string) => {
      const child = spawn(KCAT, ['-b', broker, '-G', 'coop-group', '-X', 'partition.assignment.strategy=cooperative-sticky', '-X', 'auto.offset.reset=earliest', '-f', `${name} %p %o\\n`, 'orders'], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let err = '';
      const waitFor = (re: RegExp) => new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => { const m = re.exec(err); if (m) resolve(m); };
        child.stderr!.on('data', (d) => { err += d; check(); });
        child.once('exit', () => reject(new Error(`${name} exited before ${re}: ${err}`)));
        check();
      });
      return { waitFor };
    };
    try {
      const a = member('A');
      await a.waitFor(/incremental assignment of 3 partition\(s\)/);
      const revoked = a.waitFor(/incremental revoke of 1 partition\(s\).*: orders \[(\d)\]/);
      const b = member('B');
      const [, bp] = await b.waitFor(/incremental assignment of 1 partition\(s\).*: orders \[(\d)\]/);
      const [, ap] = await revoked;
      expect(bp).toBe(ap);
    } finally {
      for (const c of children) c.kill('SIGTERM');
    }
  });

  it('kcat -L for a topic that does not exist reports it unknown and creates nothing', async () => {
    const out = await kcat(['-b', broker, '-L', '-t', 'nope']);
    expect(out).toMatch(/topic "nope" with 0 partitions: Broker: Unknown topic or partition/);
    const all = await kcat(['-b', broker, '-L']);
    expect(all).not.toContain('"nope"');
  });
});
