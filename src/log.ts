// log.ts writes logfmt lines on stderr, as Mimir's go-kit logger does:
//   ts=2026-01-02T03:04:05.678Z level=info msg="server listening" addr=:8080
// The threshold comes from -log.level (debug, info, warn, error).

/** LogLevel is one of -log.level's values. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** LOG_LEVELS lists the accepted -log.level values. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

let threshold = LEVEL_ORDER.info;
let sink: (line: string) => void = (line) => {
  process.stderr.write(line);
};

/** setLogLevel changes the threshold for every logger. */
export function setLogLevel(level: LogLevel): void {
  threshold = LEVEL_ORDER[level];
}

/** setLogSink redirects log output (tests). */
export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

/** logfmtValue quotes a value when logfmt needs it. */
export function logfmtValue(v: unknown): string {
  let s: string;
  if (v instanceof Error) s = v.message;
  else if (typeof v === 'string') s = v;
  else if (v === undefined) s = '';
  else if (typeof v === 'object' && v !== null) s = JSON.stringify(v);
  else s = String(v);
  if (s === '' || /[\s"=\\]|[^\x21-\x7e]/.test(s)) return JSON.stringify(s);
  return s;
}

/** formatLine renders one logfmt line (with the trailing newline). */
export function formatLine(level: LogLevel, msg: string, kv: Record<string, unknown>): string {
  let line = `ts=${new Date().toISOString()} level=${level} msg=${logfmtValue(msg)}`;
  for (const [k, v] of Object.entries(kv)) line += ` ${k}=${logfmtValue(v)}`;
  return line + '\n';
}

/** Logger logs with a fixed set of leading key/values (e.g. component=distributor). */
export class Logger {
  constructor(private readonly fields: Record<string, unknown> = {}) {}

  /** with returns a logger that adds the given fields to every line. */
  with(fields: Record<string, unknown>): Logger {
    return new Logger({ ...this.fields, ...fields });
  }

  /** enabled reports whether lines at level are written (to skip building costly fields). */
  enabled(level: LogLevel): boolean {
    return LEVEL_ORDER[level] >= threshold;
  }

  log(level: LogLevel, msg: string, kv: Record<string, unknown> = {}): void {
    if (LEVEL_ORDER[level] < threshold) return;
    sink(formatLine(level, msg, { ...this.fields, ...kv }));
  }

  debug(msg: string, kv?: Record<string, unknown>): void {
    this.log('debug', msg, kv);
  }

  info(msg: string, kv?: Record<string, unknown>): void {
    this.log('info', msg, kv);
  }

  warn(msg: string, kv?: Record<string, unknown>): void {
    this.log('warn', msg, kv);
  }

  error(msg: string, kv?: Record<string, unknown>): void {
    this.log('error', msg, kv);
  }
}

/** log is the process-wide root logger. */
export const log = new Logger();
