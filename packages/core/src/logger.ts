// Structured logging. threadlink never hands message content to a logger, and every record
// passes through `redact` so a token that slips into a field is masked before it is written.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const SECRET_KEY = /token|secret|password|authorization|cookie|code_?verifier|sealed|client_?state|key$/i;
const CONTENT_KEY = /^(body|snippet|bodypreview|html|text|content|raw|subject)$/i;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;
const JWT = /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;

/** Masks secrets and drops content-bearing keys, recursively. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[depth]';
  if (typeof value === 'string') return value.replace(BEARER, '$1[redacted]').replace(JWT, '[redacted-jwt]');
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1), code: (value as { code?: unknown }).code };
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (SECRET_KEY.test(key)) out[key] = '[redacted]';
      else if (CONTENT_KEY.test(key)) out[key] = '[omitted]';
      else out[key] = redact(inner, depth + 1);
    }
    return out;
  }
  return value;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One JSON object per line on stdout/stderr, redacted. */
export function consoleJsonLogger(options: { level?: LogLevel; write?: (line: string, level: LogLevel) => void } = {}): Logger {
  const threshold = ORDER[options.level ?? 'info'];
  const write =
    options.write ?? ((line: string, level: LogLevel) => (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(`${line}\n`));
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (ORDER[level] < threshold) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...(redact(fields ?? {}) as object) }), level);
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

/** Wraps a host logger so every record is redacted first. */
export function redactingLogger(inner: Logger): Logger {
  const wrap =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void =>
      inner[level](message, fields === undefined ? undefined : (redact(fields) as LogFields));
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
