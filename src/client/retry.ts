/**
 * The one retry helper of the tab side, with KafkaJS's semantics
 * (https://kafka.js.org/docs/retry-detailed): a call is tried once and retried up to `retries`
 * times while it fails with a retriable error, waiting between tries a time that grows by
 * `multiplier` and is randomised by `factor`, never more than `maxRetryTime`.
 *
 *   first wait  = Random(initialRetryTime * (1 - factor), initialRetryTime * (1 + factor))
 *   next wait   = min(Random(wait * (1 - factor), wait * (1 + factor)) * multiplier, maxRetryTime)
 *
 * Invariants:
 * - At most `retries + 1` calls of `fn`; never a call after `bail()` or after `signal` aborts.
 * - Retried: errors whose `retriable` is not `false` (a plain Error from user code is retried,
 *   as KafkaJS does), except programming errors (TypeError, RangeError, ReferenceError,
 *   SyntaxError). A LanesError keeps its own `retriable` flag.
 * - A non-retriable error is rethrown as it is; running out of retries on a retriable one
 *   throws {@link NumberOfRetriesExceededError} with the last error as `cause` and the
 *   `retryCount`/`retryTime` it stopped at (KafkaJS's KafkaJSNumberOfRetriesExceeded).
 * - The wait is computed by pure code ({@link nextRetryTime}) from an injected `random`, and
 *   slept through an injected `sleep`, so tests run without real waits.
 */
import { InvalidConfigError } from '../errors.js';

/** KafkaJS's retry options (`retry` of createClient, producer, consumer and admin). */
export interface RetryOptions {
  /** Longest wait between two tries (ms). Default 30000. */
  maxRetryTime?: number;
  /** First wait (ms), before jitter. Default 300. */
  initialRetryTime?: number;
  /** Randomisation factor: each wait is drawn within ±factor of its base. Default 0.2. */
  factor?: number;
  /** Growth of the wait from one try to the next. Default 2. */
  multiplier?: number;
  /** Retries after the first try. Default 5. */
  retries?: number;
  /**
   * Consumer only: after a crash, whether to restart the consumer. Called only for retriable
   * crashes (a handler that kept failing counts as one); default: restart.
   */
  restartOnFailure?: (error: Error) => Promise<boolean>;
}

/** The numeric options with their defaults filled in. */
export type RetryConfig = Required<Omit<RetryOptions, 'restartOnFailure'>>;

/** KafkaJS's defaults. */
export const RETRY_DEFAULTS: Readonly<RetryConfig> = Object.freeze({
  maxRetryTime: 30_000,
  initialRetryTime: 300,
  factor: 0.2,
  multiplier: 2,
  retries: 5,
});

/** Gives up on retrying; `fn` receives it as its first argument. */
export type Bail = (error?: unknown) => never;

/** What a retried call receives: `bail`, the number of this retry (0: first try), the wait before the next one. */
export type Retriable<T> = (bail: Bail, retryCount: number, retryTime: number) => Promise<T>;

/** Injected time: how to wait and where randomness comes from. */
export interface RetryEnv {
  /** Waits `ms`; rejects or resolves early when `signal` aborts. Default: setTimeout. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1). Default Math.random. */
  random?: () => number;
  /** Aborts the retrying: no further call of fn; the last error is rethrown. */
  signal?: AbortSignal;
}

/** The longest timer delay: setTimeout fires at once for a delay beyond 2^31-1 ms. */
const MAX_DELAY = 0x7fffffff;

/**
 * The range of each number, and what it is. Waits are timer delays: a wait beyond 2^31-1 ms
 * would fire at once, so every retry (and a consumer's restart, which waits initialRetryTime)
 * would follow the last without pause. A factor above 1 draws negative waits (no pause either).
 * `retries` must be a count the loop can reach (a safe integer). A huge `multiplier` is
 * harmless: every wait is capped by maxRetryTime.
 */
const LIMITS: Record<keyof RetryConfig, { max: number; integer?: boolean; what: string }> = {
  maxRetryTime: { max: MAX_DELAY, what: 'a number of ms from 0 to 2147483647' },
  initialRetryTime: { max: MAX_DELAY, what: 'a number of ms from 0 to 2147483647' },
  factor: { max: 1, what: 'a number from 0 to 1' },
  multiplier: { max: Number.MAX_VALUE, what: 'a finite number >= 0' },
  retries: { max: Number.MAX_SAFE_INTEGER, integer: true, what: 'an integer from 0 to 2^53-1' },
};

/** Fills in KafkaJS's defaults and checks the numbers (InvalidConfigError naming the field in its message and `details.field`). */
export function retryConfig(options: RetryOptions = {}, where = 'retry'): RetryConfig {
  const field = where.replace(/^.*: /, ''); // 'consumer: retry' names the field 'retry'
  if (options === null || typeof options !== 'object') throw new InvalidConfigError(`${where} must be an object of retry options; got ${String(options)}`, { details: { field } });
  const c = { ...RETRY_DEFAULTS };
  for (const k of Object.keys(RETRY_DEFAULTS) as (keyof RetryConfig)[]) {
    const v = options[k];
    if (v === undefined) continue;
    const { max, integer, what } = LIMITS[k];
    if (typeof v !== 'number' || !(v >= 0 && v <= max) || (integer && !Number.isInteger(v))) {
      throw new InvalidConfigError(`${where}.${k} must be ${what}; got ${String(v)}`, { details: { field: `${field}.${k}`, value: typeof v === 'number' ? v : String(v) } });
    }
    c[k] = v;
  }
  if (options.restartOnFailure !== undefined && typeof options.restartOnFailure !== 'function') {
    throw new InvalidConfigError(`${where}.restartOnFailure must be an async function (error) => boolean`, { details: { field: `${field}.restartOnFailure` } });
  }
  return c;
}

/** A time drawn uniformly within ±factor of `retryTime`, rounded up (KafkaJS's randomFromRetryTime). */
export function jitter(factor: number, retryTime: number, random: () => number = Math.random): number {
  const delta = factor * retryTime;
  return Math.ceil(retryTime - delta + random() * 2 * delta);
}

/** The first wait. */
export function initialRetryTime(c: RetryConfig, random: () => number = Math.random): number {
  return Math.min(jitter(c.factor, c.initialRetryTime, random), c.maxRetryTime);
}

/** The wait after one of `retryTime`. */
export function nextRetryTime(c: RetryConfig, retryTime: number, random: () => number = Math.random): number {
  return Math.min(jitter(c.factor, retryTime, random) * c.multiplier, c.maxRetryTime);
}

/**
 * Creates a retrier: `createRetry(options)(fn)` calls `fn(bail, retryCount, retryTime)` until it
 * resolves, bails, fails with a non-retriable error, or runs out of retries. The first try runs
 * here; what follows a failed first try (./retry-loop.ts: KafkaJS's rule of what is retriable,
 * the waits, the retries) is loaded then, so a page whose calls succeed never downloads it.
 */
export function createRetry(options: RetryOptions | RetryConfig = {}, env: RetryEnv = {}, where = 'retry'): <T>(fn: Retriable<T>) => Promise<T> {
  const c = retryConfig(options, where);
  return async <T>(fn: Retriable<T>): Promise<T> => {
    let bailed: { error: unknown } | undefined;
    const bail: Bail = (error?: unknown) => {
      bailed = { error: error ?? new Error('Aborted') };
      throw bailed;
    };
    const retryTime = initialRetryTime(c, env.random);
    try {
      return await fn(bail, 0, retryTime);
    } catch (e) {
      if (bailed) throw bailed.error;
      return (await import('./retry-loop.js')).retryAfter(c, env, fn, e, retryTime);
    }
  };
}
