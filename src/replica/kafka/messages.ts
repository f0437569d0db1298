/**
 * Kafka message schemas for the APIs and versions this listener speaks [pure data]: every
 * field with the versions it exists in, the versions it may be null in, its tag in flexible
 * versions and its default. Transcribed from the Kafka protocol's message definitions
 * (clients/src/main/resources/common/message/*.json), trimmed to the supported versions.
 * Field names are the definitions' names in camelCase. Read by ./schema.ts.
 */
import type { MessageSpec } from './schema.js';

/** Produce request, versions 3-7. */
export const ProduceRequest: MessageSpec = {
  apiKey: 0, versions: [3, 7], flexible: [9, 32767],
  fields: [
    { n: 'transactionalId', t: 'string', v: [3, 32767], nv: [3, 32767], d: null },
    { n: 'acks', t: 'int16', v: [0, 32767] },
    { n: 'timeoutMs', t: 'int32', v: [0, 32767] },
    { n: 'topicData', t: '[]TopicProduceData', v: [0, 32767], f: [{ n: 'name', t: 'string', v: [0, 32767] }, { n: 'partitionData', t: '[]PartitionProduceData', v: [0, 32767], f: [{ n: 'index', t: 'int32', v: [0, 32767] }, { n: 'records', t: 'records', v: [0, 32767], nv: [0, 32767] }] }] },
  ],
};

/** Produce response, versions 3-7. */
export const ProduceResponse: MessageSpec = {
  apiKey: 0, versions: [3, 7], flexible: [9, 32767],
  fields: [
    { n: 'responses', t: '[]TopicProduceResponse', v: [0, 32767], f: [{ n: 'name', t: 'string', v: [0, 32767] }, { n: 'partitionResponses', t: '[]PartitionProduceResponse', v: [0, 32767], f: [{ n: 'index', t: 'int32', v: [0, 32767] }, { n: 'errorCode', t: 'int16', v: [0, 32767] }, { n: 'baseOffset', t: 'int64', v: [0, 32767] }, { n: 'logAppendTimeMs', t: 'int64', v: [2, 32767], d: -1 }, { n: 'logStartOffset', t: 'int64', v: [5, 32767], d: -1 }] }] },
    { n: 'throttleTimeMs', t: 'int32', v: [1, 32767], d: 0 },
  ],
};

/** Fetch request, versions 4-11. */
export const FetchRequest: MessageSpec = {
  apiKey: 1, versions: [4, 11], flexible: [12, 32767],
  fields: [
    { n: 'replicaId', t: 'int32', v: [0, 14], d: -1 },
    { n: 'maxWaitMs', t: 'int32', v: [0, 32767] },
    { n: 'minBytes', t: 'int32', v: [0, 32767] },
    { n: 'maxBytes', t: 'int32', v: [3, 32767], d: 2147483647 },
    { n: 'isolationLevel', t: 'int8', v: [4, 32767], d: 0 },
    { n: 'sessionId', t: 'int32', v: [7, 32767], d: 0 },
    { n: 'sessionEpoch', t: 'int32', v: [7, 32767], d: -1 },
    { n: 'topics', t: '[]FetchTopic', v: [0, 32767], f: [{ n: 'topic', t: 'string', v: [0, 12] }, { n: 'partitions', t: '[]FetchPartition', v: [0, 32767], f: [{ n: 'partition', t: 'int32', v: [0, 32767] }, { n: 'currentLeaderEpoch', t: 'int32', v: [9, 32767], d: -1 }, { n: 'fetchOffset', t: 'int64', v: [0, 32767] }, { n: 'logStartOffset', t: 'int64', v: [5, 32767], d: -1 }, { n: 'partitionMaxBytes', t: 'int32', v: [0, 32767] }] }] },
    { n: 'forgottenTopicsData', t: '[]ForgottenTopic', v: [7, 32767], f: [{ n: 'topic', t: 'string', v: [7, 12] }, { n: 'partitions', t: '[]int32', v: [7, 32767] }] },
    { n: 'rackId', t: 'string', v: [11, 32767], d: "" },
  ],
};

/** Fetch response, versions 4-11. */
export const FetchResponse: MessageSpec = {
  apiKey: 1, versions: [4, 11], flexible: [12, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [1, 32767] },
    { n: 'errorCode', t: 'int16', v: [7, 32767] },
    { n: 'sessionId', t: 'int32', v: [7, 32767], d: 0 },
    { n: 'responses', t: '[]FetchableTopicResponse', v: [0, 32767], f: [{ n: 'topic', t: 'string', v: [0, 12] }, { n: 'partitions', t: '[]PartitionData', v: [0, 32767], f: [{ n: 'partitionIndex', t: 'int32', v: [0, 32767] }, { n: 'errorCode', t: 'int16', v: [0, 32767] }, { n: 'highWatermark', t: 'int64', v: [0, 32767] }, { n: 'lastStableOffset', t: 'int64', v: [4, 32767], d: -1 }, { n: 'logStartOffset', t: 'int64', v: [5, 32767], d: -1 }, { n: 'abortedTransactions', t: '[]AbortedTransaction', v: [4, 32767], nv: [4, 32767], f: [{ n: 'producerId', t: 'int64', v: [4, 32767] }, { n: 'firstOffset', t: 'int64', v: [4, 32767] }] }, { n: 'preferredReadReplica', t: 'int32', v: [11, 32767], d: -1 }, { n: 'records', t: 'records', v: [0, 32767], nv: [0, 32767] }] }] },
  ],
};

/** ListOffsets request, versions 1-3. */
export const ListOffsetsRequest: MessageSpec = {
  apiKey: 2, versions: [1, 3], flexible: [6, 32767],
  fields: [
    { n: 'replicaId', t: 'int32', v: [0, 32767] },
    { n: 'isolationLevel', t: 'int8', v: [2, 32767] },
    { n: 'topics', t: '[]ListOffsetsTopic', v: [0, 32767], f: [{ n: 'name', t: 'string', v: [0, 32767] }, { n: 'partitions', t: '[]ListOffsetsPartition', v: [0, 32767], f: [{ n: 'partitionIndex', t: 'int32', v: [0, 32767] }, { n: 'timestamp', t: 'int64', v: [0, 32767] }] }] },
  ],
};

/** ListOffsets response, versions 1-3. */
export const ListOffsetsResponse: MessageSpec = {
  apiKey: 2, versions: [1, 3], flexible: [6, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [2, 32767] },
    { n: 'topics', t: '[]ListOffsetsTopicResponse', v: [0, 32767], f: [{ n: 'name', t: 'string', v: [0, 32767] }, { n: 'partitions', t: '[]ListOffsetsPartitionResponse', v: [0, 32767], f: [{ n: 'partitionIndex', t: 'int32', v: [0, 32767] }, { n: 'errorCode', t: 'int16', v: [0, 32767] }, { n: 'timestamp', t: 'int64', v: [1, 32767], d: -1 }, { n: 'offset', t: 'int64', v: [1, 32767], d: -1 }] }] },
  ],
};

/** Metadata request, versions 0-6. */
export const MetadataRequest: MessageSpec = {
  apiKey: 3, versions: [0, 6], flexible: [9, 32767],
  fields: [
    { n: 'topics', t: '[]MetadataRequestTopic', v: [0, 32767], nv: [1, 32767], f: [{ n: 'name', t: 'string', v: [0, 32767] }] },
    { n: 'allowAutoTopicCreation', t: 'bool', v: [4, 32767], d: true },
  ],
};

/** Metadata response, versions 0-6. */
export const MetadataResponse: MessageSpec = {
  apiKey: 3, versions: [0, 6], flexible: [9, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [3, 32767] },
    { n: 'brokers', t: '[]MetadataResponseBroker', v: [0, 32767], f: [{ n: 'nodeId', t: 'int32', v: [0, 32767] }, { n: 'host', t: 'string', v: [0, 32767] }, { n: 'port', t: 'int32', v: [0, 32767] }, { n: 'rack', t: 'string', v: [1, 32767], nv: [1, 32767], d: null }] },
    { n: 'clusterId', t: 'string', v: [2, 32767], nv: [2, 32767], d: null },
    { n: 'controllerId', t: 'int32', v: [1, 32767], d: -1 },
    { n: 'topics', t: '[]MetadataResponseTopic', v: [0, 32767], f: [{ n: 'errorCode', t: 'int16', v: [0, 32767] }, { n: 'name', t: 'string', v: [0, 32767] }, { n: 'isInternal', t: 'bool', v: [1, 32767], d: false }, { n: 'partitions', t: '[]MetadataResponsePartition', v: [0, 32767], f: [{ n: 'errorCode', t: 'int16', v: [0, 32767] }, { n: 'partitionIndex', t: 'int32', v: [0, 32767] }, { n: 'leaderId', t: 'int32', v: [0, 32767] }, { n: 'replicaNodes', t: '[]int32', v: [0, 32767] }, { n: 'isrNodes', t: '[]int32', v: [0, 32767] }, { n: 'offlineReplicas', t: '[]int32', v: [5, 32767] }] }] },
  ],
};

/** OffsetCommit request, versions 0-7. */
export const OffsetCommitRequest: MessageSpec = {
  apiKey: 8, versions: [0, 7], flexible: [8, 32767],
  fields: [
    { n: 'groupId', t: 'string', v: [0, 32767] },
    { n: 'generationIdOrMemberEpoch', t: 'int32', v: [1, 32767], d: -1 },
    { n: 'memberId', t: 'string', v: [1, 32767] },
    { n: 'groupInstanceId', t: 'string', v: [7, 32767], nv: [7, 32767], d: null },
    { n: 'retentionTimeMs', t: 'int64', v: [2, 4], d: -1 },
    { n: 'topics', t: '[]OffsetCommitRequestTopic', v: [0, 32767], f: [{ n: 'name', t: 'string', v: [0, 32767] }, { n: 'partitions', t: '[]OffsetCommitRequestPartition', v: [0, 32767], f: [{ n: 'partitionIndex', t: 'int32', v: [0, 32767] }, { n: 'committedOffset', t: 'int64', v: [0, 32767] }, { n: 'committedLeaderEpoch', t: 'int32', v: [6, 32767], d: -1 }, { n: 'commitTimestamp', t: 'int64', v: [1, 1], d: -1 }, { n: 'committedMetadata', t: 'string', v: [0, 32767], nv: [0, 32767] }] }] },
  ],
};

/** OffsetCommit response, versions 0-7. */
export const OffsetCommitResponse: MessageSpec = {
  apiKey: 8, versions: [0, 7], flexible: [8, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [3, 32767] },
    { n: 'topics', t: '[]OffsetCommitResponseTopic', v: [0, 32767], f: [{ n: 'name', t: 'string', v: [0, 32767] }, { n: 'partitions', t: '[]OffsetCommitResponsePartition', v: [0, 32767], f: [{ n: 'partitionIndex', t: 'int32', v: [0, 32767] }, { n: 'errorCode', t: 'int16', v: [0, 32767] }] }] },
  ],
};

/** OffsetFetch request, versions 0-7. */
export const OffsetFetchRequest: MessageSpec = {
  apiKey: 9, versions: [0, 7], flexible: [6, 32767],
  fields: [
    { n: 'groupId', t: 'string', v: [0, 7] },
    { n: 'topics', t: '[]OffsetFetchRequestTopic', v: [0, 7], nv: [2, 7], f: [{ n: 'name', t: 'string', v: [0, 7] }, { n: 'partitionIndexes', t: '[]int32', v: [0, 7] }] },
    { n: 'requireStable', t: 'bool', v: [7, 32767], d: false },
  ],
};

/** OffsetFetch response, versions 0-7. */
export const OffsetFetchResponse: MessageSpec = {
  apiKey: 9, versions: [0, 7], flexible: [6, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [3, 32767] },
    { n: 'topics', t: '[]OffsetFetchResponseTopic', v: [0, 7], f: [{ n: 'name', t: 'string', v: [0, 7] }, { n: 'partitions', t: '[]OffsetFetchResponsePartition', v: [0, 7], f: [{ n: 'partitionIndex', t: 'int32', v: [0, 7] }, { n: 'committedOffset', t: 'int64', v: [0, 7] }, { n: 'committedLeaderEpoch', t: 'int32', v: [5, 7], d: -1 }, { n: 'metadata', t: 'string', v: [0, 7], nv: [0, 7] }, { n: 'errorCode', t: 'int16', v: [0, 7] }] }] },
    { n: 'errorCode', t: 'int16', v: [2, 7], d: 0 },
  ],
};

/** FindCoordinator request, versions 0-2. */
export const FindCoordinatorRequest: MessageSpec = {
  apiKey: 10, versions: [0, 2], flexible: [3, 32767],
  fields: [
    { n: 'key', t: 'string', v: [0, 3] },
    { n: 'keyType', t: 'int8', v: [1, 32767], d: 0 },
  ],
};

/** FindCoordinator response, versions 0-2. */
export const FindCoordinatorResponse: MessageSpec = {
  apiKey: 10, versions: [0, 2], flexible: [3, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [1, 32767] },
    { n: 'errorCode', t: 'int16', v: [0, 3] },
    { n: 'errorMessage', t: 'string', v: [1, 3], nv: [1, 3] },
    { n: 'nodeId', t: 'int32', v: [0, 3] },
    { n: 'host', t: 'string', v: [0, 3] },
    { n: 'port', t: 'int32', v: [0, 3] },
  ],
};

/** JoinGroup request, versions 0-5. */
export const JoinGroupRequest: MessageSpec = {
  apiKey: 11, versions: [0, 5], flexible: [6, 32767],
  fields: [
    { n: 'groupId', t: 'string', v: [0, 32767] },
    { n: 'sessionTimeoutMs', t: 'int32', v: [0, 32767] },
    { n: 'rebalanceTimeoutMs', t: 'int32', v: [1, 32767], d: -1 },
    { n: 'memberId', t: 'string', v: [0, 32767] },
    { n: 'groupInstanceId', t: 'string', v: [5, 32767], nv: [5, 32767], d: null },
    { n: 'protocolType', t: 'string', v: [0, 32767] },
    { n: 'protocols', t: '[]JoinGroupRequestProtocol', v: [0, 32767], f: [{ n: 'name', t: 'string', v: [0, 32767] }, { n: 'metadata', t: 'bytes', v: [0, 32767] }] },
  ],
};

/** JoinGroup response, versions 0-5. */
export const JoinGroupResponse: MessageSpec = {
  apiKey: 11, versions: [0, 5], flexible: [6, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [2, 32767] },
    { n: 'errorCode', t: 'int16', v: [0, 32767] },
    { n: 'generationId', t: 'int32', v: [0, 32767], d: -1 },
    { n: 'protocolName', t: 'string', v: [0, 32767] },
    { n: 'leader', t: 'string', v: [0, 32767] },
    { n: 'memberId', t: 'string', v: [0, 32767] },
    { n: 'members', t: '[]JoinGroupResponseMember', v: [0, 32767], f: [{ n: 'memberId', t: 'string', v: [0, 32767] }, { n: 'groupInstanceId', t: 'string', v: [5, 32767], nv: [5, 32767], d: null }, { n: 'metadata', t: 'bytes', v: [0, 32767] }] },
  ],
};

/** Heartbeat request, versions 0-3. */
export const HeartbeatRequest: MessageSpec = {
  apiKey: 12, versions: [0, 3], flexible: [4, 32767],
  fields: [
    { n: 'groupId', t: 'string', v: [0, 32767] },
    { n: 'generationId', t: 'int32', v: [0, 32767] },
    { n: 'memberId', t: 'string', v: [0, 32767] },
    { n: 'groupInstanceId', t: 'string', v: [3, 32767], nv: [3, 32767], d: null },
  ],
};

/** Heartbeat response, versions 0-3. */
export const HeartbeatResponse: MessageSpec = {
  apiKey: 12, versions: [0, 3], flexible: [4, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [1, 32767] },
    { n: 'errorCode', t: 'int16', v: [0, 32767] },
  ],
};

/** LeaveGroup request, versions 0-3. */
export const LeaveGroupRequest: MessageSpec = {
  apiKey: 13, versions: [0, 3], flexible: [4, 32767],
  fields: [
    { n: 'groupId', t: 'string', v: [0, 32767] },
    { n: 'memberId', t: 'string', v: [0, 2] },
    { n: 'members', t: '[]MemberIdentity', v: [3, 32767], f: [{ n: 'memberId', t: 'string', v: [3, 32767] }, { n: 'groupInstanceId', t: 'string', v: [3, 32767], nv: [3, 32767], d: null }] },
  ],
};

/** LeaveGroup response, versions 0-3. */
export const LeaveGroupResponse: MessageSpec = {
  apiKey: 13, versions: [0, 3], flexible: [4, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [1, 32767] },
    { n: 'errorCode', t: 'int16', v: [0, 32767] },
    { n: 'members', t: '[]MemberResponse', v: [3, 32767], f: [{ n: 'memberId', t: 'string', v: [3, 32767] }, { n: 'groupInstanceId', t: 'string', v: [3, 32767], nv: [3, 32767] }, { n: 'errorCode', t: 'int16', v: [3, 32767] }] },
  ],
};

/** SyncGroup request, versions 0-3. */
export const SyncGroupRequest: MessageSpec = {
  apiKey: 14, versions: [0, 3], flexible: [4, 32767],
  fields: [
    { n: 'groupId', t: 'string', v: [0, 32767] },
    { n: 'generationId', t: 'int32', v: [0, 32767] },
    { n: 'memberId', t: 'string', v: [0, 32767] },
    { n: 'groupInstanceId', t: 'string', v: [3, 32767], nv: [3, 32767], d: null },
    { n: 'assignments', t: '[]SyncGroupRequestAssignment', v: [0, 32767], f: [{ n: 'memberId', t: 'string', v: [0, 32767] }, { n: 'assignment', t: 'bytes', v: [0, 32767] }] },
  ],
};

/** SyncGroup response, versions 0-3. */
export const SyncGroupResponse: MessageSpec = {
  apiKey: 14, versions: [0, 3], flexible: [4, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [1, 32767] },
    { n: 'errorCode', t: 'int16', v: [0, 32767] },
    { n: 'assignment', t: 'bytes', v: [0, 32767] },
  ],
};

/** DescribeGroups request, versions 0-4. */
export const DescribeGroupsRequest: MessageSpec = {
  apiKey: 15, versions: [0, 4], flexible: [5, 32767],
  fields: [
    { n: 'groups', t: '[]string', v: [0, 32767] },
    { n: 'includeAuthorizedOperations', t: 'bool', v: [3, 32767] },
  ],
};

/** DescribeGroups response, versions 0-4. */
export const DescribeGroupsResponse: MessageSpec = {
  apiKey: 15, versions: [0, 4], flexible: [5, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [1, 32767] },
    { n: 'groups', t: '[]DescribedGroup', v: [0, 32767], f: [{ n: 'errorCode', t: 'int16', v: [0, 32767] }, { n: 'groupId', t: 'string', v: [0, 32767] }, { n: 'groupState', t: 'string', v: [0, 32767] }, { n: 'protocolType', t: 'string', v: [0, 32767] }, { n: 'protocolData', t: 'string', v: [0, 32767] }, { n: 'members', t: '[]DescribedGroupMember', v: [0, 32767], f: [{ n: 'memberId', t: 'string', v: [0, 32767] }, { n: 'groupInstanceId', t: 'string', v: [4, 32767], nv: [4, 32767], d: null }, { n: 'clientId', t: 'string', v: [0, 32767] }, { n: 'clientHost', t: 'string', v: [0, 32767] }, { n: 'memberMetadata', t: 'bytes', v: [0, 32767] }, { n: 'memberAssignment', t: 'bytes', v: [0, 32767] }] }, { n: 'authorizedOperations', t: 'int32', v: [3, 32767], d: -2147483648 }] },
  ],
};

/** ListGroups request, versions 0-4. */
export const ListGroupsRequest: MessageSpec = {
  apiKey: 16, versions: [0, 4], flexible: [3, 32767],
  fields: [
    { n: 'statesFilter', t: '[]string', v: [4, 32767] },
  ],
};

/** ListGroups response, versions 0-4. */
export const ListGroupsResponse: MessageSpec = {
  apiKey: 16, versions: [0, 4], flexible: [3, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [1, 32767] },
    { n: 'errorCode', t: 'int16', v: [0, 32767] },
    { n: 'groups', t: '[]ListedGroup', v: [0, 32767], f: [{ n: 'groupId', t: 'string', v: [0, 32767] }, { n: 'protocolType', t: 'string', v: [0, 32767] }, { n: 'groupState', t: 'string', v: [4, 32767] }] },
  ],
};

/** SaslHandshake request, versions 0-1. */
export const SaslHandshakeRequest: MessageSpec = {
  apiKey: 17, versions: [0, 1], flexible: null,
  fields: [
    { n: 'mechanism', t: 'string', v: [0, 32767] },
  ],
};

/** SaslHandshake response, versions 0-1. */
export const SaslHandshakeResponse: MessageSpec = {
  apiKey: 17, versions: [0, 1], flexible: null,
  fields: [
    { n: 'errorCode', t: 'int16', v: [0, 32767] },
    { n: 'mechanisms', t: '[]string', v: [0, 32767] },
  ],
};

/** ApiVersions request, versions 0-3. */
export const ApiVersionsRequest: MessageSpec = {
  apiKey: 18, versions: [0, 3], flexible: [3, 32767],
  fields: [
    { n: 'clientSoftwareName', t: 'string', v: [3, 32767] },
    { n: 'clientSoftwareVersion', t: 'string', v: [3, 32767] },
  ],
};

/** ApiVersions response, versions 0-3. */
export const ApiVersionsResponse: MessageSpec = {
  apiKey: 18, versions: [0, 3], flexible: [3, 32767],
  fields: [
    { n: 'errorCode', t: 'int16', v: [0, 32767] },
    { n: 'apiKeys', t: '[]ApiVersion', v: [0, 32767], f: [{ n: 'apiKey', t: 'int16', v: [0, 32767] }, { n: 'minVersion', t: 'int16', v: [0, 32767] }, { n: 'maxVersion', t: 'int16', v: [0, 32767] }] },
    { n: 'throttleTimeMs', t: 'int32', v: [1, 32767] },
    { n: 'supportedFeatures', t: '[]SupportedFeatureKey', v: [3, 32767], tag: 0, tv: [3, 32767], f: [{ n: 'name', t: 'string', v: [3, 32767] }, { n: 'minVersion', t: 'int16', v: [3, 32767] }, { n: 'maxVersion', t: 'int16', v: [3, 32767] }] },
    { n: 'finalizedFeaturesEpoch', t: 'int64', v: [3, 32767], tag: 1, tv: [3, 32767], d: -1 },
    { n: 'finalizedFeatures', t: '[]FinalizedFeatureKey', v: [3, 32767], tag: 2, tv: [3, 32767], f: [{ n: 'name', t: 'string', v: [3, 32767] }, { n: 'maxVersionLevel', t: 'int16', v: [3, 32767] }, { n: 'minVersionLevel', t: 'int16', v: [3, 32767] }] },
    { n: 'zkMigrationReady', t: 'bool', v: [3, 32767], tag: 3, tv: [3, 32767], d: false },
  ],
};

/** CreateTopics request, versions 0-4. */
export const CreateTopicsRequest: MessageSpec = {
  apiKey: 19, versions: [0, 4], flexible: [5, 32767],
  fields: [
    { n: 'topics', t: '[]CreatableTopic', v: [0, 32767], f: [{ n: 'name', t: 'string', v: [0, 32767] }, { n: 'numPartitions', t: 'int32', v: [0, 32767] }, { n: 'replicationFactor', t: 'int16', v: [0, 32767] }, { n: 'assignments', t: '[]CreatableReplicaAssignment', v: [0, 32767], f: [{ n: 'partitionIndex', t: 'int32', v: [0, 32767] }, { n: 'brokerIds', t: '[]int32', v: [0, 32767] }] }, { n: 'configs', t: '[]CreatableTopicConfig', v: [0, 32767], f: [{ n: 'name', t: 'string', v: [0, 32767] }, { n: 'value', t: 'string', v: [0, 32767], nv: [0, 32767] }] }] },
    { n: 'timeoutMs', t: 'int32', v: [0, 32767], d: 60000 },
    { n: 'validateOnly', t: 'bool', v: [1, 32767], d: false },
  ],
};

/** CreateTopics response, versions 0-4. */
export const CreateTopicsResponse: MessageSpec = {
  apiKey: 19, versions: [0, 4], flexible: [5, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [2, 32767] },
    { n: 'topics', t: '[]CreatableTopicResult', v: [0, 32767], f: [{ n: 'name', t: 'string', v: [0, 32767] }, { n: 'errorCode', t: 'int16', v: [0, 32767] }, { n: 'errorMessage', t: 'string', v: [1, 32767], nv: [0, 32767] }] },
  ],
};

/** InitProducerId request, versions 0-4. */
export const InitProducerIdRequest: MessageSpec = {
  apiKey: 22, versions: [0, 4], flexible: [2, 32767],
  fields: [
    { n: 'transactionalId', t: 'string', v: [0, 32767], nv: [0, 32767] },
    { n: 'transactionTimeoutMs', t: 'int32', v: [0, 32767] },
    { n: 'producerId', t: 'int64', v: [3, 32767], d: -1 },
    { n: 'producerEpoch', t: 'int16', v: [3, 32767], d: -1 },
  ],
};

/** InitProducerId response, versions 0-4. */
export const InitProducerIdResponse: MessageSpec = {
  apiKey: 22, versions: [0, 4], flexible: [2, 32767],
  fields: [
    { n: 'throttleTimeMs', t: 'int32', v: [0, 32767] },
    { n: 'errorCode', t: 'int16', v: [0, 32767] },
    { n: 'producerId', t: 'int64', v: [0, 32767], d: -1 },
    { n: 'producerEpoch', t: 'int16', v: [0, 32767] },
  ],
};

/** SaslAuthenticate request, versions 0-1. */
export const SaslAuthenticateRequest: MessageSpec = {
  apiKey: 36, versions: [0, 1], flexible: [2, 32767],
  fields: [
    { n: 'authBytes', t: 'bytes', v: [0, 32767] },
  ],
};

/** SaslAuthenticate response, versions 0-1. */
export const SaslAuthenticateResponse: MessageSpec = {
  apiKey: 36, versions: [0, 1], flexible: [2, 32767],
  fields: [
    { n: 'errorCode', t: 'int16', v: [0, 32767] },
    { n: 'errorMessage', t: 'string', v: [0, 32767], nv: [0, 32767] },
    { n: 'authBytes', t: 'bytes', v: [0, 32767] },
    { n: 'sessionLifetimeMs', t: 'int64', v: [1, 32767], d: 0 },
  ],
};

