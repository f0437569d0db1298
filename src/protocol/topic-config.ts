/**
 * Per-topic configs with Kafka's names, parsed and validated in one place, by the broker (clients
 * send configs as given and get its InvalidConfigError back). Unknown names and bad values are
 * refused with InvalidConfigError naming the entry.
 */
import { InvalidConfigError } from '../errors.js';
import type { ConfigEntry } from '../types.js';
import type { TimestampType } from './record-batch.js';

/** Cleanup policies, as Kafka's `cleanup.policy`. */
export interface CleanupPolicy {
  delete: boolean;
  compact: boolean;
}

/** A topic's parsed configs. */
export interface TopicConfig {
  /** retention.ms: delete sealed segments whose newest record is older; -1 keeps forever. */
  retentionMs: number;
  /** retention.bytes: per partition; -1 is unlimited. */
  retentionBytes: number;
  cleanupPolicy: CleanupPolicy;
  /** delete.retention.ms: how long a tombstone survives after the cleaner first processed it. */
  deleteRetentionMs: number;
  /** segment.bytes: roll the active segment when the next batch would pass this size. */
  segmentBytes: number;
  /** segment.ms: roll the active segment when it is older than this. */
  segmentMs: number;
  /** max.message.bytes: the largest record accepted. */
  maxMessageBytes: number;
  /** message.timestamp.type. */
  timestampType: TimestampType;
  /**
   * sync.retention.unreplicated: what retention does with sealed segments the sync replica has
   * not acknowledged yet, when sync is on: 'keep' them (default) or 'delete' them as usual.
   */
  syncRetentionUnreplicated: 'keep' | 'delete';
}

/** Defaults, sized for a browser: small segments so sync ships them often. */
export const DEFAULT_TOPIC_CONFIG: Readonly<TopicConfig> = Object.freeze({
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  cleanupPolicy: Object.freeze({ delete: true, compact: false }),
  deleteRetentionMs: 24 * 3600 * 1000,
  segmentBytes: 1024 * 1024,
  segmentMs: 3600 * 1000,
  maxMessageBytes: 1024 * 1024,
  timestampType: 'CreateTime',
  syncRetentionUnreplicated: 'keep',
});

/** Config names lanes knows, for describeConfigs. */
export const TOPIC_CONFIG_NAMES = [
  'retention.ms', 'retention.bytes', 'cleanup.policy', 'delete.retention.ms',
  'segment.bytes', 'segment.ms', 'max.message.bytes', 'message.timestamp.type', 'sync.retention.unreplicated',
] as const;

/** A decimal integer as Kafka's Long.parseLong reads it after trimming ("1e3", "0x10", "1.0" are not). */
function int(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new InvalidConfigError(`config ${name}=${JSON.stringify(value)} must be an integer >= ${min}`, { details: { name, value } });
  }
  return n;
}

/** Applies config entries over a base config; throws InvalidConfigError for unknown names or bad values. */
export function parseTopicConfig(entries: readonly ConfigEntry[] | undefined, base: TopicConfig = DEFAULT_TOPIC_CONFIG): TopicConfig {
  const c: TopicConfig = { ...base, cleanupPolicy: { ...base.cleanupPolicy } };
  if (entries === undefined) return c;
  if (!Array.isArray(entries)) throw new InvalidConfigError('configEntries must be an array of { name, value }');
  for (const e of entries) {
    if (!e || typeof e.name !== 'string') throw new InvalidConfigError('a config entry needs a string name', { details: { entry: e as unknown } });
    const value = String(e.value);
    switch (e.name) {
      case 'retention.ms': c.retentionMs = value === '-1' ? -1 : int(e.name, value, 0); break;
      case 'retention.bytes': c.retentionBytes = value === '-1' ? -1 : int(e.name, value, 0); break;
      case 'delete.retention.ms': c.deleteRetentionMs = int(e.name, value, 0); break;
      case 'segment.bytes': c.segmentBytes = int(e.name, value, 1); break;
      case 'segment.ms': c.segmentMs = int(e.name, value, 1); break;
      case 'max.message.bytes': c.maxMessageBytes = int(e.name, value, 1); break;
      case 'message.timestamp.type':
        if (value !== 'CreateTime' && value !== 'LogAppendTime') {
          throw new InvalidConfigError(`config message.timestamp.type must be CreateTime or LogAppendTime; got ${JSON.stringify(value)}`, { details: { name: e.name, value } });
        }
        c.timestampType = value;
        break;
      case 'sync.retention.unreplicated':
        if (value !== 'keep' && value !== 'delete') {
          throw new InvalidConfigError(`config sync.retention.unreplicated must be keep or delete; got ${JSON.stringify(value)}`, { details: { name: e.name, value } });
        }
        c.syncRetentionUnreplicated = value;
        break;
      case 'cleanup.policy': {
        const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
        if (parts.length === 0 || parts.some((p) => p !== 'delete' && p !== 'compact')) {
          throw new InvalidConfigError(`config cleanup.policy must be delete, compact or compact,delete; got ${JSON.stringify(value)}`, { details: { name: e.name, value } });
        }
        c.cleanupPolicy = { delete: parts.includes('delete'), compact: parts.includes('compact') };
        break;
      }
      default:
        throw new InvalidConfigError(`unknown topic config ${JSON.stringify(e.name)}; known: ${TOPIC_CONFIG_NAMES.join(', ')}`, { details: { name: e.name } });
    }
  }
  return c;
}

/** A config as KafkaJS's describeConfigs entries. */
export function topicConfigEntries(c: TopicConfig): ConfigEntry[] {
  const policy = [c.cleanupPolicy.compact ? 'compact' : '', c.cleanupPolicy.delete ? 'delete' : ''].filter(Boolean).join(',');
  return [
    { name: 'retention.ms', value: String(c.retentionMs) },
    { name: 'retention.bytes', value: String(c.retentionBytes) },
    { name: 'cleanup.policy', value: policy },
    { name: 'delete.retention.ms', value: String(c.deleteRetentionMs) },
    { name: 'segment.bytes', value: String(c.segmentBytes) },
    { name: 'segment.ms', value: String(c.segmentMs) },
    { name: 'max.message.bytes', value: String(c.maxMessageBytes) },
    { name: 'message.timestamp.type', value: c.timestampType },
    { name: 'sync.retention.unreplicated', value: c.syncRetentionUnreplicated ?? 'keep' },
  ];
}

/** A config as admin.describeConfigs shows it: Kafka's names, each marked when it has its default value. */
export function describeTopicConfig(c: TopicConfig): (ConfigEntry & { isDefault: boolean })[] {
  const defaults = new Map(topicConfigEntries(DEFAULT_TOPIC_CONFIG).map((e) => [e.name, e.value]));
  return topicConfigEntries(c).map((e) => ({ ...e, isDefault: defaults.get(e.name) === e.value }));
}
