/**
 * What a consumer does when things go wrong, loaded the first time they do: a handler that threw
 * is retried with the consumer's retry settings, and a crash is judged by KafkaJS's restart rule.
 * A consumer whose handlers succeed never downloads this.
 *
 * Invariants:
 * - A handler is retried from the same record or batch; stopping (`running()` false) or a
 *   rebalancing error ends the retries at once, rethrowing the error.
 * - Running out of retries throws NumberOfRetriesExceededError with the handler's last error as
 *   cause (./retry-loop.ts); each failure is logged before the next try.
 * - A crash restarts only when its root error is retriable (a handler that ran out of retries
 *   counts as one) and `restartOnFailure` does not answer false; its own failure means yes.
 */
import { isRebalancing, NumberOfRetriesExceededError } from '../../errors.js';
import { createRetry, RETRY_DEFAULTS, type RetryOptions } from '../retry.js';
import type { FetchConfig } from './runner.js';

/**
 * Retries `fn`, a handler call whose first try failed with `error`, on the consumer's schedule;
 * `signal` ends a wait between tries (the consumer stops).
 */
export function retryHandler(config: FetchConfig, signal: AbortSignal, running: () => boolean, fn: () => Promise<void>, error: unknown): Promise<void> {
  const log = (e: unknown, retryCount: number, retryTime: number) => config.logger?.error(`Error when calling the handler, retrying: ${(e as Error)?.message}`, { retryCount, retryTime });
  return createRetry(config.retry, { signal })(async (bail, retryCount, retryTime) => {
    if (retryCount === 0) {
      if (isRebalancing(error)) bail(error);
      log(error, retryCount, retryTime);
      throw error;
    }
    if (!running()) bail(error);
    try {
      await fn();
    } catch (e) {
      if (isRebalancing(e)) bail(e);
      log(e, retryCount, retryTime);
      throw e;
    }
  });
}

/** KafkaJS's rule: restart on a retriable crash unless restartOnFailure says no (its own failure means yes). */
export async function shouldRestart(error: unknown, restartOnFailure: RetryOptions['restartOnFailure']): Promise<boolean> {
  let root = error;
  while (root instanceof Error && root.cause !== undefined && !(root instanceof NumberOfRetriesExceededError)) root = root.cause;
  const retriable = error instanceof NumberOfRetriesExceededError || (root as { retriable?: unknown } | null)?.retriable === true;
  if (!retriable || !restartOnFailure) return retriable;
  try {
    return (await restartOnFailure(error instanceof Error ? error : new Error(String(error)))) !== false;
  } catch {
    return true;
  }
}

/** The wait before a restart: the handler's next retry time, else the consumer's initialRetryTime. */
export function restartDelay(error: unknown, config: FetchConfig): number {
  return (error instanceof NumberOfRetriesExceededError && error.retryTime) || config.retry.initialRetryTime || RETRY_DEFAULTS.initialRetryTime;
}
