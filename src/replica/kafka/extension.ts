/**
 * `lanes-replica serve --kafka-port N [--kafka-auth none|plain]`: the Kafka listener as an
 * extension of the replica server [node]. It serves the server's store, verifies SASL/PLAIN
 * passwords with the server's token verifier (the username must be the token's tenant), logs
 * through the server's logger and adds its counters to `/v1/metrics`.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { ServeExtension } from '../extensions.js';
import { Counter } from '../metrics.js';
import { startKafkaListener } from './listener.js';

function intOption(options: Readonly<Record<string, string | true>>, name: string): number | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v)) {
    throw new InvalidArgumentError(`--${name} must be a non-negative integer; got ${JSON.stringify(v)}`, { details: { field: name } });
  }
  return Number(v);
}

/** The Kafka listener extension of `lanes-replica serve`. */
export const kafkaExtension: ServeExtension = {
  name: 'kafka',
  options: [
    { name: 'kafka-port', takesValue: true, help: 'also serve the Kafka protocol on this port (0 picks a free one)' },
    { name: 'kafka-auth', takesValue: true, help: 'plain (default: SASL/PLAIN, username = tenant, password = token) or none (plaintext, tenant "default"; tests and local use only)' },
    { name: 'kafka-advertised-host', takesValue: true, help: 'host Kafka clients are told to connect to (default: --host; set it when binding 0.0.0.0)' },
    { name: 'kafka-max-frame-bytes', takesValue: true, help: 'largest Kafka request accepted (default 16777216)' },
    { name: 'kafka-max-pending-bytes', takesValue: true, help: 'stop answering a client that leaves this many response bytes unread (default 67108864)' },
    { name: 'kafka-request-timeout-ms', takesValue: true, help: 'a started request must arrive within this (default 30000)' },
  ],
  async start(ctx) {
    const port = intOption(ctx.options, 'kafka-port');
    if (port === undefined) return null;
    const mode = ctx.options['kafka-auth'] ?? 'plain';
    if (mode !== 'none' && mode !== 'plain') {
      throw new InvalidArgumentError(`--kafka-auth must be none or plain; got ${JSON.stringify(mode)}`, { details: { field: 'kafka-auth' } });
    }
    const requests = new Counter('lanes_replica_kafka_requests_total', 'Kafka requests by API key');
    const closes = new Counter('lanes_replica_kafka_connections_closed_total', 'Kafka connections the listener closed, by reason');
    ctx.metrics.register({ render: () => `${requests.render()}\n${closes.render()}` });
    const listener = await startKafkaListener({
      store: ctx.store,
      host: ctx.host,
      advertisedHost: typeof ctx.options['kafka-advertised-host'] === 'string' ? ctx.options['kafka-advertised-host'] : undefined,
      port,
      auth: mode === 'none' ? 'none' : {
        // The token's expiry ends the session (the client may re-authenticate before it).
        verify: async (tenant, token) => {
          const p = await ctx.auth.verify(`Bearer ${token}`);
          return p.tenant === tenant && { expiresAt: p.expiresAt };
        },
      },
      maxFrameBytes: intOption(ctx.options, 'kafka-max-frame-bytes'),
      requestTimeoutMs: intOption(ctx.options, 'kafka-request-timeout-ms'),
      maxPendingBytes: intOption(ctx.options, 'kafka-max-pending-bytes'),
      onRequest: (apiKey) => requests.inc({ api: String(apiKey) }),
      log: (e) => {
        const { event, ...fields } = e;
        if (event === 'kafka.close') {
          closes.inc({ reason: String(fields.reason ?? '').split(':')[0]!.replace(/ v?\d+.*$/, '') });
          ctx.logger.debug(String(event), fields);
        } else if (event === 'kafka.unsupported') {
          ctx.logger.debug(String(event), fields);
        } else {
          ctx.logger.info(String(event), fields);
        }
      },
    });
    ctx.announce(`${listener.url} kafka listener (auth ${mode})`);
    ctx.logger.info('kafka listener started', { url: listener.url, auth: mode });
    return { close: () => listener.close() };
  },
};
