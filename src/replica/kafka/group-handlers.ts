/**
 * What the Kafka group APIs do [node]: JoinGroup, SyncGroup, Heartbeat and LeaveGroup go to
 * the tenant's groups on lanes' coordinator (./groups.ts); OffsetCommit and OffsetFetch store
 * and read committed offsets in the replica store, fenced by the coordinator's generations.
 *
 * Invariant: an OffsetCommit is written only when its member and generation pass the fence
 * and every partition it names exists; otherwise nothing of it is written.
 */
import { ErrorCode, kafkaErrorCode } from './codes.js';
import { topicMap, type Handler } from './handlers.js';
import type { Msg } from './schema.js';

const joinGroup: Handler = async (req, _version, ctx) => {
  ctx.groups.setTopics(ctx.tenant, await ctx.store.listTopics(ctx.tenant));
  const out = await ctx.groups.join(ctx.tenant, {
    groupId: req.groupId, memberId: req.memberId, groupInstanceId: req.groupInstanceId, clientId: ctx.clientId,
    clientHost: ctx.clientHost, protocolType: req.protocolType, protocols: req.protocols,
    sessionTimeoutMs: req.sessionTimeoutMs, rebalanceTimeoutMs: req.rebalanceTimeoutMs,
  });
  return { throttleTimeMs: 0, ...out, members: [] };
};

const syncGroup: Handler = async (req, _version, ctx) => ({
  throttleTimeMs: 0, ...ctx.groups.sync(ctx.tenant, req.groupId, req.memberId, req.generationId),
});

const heartbeat: Handler = async (req, _version, ctx) => ({
  throttleTimeMs: 0, errorCode: ctx.groups.heartbeat(ctx.tenant, req.groupId, req.memberId, req.generationId),
});

// Kafka's shapes: v0-2 answer the member's code at the top level; v3+ answer 0 at the top level
// and a code per member (UNKNOWN_MEMBER_ID for each member of a group that does not exist).
const leaveGroup: Handler = async (req, version, ctx) => {
  if (!req.groupId) return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
  if (version < 3) return { throttleTimeMs: 0, errorCode: ctx.groups.leave(ctx.tenant, req.groupId, req.memberId), members: [] };
  const members = (req.members as Msg[]).map((m) => ({
    memberId: m.memberId, groupInstanceId: m.groupInstanceId,
    errorCode: ctx.groups.leave(ctx.tenant, req.groupId, m.memberId, m.groupInstanceId as string | null),
  }));
  return { throttleTimeMs: 0, errorCode: 0, members };
};

const offsetCommit: Handler = async (req, version, ctx) => {
  const memberId = version === 0 ? '' : req.memberId;
  const generation = version === 0 ? -1 : req.generationIdOrMemberEpoch;
  let code = req.groupId ? ctx.groups.validateCommit(ctx.tenant, req.groupId, memberId, generation) : ErrorCode.INVALID_GROUP_ID;
  const all = code === 0 ? await topicMap(ctx) : new Map<string, number>();
  const unknown = (t: string, p: number): boolean => { const n = all.get(t); return n === undefined || p < 0 || p >= n; };
  const offsets = (req.topics as Msg[]).flatMap((t) => (t.partitions as Msg[]).map((p) => ({
    topic: t.name as string, partition: p.partitionIndex as number, offset: p.committedOffset as number, metadata: p.committedMetadata as string | null,
  })));
  if (code === 0 && !offsets.some((o) => unknown(o.topic, o.partition))) {
    try {
      await ctx.store.commitOffsets(ctx.tenant, req.groupId, offsets);
    } catch (e) {
      code = kafkaErrorCode(e);
    }
  }
  return {
    throttleTimeMs: 0,
    topics: (req.topics as Msg[]).map((t) => ({
      name: t.name,
      partitions: (t.partitions as Msg[]).map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: code !== 0 ? code : unknown(t.name, p.partitionIndex) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          : offsets.some((o) => unknown(o.topic, o.partition)) ? ErrorCode.INVALID_REQUEST : 0,
      })),
    })),
  };
};

const offsetFetch: Handler = async (req, _version, ctx) => {
  const wanted = req.topics as { name: string; partitionIndexes: number[] }[] | null;
  let committed;
  try {
    committed = await ctx.store.fetchOffsets(ctx.tenant, req.groupId, wanted === null ? null : wanted.map((t) => t.name));
  } catch (e) {
    return { throttleTimeMs: 0, errorCode: kafkaErrorCode(e), topics: [] };
  }
  const byKey = new Map(committed.map((c) => [`${c.topic}\u0000${c.partition}`, c]));
  const list = wanted ?? [...new Set(committed.map((c) => c.topic))].map((name) => ({
    name, partitionIndexes: committed.filter((c) => c.topic === name).map((c) => c.partition),
  }));
  return {
    throttleTimeMs: 0, errorCode: 0,
    topics: list.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => {
        const c = byKey.get(`${t.name}\u0000${p}`);
        return { partitionIndex: p, committedOffset: c?.offset ?? -1, committedLeaderEpoch: -1, metadata: c?.metadata ?? '', errorCode: 0 };
      }),
    })),
  };
};

const describeGroups: Handler = async (req, _version, ctx) => {
  const stored = new Set(await ctx.store.listGroups(ctx.tenant));
  return {
    throttleTimeMs: 0,
    groups: (req.groups as string[]).map((g) => {
      const d = ctx.groups.describe(ctx.tenant, g);
      return d.groupState === 'Dead' && stored.has(g) ? { ...d, groupState: 'Empty', protocolType: 'consumer' } : d;
    }),
  };
};

const listGroups: Handler = async (req, _version, ctx) => {
  const filter = (req.statesFilter ?? []) as string[];
  const live = ctx.groups.list(ctx.tenant);
  const known = new Set(live.map((g) => g.groupId));
  const stored = (await ctx.store.listGroups(ctx.tenant)).filter((g) => !known.has(g))
    .map((groupId) => ({ groupId, protocolType: 'consumer', groupState: 'Empty' }));
  return {
    throttleTimeMs: 0, errorCode: 0,
    groups: [...live, ...stored].filter((g) => filter.length === 0 || filter.includes(g.groupState)),
  };
};

/** Group API handlers by API key. */
export const GROUP_HANDLERS: { [apiKey: number]: Handler } = {
  8: offsetCommit, 9: offsetFetch, 11: joinGroup, 12: heartbeat, 13: leaveGroup, 14: syncGroup, 15: describeGroups, 16: listGroups,
};
