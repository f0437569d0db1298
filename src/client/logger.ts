/**
 * KafkaJS's logging: `logLevel`, a `logCreator` given the level that returns the function that
 * writes each entry, and loggers with `info/warn/error/debug(message, extra)` and `namespace()`.
 * The default writer prints one JSON line per entry on the console, as KafkaJS's does.
 */

/** Log levels (KafkaJS's values). */
export const logLevel = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const;

/** A log level value. */
export type LogLevel = (typeof logLevel)[keyof typeof logLevel];

/** What a log writer receives (KafkaJS's LogEntry). */
export interface LogEntry {
  namespace: string;
  level: LogLevel;
  label: string;
  log: { timestamp: string; logger: 'lanes'; message: string; [extra: string]: unknown };
}

/** KafkaJS's logCreator: called once with the client's level, returns the writer of entries. */
export type LogCreator = (level: LogLevel) => (entry: LogEntry) => void;

/** A logger (KafkaJS's shape). */
export interface Logger {
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
  debug(message: string, extra?: object): void;
  /** A logger whose entries carry `namespace`, optionally with its own level. */
  namespace(namespace: string, level?: LogLevel): Logger;
  /** Changes the level of this logger and the namespaces that have none of their own. */
  setLogLevel(level: LogLevel): void;
}

/** KafkaJS's console writer: one JSON line per entry, `[namespace]` before the message. */
export const consoleLogCreator: LogCreator = () => ({ namespace, level, label, log }) => {
  const line = JSON.stringify({ level: label, ...log, message: `${namespace ? `[${namespace}] ` : ''}${log.message}` });
  (level === 1 ? console.error : level === 2 ? console.warn : level === 4 ? console.info : console.log)(line);
};

const LABELS = [[1, 'ERROR'], [2, 'WARN'], [4, 'INFO'], [5, 'DEBUG']] as const;

/** Creates the root logger of a client (default level INFO, console writer, as KafkaJS). */
export function createLogger(level: LogLevel = logLevel.INFO, logCreator: LogCreator = consoleLogCreator): Logger {
  const root = { level };
  const write = logCreator(level);
  const make = (namespace: string, own: { level?: LogLevel }): Logger => {
    const l = {
      namespace: (ns: string, lv?: LogLevel) => make(ns, { level: lv }),
      setLogLevel: (lv: LogLevel) => { if (namespace) own.level = lv; else root.level = lv; },
    } as Logger & Record<string, unknown>;
    for (const [n, label] of LABELS) {
      l[label.toLowerCase()] = (message: string, extra?: object) => {
        if (n > (own.level ?? root.level)) return;
        try {
          write({ namespace, level: n, label, log: { timestamp: new Date().toISOString(), logger: 'lanes', message, ...extra } });
        } catch { /* a failing writer must not break the client */ }
      };
    }
    return l;
  };
  return make('', root);
}
