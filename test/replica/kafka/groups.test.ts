// Kafka's group protocol on lanes' coordinator (pure shell, injected clock): server-side
// assignment with no leader, generations and fencing as Kafka error codes, tenants apart.
import { describe, expect, it } from 'vitest';
import { decodeSubscription, KafkaGroups } from '../../../src/replica/kafka/groups.js';
import { Reader, Writer } from '../../../src/replica/kafka/wire.js';
import { subscriptionBytes as subscription } from './raw-client.js';


function assignmentOf(bytes: Uint8Array): { [topic: string]: number[] } {
  const r = new Reader(bytes);
  r.int16();
  const out: { [topic: string]: number[] } = {};
  for (let n = r.int32(); n > 0; n--) {
    const t = r.string()!;
    out[t] = Array.from({ length: r.int32() }, () => r.int32());
  }
  return out;
}

function groups() {
  let now = 0;
  const timers: { at: number; fn: () => void }[] = [];
  const g = new KafkaGroups({ now: () => now, setTimer: (fn, ms) => { const t = { at: now + ms, fn }; timers.push(t); return () => { timers.splice(timers.indexOf(t), 1); }; } });
  g.setTopics('acme', [{ topic: 'orders', partitions: 4 }]);
  g.setTopics('globex', [{ topic: 'orders', partitions: 4 }]);
  const join = (tenant: string, memberId: string, protocols = ['range']) => g.join(tenant, {
    groupId: 'g', memberId, groupInstanceId: null, clientId: 'c', clientHost: '127.0.0.1', protocolType: 'consumer',
    protocols: protocols.map((name) => ({ name, metadata: subscription(['orders']) })), sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
  });
  const advance = (ms: number) => { now += ms; for (const t of timers.filter((x) => x.at <= now)) { timers.splice(timers.indexOf(t), 1); t.fn(); } };
  return { g, join, advance };
}

describe('Kafka groups on the coordinator', () => {
  it('assigns on the server: every member is a follower and gets a disjoint share of the partitions', async () => {
    const { g, join } = groups();
    const a = await join('acme', '');
    expect(a).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range', leader: '' });
    expect(a.memberId).toMatch(/^c-/);
    // b's join starts a round; a's rejoin (after a REBALANCE_IN_PROGRESS heartbeat) completes it.
    const [b, a2] = await Promise.all([join('acme', 'member-b'), join('acme', a.memberId)]);
    expect(a2.generationId).toBe(2);
    expect(b.generationId).toBe(2);
    const sa = g.sync('acme', 'g', a.memberId, 2);
    const sb = g.sync('acme', 'g', 'member-b', 2);
    expect([sa.errorCode, sb.errorCode]).toEqual([0, 0]);
    const parts = [...assignmentOf(sa.assignment).orders!, ...assignmentOf(sb.assignment).orders!].sort();
    expect(parts).toEqual([0, 1, 2, 3]);
  });

  it('maps fencing to Kafka codes: REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, INCONSISTENT_GROUP_PROTOCOL', async () => {
    const { g, join } = groups();
    const a = await join('acme', 'a');
    expect(g.heartbeat('acme', 'g', 'a', a.generationId)).toBe(0);
    const pending = join('acme', 'b'); // starts a round: a must rejoin
    expect(g.heartbeat('acme', 'g', 'a', a.generationId)).toBe(27);
    expect(g.sync('acme', 'g', 'a', a.generationId).errorCode).toBe(27);
    const [, b] = await Promise.all([join('acme', 'a'), pending]);
    expect(g.heartbeat('acme', 'g', 'a', a.generationId)).toBe(22);
    expect(g.validateCommit('acme', 'g', 'a', a.generationId)).toBe(22);
    expect(g.heartbeat('acme', 'g', 'zombie', b.generationId)).toBe(25);
    // Kafka checks membership before the generation: a removed member with its old generation
    // is UNKNOWN_MEMBER_ID (it rejoins with a new member id), not ILLEGAL_GENERATION.
    expect(g.heartbeat('acme', 'g', 'zombie', a.generationId)).toBe(25);
    expect(g.validateCommit('acme', 'g', 'zombie', a.generationId)).toBe(25);
    expect(g.validateCommit('acme', 'g', '', -1)).toBe(25); // an admin commit to a group with members
    expect((await join('acme', 'c', ['custom-assignor'])).errorCode).toBe(23);
    // During a new round, a SyncGroup of a stale generation is ILLEGAL_GENERATION (Kafka checks the
    // generation before the state), one of the current generation REBALANCE_IN_PROGRESS.
    const round = join('acme', 'd');
    expect(g.sync('acme', 'g', 'a', a.generationId).errorCode).toBe(22);
    expect(g.sync('acme', 'g', 'a', b.generationId).errorCode).toBe(27);
    await Promise.all([round, join('acme', 'a'), join('acme', 'b')]);
  });

  it('keeps tenants apart: the same group id in another tenant is another group', async () => {
    const { g, join } = groups();
    const a = await join('acme', 'a');
    expect(g.list('globex')).toEqual([]);
    expect(g.describe('globex', 'g').groupState).toBe('Dead');
    expect(g.heartbeat('globex', 'g', 'a', a.generationId)).toBe(25);
    expect(g.list('acme')).toEqual([{ groupId: 'g', protocolType: 'consumer', groupState: 'Stable' }]);
    expect(decodeSubscription(g.describe('acme', 'g').members[0]!.memberMetadata).topics).toEqual(['orders']);
  });

  it('decodes owned partitions of topics named __proto__ and constructor as own data', () => {
    const w = new Writer().int16(1).int32(2).string('__proto__').string('constructor').bytes(null).int32(2);
    w.string('__proto__').int32(2).int32(0).int32(1);
    w.string('constructor').int32(1).int32(3);
    const sub = decodeSubscription(w.finish().slice());
    expect(sub.topics).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(sub.owned)).toBe(Object.prototype);
    expect(Object.entries(sub.owned)).toEqual([['__proto__', [0, 1]], ['constructor', [3]]]);
  });

  it('removes a member whose session expires; the other gets every partition in the next generation', async () => {
    const { g, join, advance } = groups();
    await join('acme', 'a');
    const [b, a] = await Promise.all([join('acme', 'b'), join('acme', 'a')]);
    expect(a.generationId).toBe(b.generationId);
    advance(5_000);
    expect(g.heartbeat('acme', 'g', 'a', a.generationId)).toBe(0);
    advance(6_000); // b silent for 11 s > sessionTimeout
    expect(g.heartbeat('acme', 'g', 'a', a.generationId)).toBe(27);
    const again = await join('acme', 'a');
    expect(assignmentOf(g.sync('acme', 'g', 'a', again.generationId).assignment)).toEqual({ orders: [0, 1, 2, 3] });
    expect(g.describe('acme', 'g').members.map((m) => m.memberId)).toEqual(['a']);
  });
});
