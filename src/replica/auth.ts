/**
 * Bearer tokens of the replica: JWTs verified with `jose`, HS256 with the server's secret
 * and/or RS256/ES256/EdDSA against a JWKS URL (an app's identity provider). The `tenant` claim
 * (name configurable) names the tenant.
 *
 * Invariants:
 * - A request is authenticated only by a token whose signature, `exp` (required) and, when
 *   configured, `iss` / `aud` verify; anything else is UnauthorizedError with the reason.
 * - Tenant names are 1-64 of [A-Za-z0-9_-] (they become key prefixes in the stores).
 * - `nbf` and `iat` may be up to {@link CLOCK_TOLERANCE_SECONDS} ahead of this server's clock
 *   (an issuer whose clock runs ahead mints tokens "from the future"; refused, a device parked
 *   its uploads until its next token); `exp` is checked without tolerance.
 */
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import { InvalidArgumentError, UnauthorizedError } from '../errors.js';

/** How tokens are verified. At least one of `secret` and `jwksUrl`. */
export interface AuthOptions {
  /** Shared secret for HS256 tokens. */
  secret?: string;
  /** JWKS URL of an identity provider (asymmetric tokens). */
  jwksUrl?: string;
  /** Required `iss`, when given. */
  issuer?: string;
  /** Required `aud`, when given. */
  audience?: string;
  /** Claim that names the tenant. Default 'tenant'. */
  tenantClaim?: string;
}

/** What a verified token grants. */
export interface Principal {
  tenant: string;
  /** `sub` when present. */
  subject?: string;
  /** When the token expires (ms since the epoch, from `exp`). */
  expiresAt?: number;
}

const TENANT_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** How far ahead of this server's clock a token's `nbf` / `iat` may be: 60 s. */
export const CLOCK_TOLERANCE_SECONDS = 60;

/** True for a usable tenant name. */
export function isValidTenant(t: unknown): t is string {
  return typeof t === 'string' && TENANT_RE.test(t);
}

/** Verifies `Authorization` header values. */
export interface Authenticator {
  /** The principal of a header value `Bearer <jwt>`; UnauthorizedError otherwise. */
  verify(authorization: string | undefined): Promise<Principal>;
}

/** Builds the verifier for the server's options. */
export function createAuthenticator(options: AuthOptions): Authenticator {
  if (!options.secret && !options.jwksUrl) throw new InvalidArgumentError('the replica needs --secret or --jwks to verify tokens', { details: { field: 'secret' } });
  const hmac = options.secret ? new TextEncoder().encode(options.secret) : null;
  const jwks: JWTVerifyGetKey | null = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : null;
  const claim = options.tenantClaim ?? 'tenant';
  return {
    async verify(authorization) {
      if (!authorization) throw new UnauthorizedError('missing Authorization header (expected "Bearer <token>")', { details: { reason: 'missing' } });
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!m) throw new UnauthorizedError('Authorization header is not "Bearer <token>"', { details: { reason: 'malformed' } });
      const token = m[1]!;
      let alg: string | undefined;
      try {
        alg = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')).alg;
      } catch {
        throw new UnauthorizedError('token is not a JWT', { details: { reason: 'malformed' } });
      }
      const common = { issuer: options.issuer, audience: options.audience, requiredClaims: ['exp'], clockTolerance: CLOCK_TOLERANCE_SECONDS };
      let payload: Record<string, unknown>;
      try {
        if (alg === 'HS256' && hmac) payload = (await jwtVerify(token, hmac, { ...common, algorithms: ['HS256'] })).payload;
        else if (alg !== 'HS256' && jwks) payload = (await jwtVerify(token, jwks, { ...common, algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] })).payload;
        else throw new UnauthorizedError(`token algorithm ${String(alg)} is not accepted by this server`, { details: { reason: 'algorithm' } });
      } catch (e) {
        if (e instanceof UnauthorizedError) throw e;
        const code = (e as { code?: string }).code;
        const reason = code === 'ERR_JWT_EXPIRED' ? 'expired' : code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? 'signature' : 'invalid';
        const why = reason === 'expired' ? 'token has expired' : reason === 'signature' ? 'token signature does not verify (forged or another secret)' : `token is invalid: ${(e as Error).message}`;
        throw new UnauthorizedError(why, { details: { reason } });
      }
      // The tolerance is for an issuer's clock running ahead (nbf, iat); expiry stays exact.
      if (typeof payload.exp === 'number' && payload.exp <= Date.now() / 1000) {
        throw new UnauthorizedError('token has expired', { details: { reason: 'expired' } });
      }
      const tenant = payload[claim];
      if (!isValidTenant(tenant)) throw new UnauthorizedError(`token claim "${claim}" must name a tenant (1-64 of A-Z a-z 0-9 _ -)`, { details: { reason: 'tenant' } });
      return { tenant, subject: typeof payload.sub === 'string' ? payload.sub : undefined, expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined };
    },
  };
}

/** Mints an HS256 token for a tenant, valid `ttlSeconds` (default one hour). */
export async function mintToken(secret: string, tenant: string, ttlSeconds = 3600, claims: Record<string, unknown> = {}): Promise<string> {
  if (!isValidTenant(tenant)) throw new InvalidArgumentError(`tenant ${JSON.stringify(tenant)} is invalid: use 1-64 of A-Z a-z 0-9 _ -`, { details: { field: 'tenant' } });
  if (!Number.isFinite(ttlSeconds)) throw new InvalidArgumentError('ttl must be a number of seconds', { details: { field: 'ttl' } });
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims, tenant })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + Math.round(ttlSeconds))
    .sign(new TextEncoder().encode(secret));
}
