/**
 * BroadcastChannel RPC between broker hosts and the hosts that wait for the broker lock.
 * Used where no SharedWorker exists (the leader tab serves the others), and between two
 * SharedWorkers of different app versions (the one holding the lock serves the other).
 *
 * Invariants:
 * - Requests carry (from, id); a server handles a given (from, id) once, so a request resent
 *   after a leader change is not run twice by the same leader.
 * - A new leader announces itself with 'up'; clients then resend every request still pending,
 *   because the old leader may have died before answering. Idempotent producers make a resent
 *   produce safe; everything else is naturally repeatable.
 */
import { errorFromData, BrokerUnavailableError, type ErrorData } from '../errors.js';
import { errorToData } from '../protocol/error-data.js';
import { PROTOCOL_VERSION, names, type BrokerApi } from '../protocol/broker-api.js';

type Req = { k: 'req'; v: number; id: number; from: string; method: keyof BrokerApi; args: unknown[] };
type Res = { k: 'res'; id: number; to: string; ok: boolean; result?: unknown; error?: ErrorData };
type Up = { k: 'up'; v: number; leader: string };
type Msg = Req | Res | Up;

/** Serves a broker on the database's RPC channel; returns a function that stops serving. */
export function serveRpc(database: string, broker: BrokerApi, leaderId: string): () => void {
  const ch = new BroadcastChannel(names.rpcChannel(database));
  const seen = new Map<string, number>();
  ch.onmessage = async (ev: MessageEvent<Msg>) => {
    const m = ev.data;
    if (!m || m.k !== 'req') return;
    const key = `${m.from}:${m.id}`;
    if (seen.has(key)) return;
    seen.set(key, Date.now());
    if (seen.size > 10_000) for (const [k, t] of seen) { if (Date.now() - t > 60_000) seen.delete(k); }
    let res: Res;
    try {
      if (m.v !== PROTOCOL_VERSION) {
        throw new BrokerUnavailableError(`the broker of ${database} speaks protocol ${PROTOCOL_VERSION}, this tab ${m.v}: reload the tab`, { retriable: false });
      }
      const fn = broker[m.method] as (...a: unknown[]) => Promise<unknown>;
      const result = await fn.apply(broker, m.args);
      res = { k: 'res', id: m.id, to: m.from, ok: true, result };
    } catch (e) {
      res = { k: 'res', id: m.id, to: m.from, ok: false, error: errorToData(e) };
    }
    try { ch.postMessage(res); } catch (e) { ch.postMessage({ k: 'res', id: m.id, to: m.from, ok: false, error: errorToData(e) } satisfies Res); }
  };
  ch.postMessage({ k: 'up', v: PROTOCOL_VERSION, leader: leaderId } satisfies Up);
  return () => ch.close();
}

interface Pending { method: keyof BrokerApi; args: unknown[]; resolve: (v: unknown) => void; reject: (e: unknown) => void }

/** Calls the broker that holds the lock, over the database's RPC channel. */
export class RpcClient {
  private ch: BroadcastChannel;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  /** Called when a (new) leader announces itself. */
  onLeader?: (leaderId: string) => void;

  constructor(database: string, readonly hostId: string) {
    this.ch = new BroadcastChannel(names.rpcChannel(database));
    this.ch.onmessage = (ev: MessageEvent<Msg>) => {
      const m = ev.data;
      if (!m) return;
      if (m.k === 'up') {
        this.onLeader?.(m.leader);
        for (const [id, p] of this.pending) this.post(id, p);
        return;
      }
      if (m.k !== 'res' || m.to !== this.hostId) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(errorFromData(m.error!));
    };
  }

  private post(id: number, p: Pending): void {
    this.ch.postMessage({ k: 'req', v: PROTOCOL_VERSION, id, from: this.hostId, method: p.method, args: p.args } satisfies Req);
  }

  /** Calls a broker method; resolves with the leader's answer, whichever leader gives it. */
  call(method: keyof BrokerApi, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const p = { method, args, resolve, reject };
      this.pending.set(id, p);
      try { this.post(id, p); } catch (e) { this.pending.delete(id); reject(e); }
    });
  }

  /** Rejects pending calls (with `reason` when given) and stops listening. */
  close(reason?: Error): void {
    this.ch.close();
    for (const p of this.pending.values()) p.reject(reason ?? new BrokerUnavailableError('the client closed while a broker call was pending'));
    this.pending.clear();
  }
}
