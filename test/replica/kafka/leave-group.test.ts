// LeaveGroup answered as Kafka does (real replica server, raw Kafka connection): an unknown
// member or group is UNKNOWN_MEMBER_ID (v0-v2 at the top level, v3 per member with 0 at the
// top level), a static member leaves by its instance id alone, another member's instance id
// is FENCED_INSTANCE_ID, and a refused leave removes nobody.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as M from '../../../src/replica/kafka/messages.js';
import { pushRecords, startReplica, type Replica } from './helpers.js';
import { call, RawKafkaConnection, subscriptionBytes as subscription } from './raw-client.js';

describe('Kafka LeaveGroup', () => {
  let r: Replica;
  let c: RawKafkaConnection;
  let id = 0;

  beforeAll(async () => {
    r = await startReplica(['--kafka-auth', 'none']);
    await pushRecords(r, await r.token(), 'device-l', [{ topic: 'orders', partition: 0, baseOffset: 0, messages: [{ key: 'k', value: 'v' }] }]);
    c = await RawKafkaConnection.open(r.kafkaPort);
  });
  afterAll(async () => { c?.close(); await r?.stop(); });

  const join = async (groupId: string, memberId = '', groupInstanceId: string | null = null) => {
    const res = await call(c, M.JoinGroupRequest, M.JoinGroupResponse, 5, {
      groupId, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId, groupInstanceId, protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscription(['orders']) }],
    }, ++id);
    expect(res.errorCode).toBe(0);
    return res.memberId as string;
  };
  const leave = (version: number, body: object) => call(c, M.LeaveGroupRequest, M.LeaveGroupResponse, version, body, ++id);
  const membersOf = async (groupId: string) => {
    const res = await call(c, M.DescribeGroupsRequest, M.DescribeGroupsResponse, 0, { groups: [groupId] }, ++id);
    return ((res.groups as { members: { memberId: string }[] }[])[0]!.members).map((m) => m.memberId);
  };

  it('v0-v2: UNKNOWN_MEMBER_ID for an unknown group or member, 0 for a member, then UNKNOWN_MEMBER_ID again', async () => {
    for (const v of [0, 1, 2]) {
      expect((await leave(v, { groupId: `nowhere-${v}`, memberId: 'm' })).errorCode).toBe(25);
      const g = `g-v${v}`;
      const member = await join(g);
      expect((await leave(v, { groupId: g, memberId: 'stranger' })).errorCode).toBe(25);
      expect(await membersOf(g)).toEqual([member]);
      expect((await leave(v, { groupId: g, memberId: member })).errorCode).toBe(0);
      expect(await membersOf(g)).toEqual([]);
      expect((await leave(v, { groupId: g, memberId: member })).errorCode).toBe(25);
    }
    expect((await leave(1, { groupId: '', memberId: 'm' })).errorCode).toBe(24);
  });

  it('v3: 0 at the top level and a code per member; an unknown group answers UNKNOWN_MEMBER_ID for each member', async () => {
    const unknown = await leave(3, { groupId: 'nowhere-3', members: [{ memberId: 'a', groupInstanceId: null }, { memberId: 'b', groupInstanceId: null }] });
    expect(unknown).toMatchObject({ errorCode: 0, members: [{ memberId: 'a', errorCode: 25 }, { memberId: 'b', errorCode: 25 }] });
    const member = await join('g-v3');
    const res = await leave(3, { groupId: 'g-v3', members: [{ memberId: 'stranger', groupInstanceId: null }, { memberId: member, groupInstanceId: null }] });
    expect(res).toMatchObject({ errorCode: 0, members: [{ memberId: 'stranger', errorCode: 25 }, { memberId: member, errorCode: 0 }] });
    expect(await membersOf('g-v3')).toEqual([]);
  });

  it('v3: a static member leaves by its instance id alone; another member id with that instance id is FENCED_INSTANCE_ID', async () => {
    const member = await join('g-static', '', 'instance-1');
    const fenced = await leave(3, { groupId: 'g-static', members: [{ memberId: 'impostor', groupInstanceId: 'instance-1' }] });
    expect(fenced).toMatchObject({ errorCode: 0, members: [{ errorCode: 82 }] });
    expect(await membersOf('g-static')).toEqual([member]);
    const none = await leave(3, { groupId: 'g-static', members: [{ memberId: '', groupInstanceId: 'instance-2' }] });
    expect(none).toMatchObject({ members: [{ errorCode: 25 }] });
    const left = await leave(3, { groupId: 'g-static', members: [{ memberId: '', groupInstanceId: 'instance-1' }] });
    expect(left).toMatchObject({ errorCode: 0, members: [{ memberId: '', groupInstanceId: 'instance-1', errorCode: 0 }] });
    expect(await membersOf('g-static')).toEqual([]);
  });
});
