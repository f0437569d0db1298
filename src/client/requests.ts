/**
 * The request layer between a client and its broker: every call gets a deadline
 * (`requestTimeout`, KafkaJS's name and default) and, for a member with instrumentation, the
 * KafkaJS request events (REQUEST, REQUEST_TIMEOUT, REQUEST_QUEUE_SIZE).
 *
 * Invariants:
 * - A call that gets no answer within its deadline rejects with a retriable RequestTimeoutError;
 *   its late answer is dropped. Retrying is safe: produces are idempotent, the rest repeatable.
 * - Calls that wait by design get that wait added to their deadline: a long-poll fetch or
 *   watch (`maxWaitMs`) and a join or group heartbeat, which waits for the group's rebalance
 *   (`rebalanceTimeout`).
 * - A pending deadline never keeps a Node process alive (the timer is unref'd).
 * - A requestTimeout of Infinity (KafkaJS's `enforceRequestTimeout: false`) sets no deadline,
 *   nor does a deadline beyond 2^31-1 ms (a timer that long fires at once).
 */
import { RequestTimeoutError } from '../errors.js';
import { brokerProxy, PROTOCOL_VERSION, type BrokerApi } from '../protocol/broker-api.js';
import type { Instrumentation } from './instrumentation.js';

/** KafkaJS's default requestTimeout (ms). */
export const DEFAULT_REQUEST_TIMEOUT = 30_000;

/** Kafka's API keys of the broker calls that have one (REQUEST events carry them). */
const API_KEYS: Partial<Record<keyof BrokerApi, number>> = {
  produce: 0, fetch: 1, listOffsets: 2, metadata: 3, commitOffsets: 8, fetchOffsets: 9, joinGroup: 11, heartbeat: 12, groupHeartbeat: 68,
  leaveGroup: 14, describeGroups: 15, listGroups: 16, createTopics: 19, deleteTopics: 20, deleteRecords: 21,
  initProducerId: 22, endTransaction: 26, offsetsForTimestamp: 2, describeConfigs: 32, alterConfigs: 33, createPartitions: 37, deleteGroups: 42,
};

/** Who makes the requests, and where its events go. */
export interface RequestContext {
  requestTimeout: number;
  clientId: string;
  /** The host kind, reported as the event's `broker`. */
  host: string;
  /** Emits `${prefix}.network.request` etc. when set. */
  events?: Instrumentation;
  prefix?: string;
}

let correlationId = 0;

/** The extra wait a call is allowed by design (long-poll fetch and watch, join, group heartbeat). */
function waitOf(method: string, arg: unknown): number {
  const a = arg as { maxWaitMs?: number; rebalanceTimeout?: number } | undefined;
  const w = method === 'fetch' || method === 'watch' ? a?.maxWaitMs : method === 'joinGroup' || method === 'groupHeartbeat' ? a?.rebalanceTimeout : 0;
  return typeof w === 'number' && w > 0 ? w : 0;
}

/** Wraps a broker so each call has a deadline and (with `events`) emits KafkaJS's request events. */
export function withRequestLayer(broker: BrokerApi, ctx: RequestContext): BrokerApi {
  let queueSize = 0;
  const ev = ctx.events;
  const queue = (d: number) => {
    queueSize += d;
    ev?.emit(`${ctx.prefix}.network.request_queue_size`, { broker: ctx.host, clientId: ctx.clientId, queueSize });
  };
  const call = (m: keyof BrokerApi, args: unknown[]) => new Promise((resolve, reject) => {
    const createdAt = Date.now();
    const info = { broker: ctx.host, clientId: ctx.clientId, correlationId: correlationId++, createdAt, sentAt: createdAt, pendingDuration: 0, apiName: m, apiKey: API_KEYS[m] ?? -1, apiVersion: PROTOCOL_VERSION };
    const timeout = ctx.requestTimeout + waitOf(m, args[0]);
    queue(1);
    let settled = false;
    // No deadline when requestTimeout is Infinity (enforceRequestTimeout: false), nor beyond
    // 2^31-1 ms (~24.8 days): a timer that long fires at once in browsers and Node.
    const timer = timeout <= 0x7fffffff ? setTimeout(() => {
      settled = true;
      queue(-1);
      ev?.emit(`${ctx.prefix}.network.request_timeout`, info);
      reject(new RequestTimeoutError(`broker call ${m} got no answer within ${timeout} ms (requestTimeout ${ctx.requestTimeout})`, { details: { method: m, timeout } }));
    }, timeout) : undefined;
    (timer as { unref?: () => void } | undefined)?.unref?.();
    const done = () => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      queue(-1);
      return true;
    };
    (broker[m] as (...a: unknown[]) => Promise<unknown>).apply(broker, args).then((v) => {
      if (!done()) return;
      ev?.emit(`${ctx.prefix}.network.request`, { ...info, size: 0, duration: Date.now() - createdAt });
      resolve(v);
    }, (e: unknown) => { if (done()) reject(e); });
    });
  return brokerProxy(call);
}
