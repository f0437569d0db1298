/**
 * Structured JSON logs: one object per line on stdout (errors too, so one stream carries the
 * order of events), with `time`, `level`, `msg` and the fields given.
 */

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A structured logger. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** A logger writing JSON lines at `level` and above through `write` (default: stdout). */
export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const min = ORDER[level];
  const emit = (lv: LogLevel) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[lv] < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lv, msg, ...fields }) + '\n');
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
