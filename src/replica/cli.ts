/**
 * `lanes-replica` command line:
 *   serve --host H --port N [--data DIR] (--secret S | --jwks URL) [--store sqlite|jetstream]
 *         [--nats URL[,URL...]] [--allow-origin O[,O...]] [...extension options]
 *   token --secret S --tenant T [--ttl SECONDS]
 * `serve` prints a JSON log line holding `http://HOST:PORT` once it accepts requests, and
 * drains and exits 0 on SIGTERM / SIGINT.
 */
import { InvalidArgumentError } from '../errors.js';
import { createAuthenticator, mintToken } from './auth.js';
import { SERVE_EXTENSIONS, type CliOption, type StartedExtension } from './extensions.js';
import { createReplicaHttpServer } from './http-server.js';
import { createLogger, type LogLevel } from './log.js';
import { ReplicaMetrics } from './metrics.js';
import type { ReplicaStore } from './store.js';

const SERVE_OPTIONS: CliOption[] = [
  { name: 'host', takesValue: true, help: 'interface to bind (default 127.0.0.1)' },
  { name: 'port', takesValue: true, help: 'port; 0 picks a free one (default 8080)' },
  { name: 'data', takesValue: true, help: 'SQLite data directory (default ./replica-data)' },
  { name: 'secret', takesValue: true, help: 'HS256 token secret (or env LANES_REPLICA_SECRET)' },
  { name: 'jwks', takesValue: true, help: 'JWKS URL of an identity provider' },
  { name: 'issuer', takesValue: true, help: 'required token iss' },
  { name: 'audience', takesValue: true, help: 'required token aud' },
  { name: 'tenant-claim', takesValue: true, help: 'token claim naming the tenant (default tenant)' },
  { name: 'store', takesValue: true, help: 'sqlite (default) or jetstream' },
  { name: 'nats', takesValue: true, help: 'NATS server URLs, comma-separated (jetstream store)' },
  { name: 'nats-replicas', takesValue: true, help: 'JetStream stream replicas (default 3)' },
  { name: 'allow-origin', takesValue: true, help: 'CORS allowlist, comma-separated; * for any' },
  { name: 'max-body-bytes', takesValue: true, help: 'request body limit (default 33554432)' },
  { name: 'log-level', takesValue: true, help: 'debug, info (default), warn, error' },
];

const TOKEN_OPTIONS: CliOption[] = [
  { name: 'secret', takesValue: true, help: 'HS256 secret' },
  { name: 'tenant', takesValue: true, help: 'tenant the token names' },
  { name: 'ttl', takesValue: true, help: 'lifetime in seconds (default 3600)' },
];

/** Parses `--name value`, `--name=value` and flags against the known options. */
export function parseOptions(argv: readonly string[], known: readonly CliOption[]): Record<string, string | true> {
  const byName = new Map(known.map((o) => [o.name, o]));
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new InvalidArgumentError(`unexpected argument ${JSON.stringify(a)}`, { details: { field: a } });
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const opt = byName.get(name);
    if (!opt) throw new InvalidArgumentError(`unknown option --${name}`, { details: { field: name } });
    if (!opt.takesValue) { out[name] = true; continue; }
    const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new InvalidArgumentError(`--${name} needs a value`, { details: { field: name } });
    out[name] = v;
  }
  return out;
}

function usage(): string {
  const fmt = (opts: readonly CliOption[]) => opts.map((o) => `  --${o.name}${o.takesValue ? ' VALUE' : ''}  ${o.help}`).join('\n');
  const ext = SERVE_EXTENSIONS.flatMap((e) => e.options);
  return `lanes-replica serve [options]\n${fmt([...SERVE_OPTIONS, ...ext])}\n\nlanes-replica token [options]\n${fmt(TOKEN_OPTIONS)}\n`;
}

function str(o: Record<string, string | true>, name: string): string | undefined {
  const v = o[name];
  return typeof v === 'string' ? v : undefined;
}

function num(o: Record<string, string | true>, name: string, dflt: number): number {
  const v = str(o, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`--${name} must be a non-negative integer; got ${JSON.stringify(v)}`, { details: { field: name } });
  return Number(v);
}

/** Opens the store the options select. */
export async function openStore(o: Record<string, string | true>): Promise<ReplicaStore> {
  const kind = str(o, 'store') ?? 'sqlite';
  if (kind === 'sqlite') {
    const { SqliteStore } = await import('./stores/sqlite-store.js');
    return new SqliteStore({ dataDir: str(o, 'data') ?? './replica-data' });
  }
  if (kind === 'jetstream') {
    const servers = str(o, 'nats');
    if (!servers) throw new InvalidArgumentError('--store jetstream needs --nats URL[,URL...]', { details: { field: 'nats' } });
    const { JetStreamStore } = await import('./stores/jetstream-store.js');
    return JetStreamStore.connect({ servers: servers.split(',').map((s) => s.trim()).filter(Boolean), replicas: num(o, 'nats-replicas', 3) });
  }
  throw new InvalidArgumentError(`--store must be sqlite or jetstream; got ${JSON.stringify(kind)}`, { details: { field: 'store' } });
}

async function serve(argv: readonly string[]): Promise<void> {
  const o = parseOptions(argv, [...SERVE_OPTIONS, ...SERVE_EXTENSIONS.flatMap((e) => e.options)]);
  const logger = createLogger((str(o, 'log-level') ?? 'info') as LogLevel);
  const host = str(o, 'host') ?? '127.0.0.1';
  const port = num(o, 'port', 8080);
  const secret = str(o, 'secret') ?? process.env.LANES_REPLICA_SECRET;
  const auth = createAuthenticator({ secret, jwksUrl: str(o, 'jwks'), issuer: str(o, 'issuer'), audience: str(o, 'audience'), tenantClaim: str(o, 'tenant-claim') });
  const allowOrigins = (str(o, 'allow-origin') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const store = await openStore(o);
  const metrics = new ReplicaMetrics();
  const http = createReplicaHttpServer({ store, auth, logger, metrics, allowOrigins, limits: o['max-body-bytes'] ? { maxBodyBytes: num(o, 'max-body-bytes', 0) } : {} });
  const started: StartedExtension[] = [];
  for (const ext of SERVE_EXTENSIONS) {
    const s = await ext.start({ store, auth, logger, metrics, host, options: o, announce: (line) => process.stdout.write(`${line}\n`) });
    if (s) started.push(s);
  }
  const url = await http.listen(host, port);
  // Printed whatever the log level: scripts wait for this line.
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: `listening on ${url}`, url, store: store.kind, allowOrigins })}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('draining', { signal });
    (async () => {
      for (const s of started) await s.close().catch((e) => logger.error('extension close failed', { error: String(e) }));
      await http.close();
    })().then(() => { logger.info('stopped'); process.exit(0); }, (e) => { logger.error('shutdown failed', { error: String(e) }); process.exit(1); });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Under `npx`, npm exits on SIGTERM without forwarding it to this process, which is then
  // re-parented: treat the loss of the npx parent as the SIGTERM it was meant to get.
  if (process.env.npm_command === 'exec') {
    const parent = process.ppid;
    setInterval(() => { if (process.ppid !== parent) stop('parent exited'); }, 200).unref();
  }
}

async function token(argv: readonly string[]): Promise<void> {
  const o = parseOptions(argv, TOKEN_OPTIONS);
  const secret = str(o, 'secret') ?? process.env.LANES_REPLICA_SECRET;
  const tenant = str(o, 'tenant');
  if (!secret) throw new InvalidArgumentError('token needs --secret', { details: { field: 'secret' } });
  if (!tenant) throw new InvalidArgumentError('token needs --tenant', { details: { field: 'tenant' } });
  process.stdout.write(`${await mintToken(secret, tenant, num(o, 'ttl', 3600))}\n`);
}

/** Entry point of the bin. */
export async function main(argv: readonly string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'serve') await serve(rest);
    else if (cmd === 'token') await token(rest);
    else {
      process.stdout.write(usage());
      if (cmd !== 'help' && cmd !== '--help' && cmd !== '-h') process.exitCode = 2;
    }
  } catch (e) {
    process.stderr.write(`lanes-replica: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
