import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors.js';
import { DEFAULT_TOPIC_CONFIG, parseTopicConfig, TOPIC_CONFIG_NAMES, topicConfigEntries } from '../../src/protocol/topic-config.js';

function refusal(entries: unknown): InvalidConfigError {
  try {
    parseTopicConfig(entries as never);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidConfigError);
    return e as InvalidConfigError;
  }
  throw new Error('expected a refusal');
}

describe('parseTopicConfig', () => {
  it('returns the defaults for no entries, as a copy', () => {
    const c = parseTopicConfig(undefined);
    expect(c).toEqual(DEFAULT_TOPIC_CONFIG);
    c.cleanupPolicy.compact = true;
    expect(DEFAULT_TOPIC_CONFIG.cleanupPolicy.compact).toBe(false);
  });

  it('parses every known config', () => {
    const c = parseTopicConfig([
      { name: 'retention.ms', value: '-1' }, { name: 'retention.bytes', value: '4096' },
      { name: 'cleanup.policy', value: 'compact' }, { name: 'delete.retention.ms', value: '0' },
      { name: 'segment.bytes', value: '1' }, { name: 'segment.ms', value: '60000' },
      { name: 'max.message.bytes', value: '100' }, { name: 'message.timestamp.type', value: 'LogAppendTime' },
      { name: 'sync.retention.unreplicated', value: 'delete' },
    ]);
    expect(c).toEqual({
      retentionMs: -1, retentionBytes: 4096, cleanupPolicy: { delete: false, compact: true }, deleteRetentionMs: 0,
      segmentBytes: 1, segmentMs: 60000, maxMessageBytes: 100, timestampType: 'LogAppendTime', syncRetentionUnreplicated: 'delete',
    });
  });

  it('refuses a sync.retention.unreplicated other than keep or delete, naming it', () => {
    expect(parseTopicConfig([{ name: 'sync.retention.unreplicated', value: 'keep' }]).syncRetentionUnreplicated).toBe('keep');
    expect(() => parseTopicConfig([{ name: 'sync.retention.unreplicated', value: 'drop' }])).toThrow(/sync\.retention\.unreplicated must be keep or delete/);
  });

  it('reads integers as Kafka does (decimal digits, surrounding spaces trimmed) and refuses other number syntax', () => {
    expect(parseTopicConfig([{ name: 'segment.bytes', value: ' 4096 ' }]).segmentBytes).toBe(4096);
    expect(parseTopicConfig([{ name: 'retention.ms', value: '+5' }]).retentionMs).toBe(5);
    for (const value of ['1e3', '0x10', '1.0', '0b1', 'Infinity', '1_000']) {
      expect(refusal([{ name: 'max.message.bytes', value }]).message).toContain(`max.message.bytes=${JSON.stringify(value)}`);
    }
  });

  it('accepts both cleanup policies in either order', () => {
    for (const v of ['compact,delete', 'delete, compact']) {
      expect(parseTopicConfig([{ name: 'cleanup.policy', value: v }]).cleanupPolicy).toEqual({ delete: true, compact: true });
    }
    expect(parseTopicConfig([{ name: 'cleanup.policy', value: 'delete' }]).cleanupPolicy).toEqual({ delete: true, compact: false });
  });

  it('applies entries over a base config', () => {
    const base = parseTopicConfig([{ name: 'segment.bytes', value: '10' }]);
    const next = parseTopicConfig([{ name: 'retention.ms', value: '5' }], base);
    expect(next.segmentBytes).toBe(10);
    expect(next.retentionMs).toBe(5);
    expect(base.retentionMs).toBe(DEFAULT_TOPIC_CONFIG.retentionMs);
  });

  it('refuses an unknown config, naming it', () => {
    const e = refusal([{ name: 'retention.hours', value: '1' }]);
    expect(e.message).toContain('retention.hours');
    expect(e.details).toEqual({ name: 'retention.hours' });
  });

  const bad: [string, string][] = [
    ['segment.bytes', '0'], ['segment.bytes', 'abc'], ['segment.bytes', ''], ['segment.bytes', '1.5'],
    ['retention.ms', '-2'], ['retention.bytes', '-5'], ['delete.retention.ms', '-1'], ['segment.ms', '0'],
    ['max.message.bytes', '0'], ['cleanup.policy', 'forever'], ['cleanup.policy', ''], ['cleanup.policy', 'compact,never'],
    ['message.timestamp.type', 'Now'],
  ];
  for (const [name, value] of bad) {
    it(`refuses ${name}=${JSON.stringify(value)}, naming the entry`, () => {
      const e = refusal([{ name: 'segment.bytes', value: '100' }, { name, value }]);
      expect(e.message).toContain(name);
      expect(e.details.name).toBe(name);
    });
  }

  it('refuses entries that are not an array of named entries', () => {
    refusal('segment.bytes=1');
    refusal([{ value: '1' }]);
    refusal([null]);
  });
});

describe('topicConfigEntries', () => {
  it('lists every known name once and parses back to the same config', () => {
    const c = parseTopicConfig([{ name: 'cleanup.policy', value: 'compact,delete' }, { name: 'retention.bytes', value: '77' }]);
    const entries = topicConfigEntries(c);
    expect(entries.map((e) => e.name).sort()).toEqual([...TOPIC_CONFIG_NAMES].sort());
    expect(entries.find((e) => e.name === 'cleanup.policy')!.value).toBe('compact,delete');
    expect(parseTopicConfig(entries)).toEqual(c);
  });
});
