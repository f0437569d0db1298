// JWKS tokens (an identity provider's keys) and the graceful drain of in-flight requests.
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/replica/auth.js';
import { createReplicaHttpServer } from '../../src/replica/http-server.js';
import { createLogger } from '../../src/replica/log.js';
import { SqliteStore } from '../../src/replica/stores/sqlite-store.js';
import { deviceBatch, push, readAll, SECRET, startServer, tempDir, texts } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => { for (const c of cleanups.splice(0)) await c(); });

describe('replica auth with a JWKS URL', () => {
  it('accepts the provider-signed token, refuses another key, a wrong issuer and a missing tenant claim', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const other = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const idp: Server = createServer((_req, res) => { res.setHeader('Content-Type', 'application/json'); res.end(JSON.stringify({ keys: [jwk] })); });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => idp.close(() => r())));
    const jwksUrl = `http://127.0.0.1:${(idp.address() as { port: number }).port}/jwks.json`;
    const store = new SqliteStore({ dataDir: tempDir() });
    const http = createReplicaHttpServer({ store, auth: createAuthenticator({ jwksUrl, issuer: 'https://idp.example', tenantClaim: 'org' }), logger: createLogger('error') });
    const url = await http.listen('127.0.0.1', 0);
    cleanups.push(() => http.close());
    const sign = (claims: Record<string, unknown>, key = privateKey, iss = 'https://idp.example') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(iss).setIssuedAt().setExpirationTime('5m').sign(key);
    const good = await sign({ org: 'acme' });
    const r = await push(url, good, 'dev', [deviceBatch(texts('j', 0, 2), { baseOffset: 0 })]);
    expect(r.status).toBe(200);
    expect(await readAll(url, good, 'orders', 0)).toHaveLength(2);
    const status = async (t: string) => (await fetch(`${url}/v1/topics`, { headers: { Authorization: `Bearer ${t}` } })).status;
    expect(await status(await sign({ org: 'acme' }, other.privateKey))).toBe(401);
    expect(await status(await sign({ org: 'acme' }, privateKey, 'https://evil.example'))).toBe(401);
    expect(await status(await sign({ tenant: 'acme' }))).toBe(401);
  });
});

describe('replica auth and clock skew', () => {
  it("accepts a token whose nbf or iat is up to a minute ahead of the replica's clock (an issuer whose clock runs ahead); refuses one further ahead and an expired one", async () => {
    const { url } = await startServer().then((s) => { cleanups.push(() => s.http.close()); return s; });
    const now = Math.floor(Date.now() / 1000);
    const sign = (nbf: number, iat: number, exp: number) => new SignJWT({ tenant: 'acme' }).setProtectedHeader({ alg: 'HS256' })
      .setNotBefore(nbf).setIssuedAt(iat).setExpirationTime(exp).sign(new TextEncoder().encode(SECRET));
    const status = async (t: string) => {
      const res = await fetch(`${url}/v1/topics`, { headers: { Authorization: `Bearer ${t}` } });
      return [res.status, res.ok ? '' : (await res.json()).error.message];
    };
    // Minted "now" by an issuer 20 s ahead: valid for the next hour.
    expect(await status(await sign(now + 20, now + 20, now + 3620))).toEqual([200, '']);
    const [code, message] = await status(await sign(now + 600, now + 600, now + 4200));
    expect(code).toBe(401);
    expect(message).toMatch(/nbf/);
    expect((await status(await sign(now - 3600, now - 3600, now - 5)))[0]).toBe(401);
  });
});

describe('graceful drain', () => {
  it('close() lets in-flight pushes finish, refuses new connections, then closes the store', async () => {
    const s = await startServer();
    const token = await s.token();
    const frames = Array.from({ length: 6 }, (_, f) => Array.from({ length: 10 }, (_, i) => deviceBatch(texts(`f${f}`, i * 200, 200), { baseOffset: f * 2000 + i * 200, baseSequence: f * 2000 + i * 200 })));
    // close once the server has begun all six requests (headers in; bodies and stores pending)
    let started = 0;
    const allStarted = new Promise<void>((resolve) => s.http.server.on('request', () => { if (++started === frames.length) resolve(); }));
    const inflight = frames.map((batches, f) => push(s.url, token, `dev-${f}`, batches, { gzip: true }));
    await allStarted;
    const closing = s.http.close();
    const answers = await Promise.all(inflight);
    await closing;
    expect(answers.map((a) => a.status)).toEqual(frames.map(() => 200));
    expect(answers.map((a) => a.body.results.length)).toEqual(frames.map(() => 10));
    await expect(fetch(`${s.url}/v1/health`)).rejects.toThrow();
  });
});
