import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, logLevel, type LogEntry } from '../../src/index.js';
import { createLogger } from '../../src/client/logger.js';

afterEach(() => { vi.restoreAllMocks(); });

describe('logging (KafkaJS shape)', () => {
  it('exports KafkaJS levels', () => {
    expect(logLevel).toEqual({ NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 });
  });

  it('client.logger() writes through logCreator, filtered by logLevel, with namespaces and extra fields', () => {
    const entries: LogEntry[] = [];
    let createdWith: number | undefined;
    const client = createClient({ database: 'log-test', broker: 'in-page', logLevel: logLevel.WARN, logCreator: (level) => { createdWith = level; return (e) => entries.push(e); } });
    expect(createdWith).toBe(logLevel.WARN);
    const root = client.logger();
    root.info('hidden');
    root.warn('shown', { topic: 't' });
    root.namespace('App', logLevel.DEBUG).debug('namespaced debug');
    root.namespace('Quiet', logLevel.NOTHING).error('never');
    root.setLogLevel(logLevel.ERROR);
    root.warn('hidden after setLogLevel');
    root.error('boom');
    expect(entries.map((e) => [e.namespace, e.label, e.level, e.log.message])).toEqual([
      ['', 'WARN', 2, 'shown'], ['App', 'DEBUG', 5, 'namespaced debug'], ['', 'ERROR', 1, 'boom'],
    ]);
    expect(entries[0]!.log).toMatchObject({ logger: 'lanes', topic: 't' });
    expect(new Date(entries[0]!.log.timestamp).toISOString()).toBe(entries[0]!.log.timestamp);
  });

  it('the default writer prints KafkaJS JSON lines on the console by level', () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const log = createLogger();
    log.namespace('Consumer').info('Starting', { groupId: 'g' });
    log.error('bad');
    log.debug('below INFO: not printed');
    expect(JSON.parse(info.mock.calls[0]![0] as string)).toMatchObject({ level: 'INFO', logger: 'lanes', message: '[Consumer] Starting', groupId: 'g' });
    expect(JSON.parse(error.mock.calls[0]![0] as string)).toMatchObject({ level: 'ERROR', message: 'bad' });
    expect(info).toHaveBeenCalledTimes(1);
  });

  it('a writer that throws does not break the caller', () => {
    const log = createLogger(logLevel.INFO, () => () => { throw new Error('writer down'); });
    expect(() => log.info('x')).not.toThrow();
  });
});
