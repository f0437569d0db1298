/**
 * Features loaded on first use (their own chunks; bench/size.mjs reports what each adds) keep
 * their behaviour: `sync` options are refused when the client connects, a watch closed before
 * its loop loaded ends without holding the connection, and `client.sync` checks event names at
 * once and answers its status before any connection (in-page host, fake-indexeddb).
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/index.js';
import { nodeClient } from '../helpers/node-client.js';

describe('features loaded on first use', () => {
  it('bad sync options are refused, naming the field, when the client connects; nothing stays open', async () => {
    const { client } = nodeClient({ sync: { url: 'ftp://nope' } });
    const admin = client.admin();
    const e = await admin.connect().then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect((e as Error).message).toContain('sync.url');
    // The refused connect released the connection: the admin is not connected.
    expect(await admin.listTopics().then(() => 'answered', (x: Error) => x.name)).toBe('NotConnectedError');
  });

  it('sync timers beyond 2^31-1 ms are refused naming the field (such a timer fires at once: a mirror would poll without pause)', async () => {
    for (const f of ['mirrorIntervalMs', 'lingerMs']) {
      const { client } = nodeClient({ sync: { url: 'https://replica.example', token: 't', [f]: 1e12 } });
      const e = await client.admin().connect().then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).details).toEqual({ field: `sync.${f}` });
    }
  });

  it('a sync maxRequestBytes of 0 (or below 1) is refused naming the field: a push could carry nothing, and the uploader opened empty pushes without end', async () => {
    for (const v of [0, 0.5]) {
      const { client } = nodeClient({ sync: { url: 'https://replica.example', token: 't', maxRequestBytes: v } });
      const e = await client.admin().connect().then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).details).toEqual({ field: 'sync.maxRequestBytes' });
    }
  });

  it('a watch closed before its first next() ends at once and never takes the connection', async () => {
    const { client } = nodeClient();
    const watch = client.watch({ topics: ['t'] });
    watch.close();
    expect(await watch.next()).toEqual({ done: true, value: undefined });
    const admin = client.admin();
    expect(await admin.listTopics().then(() => 'answered', (x: Error) => x.name)).toBe('NotConnectedError');
  });

  it('client.sync refuses an unknown event at once, and answers its status before any connection', async () => {
    const { client } = nodeClient();
    expect(() => client.sync.on('nope' as never, () => undefined)).toThrow(InvalidArgumentError);
    expect(typeof client.sync.on('status', () => undefined)).toBe('function');
    expect(await client.sync.status()).toMatchObject({ configured: false, state: 'off' });
  });
});
