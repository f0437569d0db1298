/**
 * SharedWorker entry: one broker per origin and database, reached by every tab over comlink.
 * The worker's name is `lanes:<database>`; it still takes the broker lock before writing, so a
 * second worker (another app version) forwards to the first instead of writing too.
 */
/// <reference lib="webworker" />
import { expose, transfer } from 'comlink';
import { installErrorTransfer } from '../protocol/comlink-errors.js';
import { BROKER_METHODS, type BrokerApi, type FetchPartitionResult } from '../protocol/broker-api.js';
import { BrokerHost } from './broker-host.js';

declare const self: SharedWorkerGlobalScope;

installErrorTransfer();
const database = self.name.replace(/^lanes:/, '');
const params = new URL(self.location.href).searchParams;
const cleaner = params.get('logCleanerIntervalMs');
const host = new BrokerHost({ database, kind: 'shared-worker', logCleanerIntervalMs: cleaner === null ? undefined : Number(cleaner) });
host.start();

/** The API exposed to tabs: the host's, with fetched record bytes transferred, not copied. */
const api = {} as Record<string, (...a: unknown[]) => Promise<unknown>>;
for (const m of BROKER_METHODS) {
  api[m] = async (...args: unknown[]) => {
    const result = await (host.api[m] as (...a: unknown[]) => Promise<unknown>)(...args);
    if (m !== 'fetch') return result;
    const buffers = new Set<ArrayBuffer>();
    for (const r of result as FetchPartitionResult[]) for (const b of r.batches) buffers.add(b.payload.buffer as ArrayBuffer);
    return transfer(result, [...buffers]);
  };
}
const exposed = api as unknown as BrokerApi;

self.onconnect = (e: MessageEvent) => {
  const port = e.ports[0]!;
  expose(exposed, port);
  port.start();
};
