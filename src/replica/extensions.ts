/**
 * Extension points of `lanes-replica serve`: a listener beside the HTTP API (the Kafka
 * listener) declares its command-line options and starts on the same store. Add an extension
 * to {@link SERVE_EXTENSIONS}; the CLI parses its options, lists them in `--help`, and calls
 * `start` once the store is open (before the HTTP server prints its URL). `close` runs on
 * SIGTERM before the store closes.
 */
import type { Logger } from './log.js';
import type { ReplicaMetrics } from './metrics.js';
import type { ReplicaStore } from './store.js';
import type { Authenticator } from './auth.js';
import { kafkaExtension } from './kafka/extension.js';

/** One command-line option of an extension. */
export interface CliOption {
  /** Name without dashes: 'kafka-port' for `--kafka-port`. */
  name: string;
  /** True when the option takes a value (`--kafka-port 9092`), false for a flag. */
  takesValue: boolean;
  help: string;
}

/** What an extension gets when the server starts. */
export interface ServeContext {
  store: ReplicaStore;
  auth: Authenticator;
  logger: Logger;
  metrics: ReplicaMetrics;
  /** The `--host` the server binds. */
  host: string;
  /** Every parsed option (strings for values, true for flags), by name without dashes. */
  options: Readonly<Record<string, string | true>>;
  /** Prints a line to stdout as is (e.g. `kafka://127.0.0.1:9092 ...`), besides the JSON logs. */
  announce(line: string): void;
}

/** A started extension. */
export interface StartedExtension {
  close(): Promise<void>;
}

/** A listener that runs beside the HTTP API. */
export interface ServeExtension {
  name: string;
  options: readonly CliOption[];
  /** Starts when its options ask for it; returns null when not enabled. */
  start(ctx: ServeContext): Promise<StartedExtension | null>;
}

/** The extensions `lanes-replica serve` knows. */
export const SERVE_EXTENSIONS: ServeExtension[] = [kafkaExtension];
