/**
 * The tab's side of the MessagePort RPC (protocol/port-rpc.ts) when it is released with calls
 * still waiting: their answers can no longer arrive, so they fail at once with
 * BrokerUnavailableError rather than wait for the request timeout (and their retries for
 * another each); a call made after the release fails at once and is not retried.
 */
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { BrokerUnavailableError, isRetriable } from '../../src/errors.js';
import { portBroker, servePort } from '../../src/protocol/port-rpc.js';
import type { BrokerApi } from '../../src/protocol/broker-api.js';

describe('a released port client', () => {
  it('fails the calls still waiting and every later call', async () => {
    const { port1, port2 } = new MessageChannel();
    let arrived!: () => void;
    const called = new Promise<void>((r) => { arrived = r; });
    // A broker that takes the call and never answers it (as one whose port went away does not).
    servePort(port2 as unknown as MessagePort, { listGroups: () => { arrived(); return new Promise(() => undefined); } } as unknown as BrokerApi);
    const remote = portBroker(port1 as unknown as MessagePort);
    const waiting = remote.broker.listGroups();
    await called;
    remote.release();
    const e = await waiting.then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(BrokerUnavailableError);
    const later = await remote.broker.listGroups().then(() => null, (x: unknown) => x);
    expect(later).toBeInstanceOf(BrokerUnavailableError);
    expect(isRetriable(later)).toBe(false);
    port2.close();
  });
});
