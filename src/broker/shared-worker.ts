/**
 * SharedWorker entry: one broker per origin and database, reached by every tab over its
 * MessagePort (protocol/port-rpc.ts).
 * The worker's name is `lanes:<database>`; it still takes the broker lock before writing, so a
 * second worker (another app version) forwards to the first instead of writing too.
 */
/// <reference lib="webworker" />
import type { FetchPartitionResult } from '../protocol/broker-api.js';
import { servePort } from '../protocol/port-rpc.js';
import { BrokerHost } from './broker-host.js';

declare const self: SharedWorkerGlobalScope;

const database = self.name.replace(/^lanes:/, '');
const params = new URL(self.location.href).searchParams;
const cleaner = params.get('logCleanerIntervalMs');
const host = new BrokerHost({ database, kind: 'shared-worker', logCleanerIntervalMs: cleaner === null ? undefined : Number(cleaner) });
host.start();

/** Fetched record bytes are transferred to the tab, not copied. */
function fetchedBuffers(method: string, result: unknown): Transferable[] {
  if (method !== 'fetch') return [];
  const buffers = new Set<ArrayBuffer>();
  for (const r of result as FetchPartitionResult[]) for (const b of r.batches) buffers.add(b.payload.buffer as ArrayBuffer);
  return [...buffers];
}

self.onconnect = (e: MessageEvent) => servePort(e.ports[0]!, host.api, fetchedBuffers);
