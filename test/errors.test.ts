import { describe, expect, it } from 'vitest';
import {
  BrokerUnavailableError, errorFromData, errorToData, IllegalGenerationError, LanesError, OffsetOutOfRangeError,
  RebalanceInProgressError, RecordTooLargeError, RequestTimeoutError, TopicNotFoundError,
} from '../src/errors.js';

describe('error type (KafkaJS) and cause', () => {
  it('carries KafkaJS type strings beside the code', () => {
    expect(new OffsetOutOfRangeError('x').type).toBe('OFFSET_OUT_OF_RANGE');
    expect(new RebalanceInProgressError('x').type).toBe('REBALANCE_IN_PROGRESS');
    expect(new IllegalGenerationError('x').type).toBe('ILLEGAL_GENERATION');
    expect(new TopicNotFoundError('x').type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(new RequestTimeoutError('x').type).toBe('REQUEST_TIMED_OUT');
    expect(new RecordTooLargeError('x')).toMatchObject({ code: 'RECORD_TOO_LARGE', type: 'MESSAGE_TOO_LARGE' });
  });

  it('keeps class, type and cause through the plain-data form', () => {
    const cause = new Error('disk on fire');
    const e = errorFromData(structuredClone(errorToData(new BrokerUnavailableError('open failed', { cause }))));
    expect(e).toBeInstanceOf(BrokerUnavailableError);
    expect(e.type).toBe('BROKER_NOT_AVAILABLE');
    expect(e.retriable).toBe(true);
    expect((e.cause as Error).message).toBe('disk on fire');
    const t = errorFromData(structuredClone(errorToData(new RequestTimeoutError('late'))));
    expect(t).toBeInstanceOf(RequestTimeoutError);
    expect(t).toMatchObject({ type: 'REQUEST_TIMED_OUT', retriable: true });
    expect(errorFromData(errorToData(new TypeError('x')))).toBeInstanceOf(LanesError);
  });
});
