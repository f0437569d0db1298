/**
 * The admin calls an app rarely makes, loaded on their first use (see admin.ts): record
 * deletion, configs, offsets by timestamp, group administration and committed offsets, and
 * lanes' log tools (segments, cleaner runs). Each takes the admin's broker (with its retry
 * and request layer) and the call's argument, and answers as the Admin method does.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { BrokerApi } from '../../protocol/broker-api.js';
import { parseOffset } from '../offsets.js';
import type { Admin } from './admin.js';

/** KafkaJS's ResourceTypes.TOPIC. */
const TOPIC = 2;

/** admin.deleteRecords / deleteTopicRecords. */
export async function deleteRecords(b: BrokerApi, { topic, partitions }: Parameters<Admin['deleteRecords']>[0]): Promise<void> {
  if (!Array.isArray(partitions)) throw new InvalidArgumentError('deleteTopicRecords needs partitions: [{ partition, offset }]');
  const list = partitions.map((p, i) => ({ partition: p.partition, offset: p.offset === '-1' ? -1 : parseOffset(p.offset, `partitions[${i}].offset`) }));
  await b.deleteRecords(topic, list);
}

/** admin.describeConfigs. */
export async function describeConfigs(b: BrokerApi, { resources }: Parameters<Admin['describeConfigs']>[0]): ReturnType<Admin['describeConfigs']> {
  const out = [];
  for (const r of resources) {
    const entries = (await b.describeConfigs(r.name)).filter((e) => !r.configNames || r.configNames.includes(e.name));
    out.push({ resourceName: r.name, resourceType: TOPIC, errorCode: 0, configEntries: entries.map((e) => ({ ...e, configName: e.name, configValue: e.value, readOnly: false })) });
  }
  return { resources: out };
}

/** admin.alterConfigs: the broker checks every resource before any is changed. */
export async function alterConfigs(b: BrokerApi, { resources, validateOnly = false }: Parameters<Admin['alterConfigs']>[0]): Promise<void> {
  for (const r of resources) await b.alterConfigs(r.name, r.configEntries, true);
  if (!validateOnly) for (const r of resources) await b.alterConfigs(r.name, r.configEntries);
}

/** admin.describeGroups, in KafkaJS's shape (assignments as plain data). */
export async function describeGroups(b: BrokerApi, groupIds: string[]): ReturnType<Admin['describeGroups']> {
  if (!Array.isArray(groupIds)) throw new InvalidArgumentError('describeGroups takes groupIds: string[]');
  return {
    groups: (await b.describeGroups(groupIds)).map((g) => ({
      groupId: g.groupId, errorCode: 0, state: g.state, protocol: g.protocol, protocolType: g.protocolType, generationId: g.generationId,
      members: g.members.map((m) => ({
        memberId: m.memberId, clientId: m.clientId, clientHost: '', groupInstanceId: m.groupInstanceId,
        memberMetadata: { topics: m.topics }, memberAssignment: m.assignment,
      })),
    })),
  };
}

/** admin.deleteGroups. */
export async function deleteGroups(b: BrokerApi, groupIds: string[]): ReturnType<Admin['deleteGroups']> {
  if (!Array.isArray(groupIds)) throw new InvalidArgumentError('deleteGroups takes groupIds: string[]');
  await b.deleteGroups(groupIds);
  return groupIds.map((groupId) => ({ groupId, errorCode: 0 }));
}

/** Throws InvalidArgumentError unless `groupId` is a non-empty string (KafkaJS: "Invalid groupId"). */
function checkGroupId(groupId: unknown, call: string): void {
  if (typeof groupId !== 'string' || groupId === '') throw new InvalidArgumentError(`${call}: groupId must be a non-empty string; got ${JSON.stringify(groupId)}`, { details: { field: 'groupId' } });
}

/** admin.setOffsets: commits as admin (the group must have no active members). */
export async function setOffsets(b: BrokerApi, { groupId, topic, partitions }: Parameters<Admin['setOffsets']>[0]): Promise<void> {
  checkGroupId(groupId, 'setOffsets');
  if (!Array.isArray(partitions)) throw new InvalidArgumentError('setOffsets needs partitions: [{ partition, offset }]');
  const offsets = partitions.map((p, i) => ({ topic, partition: p.partition, offset: parseOffset(p.offset, `partitions[${i}].offset`) }));
  await b.commitOffsets({ groupId, memberId: '', generationId: -1, offsets });
}

/** admin.resetOffsets: to the earliest (or latest) offsets of the topic. */
export async function resetOffsets(b: BrokerApi, { groupId, topic, earliest = false }: Parameters<Admin['resetOffsets']>[0]): Promise<void> {
  checkGroupId(groupId, 'resetOffsets');
  const marks = await b.listOffsets(topic);
  await b.commitOffsets({ groupId, memberId: '', generationId: -1, offsets: marks.map((m) => ({ topic, partition: m.partition, offset: earliest ? m.low : m.high })) });
}

/** admin.fetchTopicOffsetsByTimestamp: per partition, the first offset at or after `timestamp` (default now). */
export async function fetchTopicOffsetsByTimestamp(b: BrokerApi, topic: string, timestamp?: number): ReturnType<Admin['fetchTopicOffsetsByTimestamp']> {
  return (await b.offsetsForTimestamp(topic, timestamp ?? Date.now())).map((r) => ({ partition: r.partition, offset: String(r.offset) }));
}

/** admin.describeSegments (lanes). */
export async function describeSegments(b: BrokerApi, { topic, partition }: Parameters<Admin['describeSegments']>[0]): ReturnType<Admin['describeSegments']> {
  return b.segments(topic, partition);
}

/** admin.runLogCleaner (lanes). */
export async function runLogCleaner(b: BrokerApi, o: Parameters<Admin['runLogCleaner']>[0] = {}): ReturnType<Admin['runLogCleaner']> {
  return b.runLogCleaner(o.topics);
}

/** admin.listGroups. */
export async function listGroups(b: BrokerApi): ReturnType<Admin['listGroups']> {
  return { groups: (await b.listGroups()).map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })) };
}

/** admin.fetchOffsets: a group's committed offsets per topic (every topic it committed on when `topics` is not given). */
export async function fetchOffsets(b: BrokerApi, { groupId, topics }: Parameters<Admin['fetchOffsets']>[0]): ReturnType<Admin['fetchOffsets']> {
  checkGroupId(groupId, 'fetchOffsets');
  if (topics !== undefined && !Array.isArray(topics)) throw new InvalidArgumentError('fetchOffsets: topics must be an array of topic names', { details: { field: 'topics' } });
  const names = topics ?? [...new Set((await b.fetchOffsets(groupId)).map((o) => o.topic))];
  const list = await b.fetchOffsets(groupId, names);
  return names.map((topic) => ({
    topic,
    partitions: list.filter((o) => o.topic === topic).map((o) => ({ partition: o.partition, offset: String(o.offset), metadata: o.metadata })),
  }));
}
