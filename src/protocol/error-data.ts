/**
 * The plain-data form of a thrown value, as it crosses a worker boundary [pure]. The broker side
 * (its MessagePort and BroadcastChannel servers) is the only caller: kept apart from errors.ts
 * so the broker host, which takes errors.ts from the client's bundle, has its own copy and the
 * client bundle none. errors.ts re-exports it as part of the public API.
 */
import { LanesError, type ErrorData } from '../errors.js';

/** Plain data of any thrown value, for postMessage. */
export function errorToData(e: unknown): ErrorData {
  const err = e instanceof Error ? e : new Error(String(e));
  const d: ErrorData = e instanceof LanesError
    ? { name: e.name, message: e.message, code: e.code, retriable: e.retriable, details: e.details, stack: e.stack }
    : { name: err.name, message: err.message, code: 'UNKNOWN', retriable: false, details: {}, stack: err.stack };
  if (err.cause !== undefined) d.cause = errorToData(err.cause);
  return d;
}

