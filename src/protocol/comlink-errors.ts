/**
 * comlink carries only name/message/stack of a thrown Error. This replaces its "throw" transfer
 * handler with one that carries a LanesError's code, retriable flag and details, so the tab gets
 * the right subclass back. Installed by both sides when a comlink connection is made (never on
 * import: importing lanes has no side effects).
 */
import { transferHandlers, type TransferHandler } from 'comlink';
import { errorFromData, errorToData, type ErrorData } from '../errors.js';

let installed = false;

/** Installs the LanesError-preserving "throw" handler (idempotent). */
export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  const original = transferHandlers.get('throw') as TransferHandler<{ value: unknown }, unknown>;
  const handler: TransferHandler<{ value: unknown }, { lanes?: ErrorData; original?: unknown }> = {
    canHandle: (v): v is { value: unknown } => original.canHandle(v),
    serialize(thrown) {
      if (thrown.value instanceof Error) return [{ lanes: errorToData(thrown.value) }, []];
      const [s, t] = original.serialize(thrown);
      return [{ original: s }, t];
    },
    deserialize(s) {
      if (s.lanes) throw errorFromData(s.lanes);
      return original.deserialize(s.original) as { value: unknown };
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
}
