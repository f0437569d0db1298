// SASL/PLAIN on the replica's Kafka listener (the default `--kafka-auth plain`): the username
// is the tenant, the password a replica token for it. Tenants stay apart exactly as on HTTP.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../../src/replica/auth.js';
import { kcat, pushRecords, SECRET, startReplica, type Replica } from './helpers.js';
import * as M from '../../../src/replica/kafka/messages.js';
import { decodeMessage } from '../../../src/replica/kafka/schema.js';
import { Reader } from '../../../src/replica/kafka/wire.js';
import { RawKafkaConnection, requestFrame } from './raw-client.js';

function kafka(r: Replica, username: string, password: string): Kafka {
  return new Kafka({
    clientId: 'sasl-test', brokers: [`127.0.0.1:${r.kafkaPort}`], logLevel: logLevel.NOTHING,
    sasl: { mechanism: 'plain', username, password }, retry: { retries: 0 },
  });
}

describe('SASL/PLAIN with replica tokens', () => {
  let r: Replica;
  let acme: string, globex: string;

  beforeAll(async () => {
    r = await startReplica();
    acme = await r.token('acme');
    globex = await r.token('globex');
    await pushRecords(r, acme, 'device-acme', [{ topic: 'acme-orders', partition: 0, baseOffset: 0, messages: [{ key: 'a', value: 'secret order' }] }]);
    await pushRecords(r, globex, 'device-globex', [{ topic: 'globex-orders', partition: 1, baseOffset: 0, messages: [{ key: 'g', value: 'other' }] }]);
  });
  afterAll(async () => { await r?.stop(); });

  it('KafkaJS with a tenant\'s token sees that tenant\'s topics and reads them; another tenant\'s token sees none of them', async () => {
    const a = kafka(r, 'acme', acme).admin();
    await a.connect();
    expect(await a.listTopics()).toEqual(['acme-orders']);
    expect(await a.fetchTopicOffsets('acme-orders')).toEqual([{ partition: 0, offset: '1', high: '1', low: '0' }]);
    await a.disconnect();
    const g = kafka(r, 'globex', globex).admin();
    await g.connect();
    expect(await g.listTopics()).toEqual(['globex-orders']);
    await expect(g.fetchTopicOffsets('acme-orders')).rejects.toThrow(/does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION/i);
    await g.disconnect();
  });

  it('kcat with SASL/PLAIN lists only the tenant\'s topics and consumes its records', async () => {
    const sasl = (user: string, token: string) => ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${user}`, '-X', `sasl.password=${token}`];
    const broker = `127.0.0.1:${r.kafkaPort}`;
    const list = await kcat(['-b', broker, ...sasl('globex', globex), '-L']);
    expect(list).toContain('topic "globex-orders"');
    expect(list).not.toContain('acme-orders');
    const out = await kcat(['-b', broker, ...sasl('acme', acme), '-C', '-t', 'acme-orders', '-o', 'beginning', '-e', '-q', '-f', '%k=%s\\n']);
    expect(out).toBe('a=secret order\n');
  });

  it('refuses a token of another tenant, a forged token and an expired one', async () => {
    const forged = await mintToken('not-the-secret-000000000000', 'acme', 3600);
    const expired = await mintToken(SECRET, 'acme', -60);
    for (const [user, password] of [['acme', globex], ['acme', forged], ['acme', expired], ['acme', '']]) {
      const admin = kafka(r, user!, password!).admin();
      await expect(admin.connect()).rejects.toThrow(/SASL|authentication/i);
      await admin.disconnect();
    }
  });

  it('SaslHandshake v0 (raw SASL token frames, as older clients do) authenticates the tenant too', async () => {
    const c = await RawKafkaConnection.open(r.kafkaPort);
    const mech = Buffer.alloc(2 + 5);
    mech.writeInt16BE(5, 0);
    mech.write('PLAIN', 2);
    c.write(requestFrame(17, 0, 1, mech));
    const hs = await c.next();
    expect(hs).toMatchObject({ kind: 'response', correlationId: 1 });
    expect((hs as { body: Buffer }).body.readInt16BE(0)).toBe(0);
    const token = Buffer.from(`\u0000acme\u0000${acme}`);
    const frame = Buffer.alloc(4);
    frame.writeInt32BE(token.length);
    c.write(Buffer.concat([frame, token]));
    // The server answers a raw, empty token frame; the next frame is a Kafka response again.
    c.write(requestFrame(3, 1, 2, new Uint8Array([0xff, 0xff, 0xff, 0xff]))); // Metadata v1, all topics
    expect(await c.next()).toEqual({ kind: 'response', correlationId: -1, body: Buffer.alloc(0) });
    const md = await c.next();
    expect(md).toMatchObject({ kind: 'response', correlationId: 2 });
    const body = decodeMessage(M.MetadataResponse, 1, new Reader((md as { body: Buffer }).body));
    expect(body.topics.map((t: { name: string }) => t.name)).toEqual(['acme-orders']);
    c.close();
  });

  it('closes a connection that sends a request before authenticating, and answers ApiVersions', async () => {
    const c = await RawKafkaConnection.open(r.kafkaPort);
    c.write(requestFrame(18, 0, 1, new Uint8Array(0)));
    expect(await c.next()).toMatchObject({ kind: 'response', correlationId: 1 });
    c.write(requestFrame(3, 1, 2, new Uint8Array([0xff, 0xff, 0xff, 0xff]))); // Metadata v1, all topics
    expect(await c.next()).toEqual({ kind: 'closed' });
  });
});
