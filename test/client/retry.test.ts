/**
 * The retry helper: KafkaJS's schedule and rules, driven with an injected sleep and random
 * source (no real waits).
 */
import { describe, expect, it } from 'vitest';
import {
  createRetry, initialRetryTime, jitter, nextRetryTime, retryConfig, RETRY_DEFAULTS,
} from '../../src/client/retry.js';
import {
  BrokerUnavailableError, InvalidArgumentError, InvalidConfigError, NumberOfRetriesExceededError,
} from '../../src/errors.js';

/** Records the waits asked for instead of waiting. */
function fakeSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => { waits.push(ms); } };
}

describe('retry schedule', () => {
  it('has KafkaJS defaults', () => {
    expect(RETRY_DEFAULTS).toEqual({ maxRetryTime: 30000, initialRetryTime: 300, factor: 0.2, multiplier: 2, retries: 5 });
  });

  it('jitters within ±factor and grows by multiplier (the RetryDetailed example)', () => {
    const c = retryConfig({});
    expect(jitter(0.2, 300, () => 0)).toBe(240);
    expect(jitter(0.2, 300, () => 0.999999)).toBe(360);
    expect(initialRetryTime(c, () => 0.5)).toBe(300);
    // N = 1: Random(240, 360) * 2 => 480 .. 720
    expect(nextRetryTime(c, 300, () => 0)).toBe(480);
    expect(nextRetryTime(c, 300, () => 0.999999)).toBe(720);
    // N = 2 from 480: 768 .. 1152; from 720: 1152 .. 1728
    expect(nextRetryTime(c, 480, () => 0)).toBe(768);
    expect(nextRetryTime(c, 720, () => 0.999999)).toBe(1728);
  });

  it('never waits more than maxRetryTime', () => {
    const c = retryConfig({ maxRetryTime: 1000, initialRetryTime: 900 });
    expect(nextRetryTime(c, 900, () => 0.999)).toBe(1000);
    expect(initialRetryTime(retryConfig({ maxRetryTime: 100, initialRetryTime: 500 }), () => 0.5)).toBe(100);
  });

  it('refuses bad numbers naming the field', () => {
    expect(() => retryConfig({ retries: -1 })).toThrow(InvalidConfigError);
    expect(() => retryConfig({ retries: 1.5 })).toThrow(/retry\.retries/);
    expect(() => retryConfig({ factor: Number.NaN })).toThrow(/retry\.factor/);
    expect(() => retryConfig({ restartOnFailure: 'yes' as never })).toThrow(/restartOnFailure/);
  });
});

describe('retry options that would overflow a timer or never end', () => {
  const cases: [Partial<Record<'retries' | 'initialRetryTime' | 'maxRetryTime' | 'factor' | 'multiplier', number>>, string][] = [
    [{ initialRetryTime: 2 ** 31 }, 'initialRetryTime'],
    [{ initialRetryTime: 1e12 }, 'initialRetryTime'],
    [{ maxRetryTime: 2 ** 31 }, 'maxRetryTime'],
    [{ maxRetryTime: Number.POSITIVE_INFINITY }, 'maxRetryTime'],
    [{ factor: 1.5 }, 'factor'],
    [{ factor: -0.1 }, 'factor'],
    [{ multiplier: Number.POSITIVE_INFINITY }, 'multiplier'],
    [{ multiplier: Number.NaN }, 'multiplier'],
    [{ retries: 2 ** 53 }, 'retries'],
    [{ retries: Number.MAX_VALUE }, 'retries'],
    [{ retries: Number.POSITIVE_INFINITY }, 'retries'],
  ];
  for (const [options, field] of cases) {
    it(`refuses ${JSON.stringify(options).replace(/null/, String(Object.values(options)[0]))} with InvalidConfigError naming retry.${field}`, () => {
      let error: unknown;
      try { createRetry(options, {}, 'producer: retry'); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(InvalidConfigError);
      expect((error as Error).message).toContain(`producer: retry.${field}`);
      expect((error as InvalidConfigError).details.field).toBe(`retry.${field}`);
    });
  }

  it('takes the largest values that still work: waits of 2^31-1 ms, factor 1, 2^53-1 retries', () => {
    const c = retryConfig({ initialRetryTime: 0x7fffffff, maxRetryTime: 0x7fffffff, factor: 1, retries: Number.MAX_SAFE_INTEGER });
    expect(c.retries).toBe(Number.MAX_SAFE_INTEGER);
    expect(initialRetryTime(c, () => 0.999)).toBe(0x7fffffff);
    expect(initialRetryTime(c, () => 0)).toBe(0); // factor 1: within [0, 2x], never negative
  });

  it('a huge multiplier only reaches maxRetryTime: every wait stays a timer delay', async () => {
    const { waits, sleep } = fakeSleep();
    const c = retryConfig({ multiplier: Number.MAX_VALUE, maxRetryTime: 0x7fffffff, retries: 4 });
    await createRetry(c, { sleep, random: () => 0.5 })(async () => { throw new BrokerUnavailableError('away'); }).catch(() => undefined);
    expect(waits).toEqual([300, 0x7fffffff, 0x7fffffff, 0x7fffffff]);
  });

  it('createClient refuses a client-wide retry that would overflow, and each member its own', async () => {
    const { createClient } = await import('../../src/index.js');
    const base = { clientId: 'c', broker: 'in-page' as const, database: `retry-${Date.now()}` };
    expect(() => createClient({ ...base, retry: { maxRetryTime: 1e12 } })).toThrow(/createClient: retry\.maxRetryTime/);
    const client = createClient(base);
    expect(() => client.consumer({ groupId: 'g', retry: { initialRetryTime: 1e12 } })).toThrow(/consumer: retry\.initialRetryTime/);
    expect(() => client.producer({ retry: { factor: 3 } })).toThrow(/producer: retry\.factor/);
    expect(() => client.admin({ retry: { retries: Number.MAX_VALUE } })).toThrow(/admin: retry\.retries/);
  });
});

describe('createRetry', () => {
  it('retries a retriable failure with the growing waits and returns the result', async () => {
    const { waits, sleep } = fakeSleep();
    const retry = createRetry({ initialRetryTime: 100, factor: 0, multiplier: 3 }, { sleep });
    let calls = 0;
    const seen: [number, number][] = [];
    const out = await retry(async (_bail, retryCount, retryTime) => {
      seen.push([retryCount, retryTime]);
      if (++calls < 4) throw new BrokerUnavailableError('down');
      return 'ok';
    });
    expect(out).toBe('ok');
    expect(waits).toEqual([100, 300, 900]);
    expect(seen).toEqual([[0, 100], [1, 300], [2, 900], [3, 2700]]);
  });

  it('makes retries + 1 calls, then throws NumberOfRetriesExceeded with the last error as cause', async () => {
    const { waits, sleep } = fakeSleep();
    const retry = createRetry({ retries: 2, initialRetryTime: 10, factor: 0 }, { sleep });
    let calls = 0;
    const last = new Error('third');
    const err = await retry(async () => { calls++; throw calls === 3 ? last : new Error('again'); }).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(waits).toEqual([10, 20]);
    expect(err).toBeInstanceOf(NumberOfRetriesExceededError);
    const e = err as NumberOfRetriesExceededError;
    expect(e.cause).toBe(last);
    expect(e.retryCount).toBe(2);
    expect(e.retryTime).toBe(40);
    expect(e.retriable).toBe(false);
    expect(e.code).toBe('NUMBER_OF_RETRIES_EXCEEDED');
  });

  it('does not retry a non-retriable LanesError or a programming error, and rethrows it as is', async () => {
    const { waits, sleep } = fakeSleep();
    const retry = createRetry({}, { sleep });
    const bad = new InvalidArgumentError('field x');
    let calls = 0;
    await expect(retry(async () => { calls++; throw bad; })).rejects.toBe(bad);
    const te = new TypeError('oops');
    await expect(retry(async () => { calls++; throw te; })).rejects.toBe(te);
    expect(calls).toBe(2);
    expect(waits).toEqual([]);
  });

  it('retries user errors that do not say retriable: false (KafkaJS)', async () => {
    const { sleep } = fakeSleep();
    const retry = createRetry({ retries: 1 }, { sleep });
    let calls = 0;
    await retry(async () => { if (++calls === 1) throw new Error('flaky'); });
    expect(calls).toBe(2);
    const marked = Object.assign(new Error('final'), { retriable: false });
    await expect(retry(async () => { throw marked; })).rejects.toBe(marked);
  });

  it('bail stops at once with the given error', async () => {
    const { waits, sleep } = fakeSleep();
    const retry = createRetry({}, { sleep });
    const reason = new Error('give up');
    let calls = 0;
    await expect(retry(async (bail) => { calls++; bail(reason); })).rejects.toBe(reason);
    expect(calls).toBe(1);
    expect(waits).toEqual([]);
  });

  it('an aborted signal ends the waiting and rethrows the last error', async () => {
    const ac = new AbortController();
    const retry = createRetry({ retries: 10 }, { sleep: async () => { ac.abort(); }, signal: ac.signal });
    let calls = 0;
    const e = new BrokerUnavailableError('down');
    await expect(retry(async () => { calls++; throw e; })).rejects.toBe(e);
    expect(calls).toBe(1);
  });
});
