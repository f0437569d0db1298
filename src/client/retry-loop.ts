/**
 * The retries of {@link createRetry} (./retry.ts), loaded when a first try fails: decides
 * whether the error is retriable, waits, tries again, and gives up as KafkaJS does.
 *
 * Invariants:
 * - At most `retries` further calls of `fn` after the first; never a call after `bail()` or
 *   after `signal` aborts.
 * - Running out of retries on a retriable error throws {@link NumberOfRetriesExceededError} with
 *   the last error as `cause` and the `retryCount`/`retryTime` it stopped at.
 */
import { NumberOfRetriesExceededError } from '../errors.js';
import { nextRetryTime, type Bail, type Retriable, type RetryConfig, type RetryEnv } from './retry.js';

const UNRECOVERABLE = new Set(['RangeError', 'ReferenceError', 'SyntaxError', 'TypeError']);

/** KafkaJS's rule: retriable unless it says `retriable: false` or is a programming error. */
export function isRetriableForRetry(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return true;
  const err = e as { retriable?: unknown; name?: unknown };
  return err.retriable !== false && !UNRECOVERABLE.has(String(err.name));
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(() => { signal?.removeEventListener('abort', done); resolve(); }, ms);
    const done = () => { clearTimeout(t); resolve(); };
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Goes on after the first try of `fn` failed with `error` (rethrown unless retriable), `retryTime` being the
 * wait before the next try: retries until `fn` resolves, bails, fails with a non-retriable
 * error, or the retries run out.
 */
export async function retryAfter<T>(c: RetryConfig, env: RetryEnv, fn: Retriable<T>, error: unknown, retryTime: number): Promise<T> {
  const sleep = env.sleep ?? defaultSleep;
  let bailed: { error: unknown } | undefined;
  const bail: Bail = (e?: unknown) => {
    bailed = { error: e ?? new Error('Aborted') };
    throw bailed;
  };
  if (!isRetriableForRetry(error)) throw error;
  for (let retryCount = 0; ; ) {
    if (retryCount >= c.retries) throw new NumberOfRetriesExceededError(error, { retryCount, retryTime });
    if (env.signal?.aborted) throw error;
    await sleep(retryTime, env.signal);
    if (env.signal?.aborted) throw error;
    retryTime = nextRetryTime(c, retryTime, env.random);
    try {
      return await fn(bail, ++retryCount, retryTime);
    } catch (e) {
      if (bailed) throw bailed.error;
      if (!isRetriableForRetry(e)) throw e;
      error = e;
    }
  }
}
