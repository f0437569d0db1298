/**
 * BrokerApi over a MessagePort (a tab and its SharedWorker broker) [pure: page and worker]. The
 * whole contract is plain structured-clone data, so the wire is one message per call and one
 * per answer; no proxies or callbacks cross. (comlink did this before; its proxy machinery was
 * a third of the core client's size budget and went unused.)
 *
 *   call    { id, m: method, a: args }
 *   answer  { id, ok: result } | { id, err: ErrorData }   (errors rebuilt as their LanesError subclass)
 *   release { id: -1 }                                     (the tab is done: the worker closes its port)
 *
 * Invariants:
 * - Every call gets exactly one answer, in whatever order the broker finishes them; an
 *   argument that cannot be cloned rejects that call only (DataCloneError).
 * - A thrown value reaches the caller as the LanesError subclass of its code, with `cause`,
 *   `retriable` and `details` (errors.ts errorToData / errorFromData).
 * - release() settles every call still waiting (BrokerUnavailableError, as the leader-tab RPC
 *   client does): its answer can no longer arrive, and without this the call would wait for
 *   the request timeout, and its retries each for another one. A call after release() fails
 *   at once (not retriable).
 */
import { BrokerUnavailableError, errorFromData, type ErrorData } from '../errors.js';
import { errorToData } from './error-data.js';
import { brokerProxy, type BrokerApi } from './broker-api.js';

type Call = { id: number; m: keyof BrokerApi; a: unknown[] };
type Answer = { id: number; ok?: unknown; err?: ErrorData };

/**
 * Answers calls arriving on `port` with `api`. `transferOf` names buffers of a result to
 * transfer rather than copy (fetched record bytes).
 */
export function servePort(port: MessagePort, api: BrokerApi, transferOf: (method: string, result: unknown) => Transferable[] = () => []): void {
  port.onmessage = async ({ data: c }: MessageEvent<Call>) => {
    if (c.id < 0) return port.close();
    let answer: Answer, transfer: Transferable[] = [];
    try {
      const ok = await (api[c.m] as (...a: unknown[]) => Promise<unknown>)(...c.a);
      answer = { id: c.id, ok };
      transfer = transferOf(c.m, ok);
    } catch (e) {
      answer = { id: c.id, err: errorToData(e) };
    }
    try {
      port.postMessage(answer, transfer);
    } catch (e) {
      port.postMessage({ id: c.id, err: errorToData(e) } satisfies Answer);
    }
  };
}

/** A BrokerApi whose calls go over `port`; `release()` tells the worker and closes the port. */
export function portBroker(port: MessagePort): { broker: BrokerApi; release(): void } {
  const pending = new Map<number, [(v: unknown) => void, (e: unknown) => void]>();
  let next = 0;
  port.onmessage = ({ data: r }: MessageEvent<Answer>) => {
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    if (r.err) p[1](errorFromData(r.err));
    else p[0](r.ok);
  };
  let released = false;
  const broker = brokerProxy((m, a) => new Promise((resolve, reject) => {
    if (released) return reject(new BrokerUnavailableError('the connection to the broker is closed', { retriable: false }));
    const id = next++;
    port.postMessage({ id, m, a } satisfies Call);
    pending.set(id, [resolve, reject]);
  }));
  return {
    broker,
    release() {
      released = true;
      port.postMessage({ id: -1 });
      port.close();
      for (const [, reject] of pending.values()) reject(new BrokerUnavailableError('the client closed while a broker call was pending'));
      pending.clear();
    },
  };
}
