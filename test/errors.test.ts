import { describe, expect, it } from 'vitest';
import * as errors from '../src/errors.js';
import {
  BrokerUnavailableError, errorFromData, IllegalGenerationError, LanesError, OffsetOutOfRangeError,
  RebalanceInProgressError, RecordTooLargeError, RequestTimeoutError, TopicNotFoundError,
} from '../src/errors.js';
import { errorToData } from '../src/protocol/error-data.js';

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

describe('the error classes', () => {
  // [export name, code, retriable: true = unless the options say not, false = never, undefined = only when the options say so]
  const classes: [string, string, boolean | undefined][] = [
    ['InvalidArgumentError', 'INVALID_ARGUMENT', undefined],
    ['InvalidConfigError', 'INVALID_CONFIG', undefined],
    ['InvalidRecordError', 'INVALID_RECORD', undefined],
    ['RecordTooLargeError', 'RECORD_TOO_LARGE', undefined],
    ['InvalidPartitionsError', 'INVALID_PARTITIONS', undefined],
    ['TopicNotFoundError', 'UNKNOWN_TOPIC_OR_PARTITION', undefined],
    ['InvalidTopicError', 'INVALID_TOPIC_EXCEPTION', undefined],
    ['TopicExistsError', 'TOPIC_ALREADY_EXISTS', undefined],
    ['OffsetOutOfRangeError', 'OFFSET_OUT_OF_RANGE', undefined],
    ['OutOfOrderSequenceError', 'OUT_OF_ORDER_SEQUENCE_NUMBER', undefined],
    ['InvalidProducerEpochError', 'INVALID_PRODUCER_EPOCH', undefined],
    ['ProducerFencedError', 'PRODUCER_FENCED', false],
    ['InvalidTxnStateError', 'INVALID_TXN_STATE', false],
    ['CorruptRecordError', 'CORRUPT_MESSAGE', undefined],
    ['QuotaExceededError', 'QUOTA_EXCEEDED', false],
    ['StorageError', 'STORAGE_ERROR', undefined],
    ['IncompatibleVersionError', 'INCOMPATIBLE_VERSION', false],
    ['BrokerUnavailableError', 'BROKER_UNAVAILABLE', true],
    ['RebalanceInProgressError', 'REBALANCE_IN_PROGRESS', true],
    ['IllegalGenerationError', 'ILLEGAL_GENERATION', true],
    ['UnknownMemberIdError', 'UNKNOWN_MEMBER_ID', true],
    ['GroupNotEmptyError', 'GROUP_NOT_EMPTY', undefined],
    ['GroupIdNotFoundError', 'GROUP_ID_NOT_FOUND', undefined],
    ['InconsistentGroupProtocolError', 'INCONSISTENT_GROUP_PROTOCOL', undefined],
    ['UnauthorizedError', 'UNAUTHORIZED', undefined],
    ['RequestTimeoutError', 'REQUEST_TIMED_OUT', true],
    ['UnsupportedCompressionTypeError', 'UNSUPPORTED_COMPRESSION_TYPE', undefined],
    ['NotConnectedError', 'NOT_CONNECTED', undefined],
  ];

  it.each(classes)('%s has its name, code, KafkaJS type and retriable default', (name, code, retriable) => {
    const C = (errors as unknown as Record<string, errors.LanesErrorClass>)[name]!;
    const e = new C('m', { details: { field: 'f' } });
    expect(e).toBeInstanceOf(errors.LanesError);
    expect(e).toBeInstanceOf(Error);
    expect(C.name).toBe(name);
    expect(e).toMatchObject({ name, code, message: 'm', details: { field: 'f' }, retriable: retriable === true });
    expect(e.type).toBe(({ INVALID_ARGUMENT: 'INVALID_REQUEST', RECORD_TOO_LARGE: 'MESSAGE_TOO_LARGE', BROKER_UNAVAILABLE: 'BROKER_NOT_AVAILABLE', STORAGE_ERROR: 'KAFKA_STORAGE_ERROR', GROUP_NOT_EMPTY: 'NON_EMPTY_GROUP' } as Record<string, string>)[code] ?? code);
    expect(new C('m', { retriable: true }).retriable).toBe(retriable !== false);
    expect(new C('m', { retriable: false }).retriable).toBe(false);
    const back = errors.errorFromData(structuredClone(errorToData(e)));
    expect(back).toBeInstanceOf(C);
    expect(back).toMatchObject({ name, code, retriable: e.retriable });
    expect(errors.errorClassOf(code)).toBe(C);
  });

  it('errorClassOf answers undefined for a code without a class', () => {
    expect(errors.errorClassOf('UNKNOWN')).toBeUndefined();
    expect(errors.errorClassOf('NUMBER_OF_RETRIES_EXCEEDED')).toBeUndefined();
    expect(errors.errorClassOf('toString')).toBeUndefined();
  });

  it('every exported error class is in the table above', () => {
    const exported = Object.keys(errors).filter((k) => k.endsWith('Error') && k !== 'LanesError' && k !== 'NumberOfRetriesExceededError');
    expect(exported.sort()).toEqual(classes.map((c) => c[0]).sort());
  });
});
