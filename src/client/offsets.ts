import { formatValue, InvalidArgumentError } from '../errors.js';

/** Parses an API offset (decimal string or number) into a log offset; throws naming `field`. */
export function parseOffset(o: unknown, field: string): number {
  const n = typeof o === 'string' && /^\d+$/.test(o) ? Number(o) : typeof o === 'number' ? o : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError(`${field} must be a non-negative integer offset (decimal string); got ${formatValue(o)}`, { details: { field, offset: o } });
  }
  return n;
}
