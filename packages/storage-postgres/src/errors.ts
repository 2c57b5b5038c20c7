import { ThreadlinkError } from '@threadlink/core/store';

// SQLSTATE classes worth retrying: 40 = serialization failure / deadlock, 08 = connection
// exception, 53 = insufficient resources, 57P = admin shutdown / crash recovery.
// https://www.postgresql.org/docs/current/errcodes-appendix.html
const RETRYABLE_SQLSTATE = /^(40|08|53|57P)/;
/**
 * A SQLSTATE: a class (two digits, or F0 / HV / P0 / XX) and three digits or capitals. Anything else
 * in `code` (EPIPE is five capitals too) is not from the server.
 */
const SQLSTATE = /^(?:[0-9]{2}|F0|HV|P0|XX)[0-9A-Z]{3}$/;

interface DriverError {
  message?: unknown;
  code?: unknown;
  constraint?: unknown;
  table?: unknown;
  column?: unknown;
  routine?: unknown;
}

/**
 * Database errors become STORE_ERROR. The driver error is not attached as is: pg's `detail`
 * quotes key values and PGlite's errors carry the statement's parameters (subjects, addresses),
 * and causes end up in logs. The cause keeps the SQLSTATE, the server message and the names.
 */
export function toStoreError(error: unknown, operation: string): ThreadlinkError {
  if (error instanceof ThreadlinkError) return error;
  const driver: DriverError = typeof error === 'object' && error !== null ? error : {};
  const code = typeof driver.code === 'string' ? driver.code : null;
  // A socket error (ECONNRESET when the server dies mid-query, ECONNREFUSED while it is down,
  // ETIMEDOUT, EPIPE) carries Node's errno name in `code`, not a SQLSTATE: an outage, so retryable.
  const sqlstate = code !== null && SQLSTATE.test(code) ? code : null;
  const cause = new Error(typeof driver.message === 'string' ? driver.message : String(error));
  cause.name = 'DatabaseError';
  for (const field of ['code', 'constraint', 'table', 'column', 'routine'] as const) {
    if (typeof driver[field] === 'string') Object.assign(cause, { [field]: driver[field] });
  }
  return new ThreadlinkError('STORE_ERROR', `${operation} failed${sqlstate ? ` (SQLSTATE ${sqlstate})` : ''}`, {
    cause,
    retryable: sqlstate === null || RETRYABLE_SQLSTATE.test(sqlstate),
    details: { operation, sqlstate, ...(code !== null && sqlstate === null ? { socket: code } : {}) },
  });
}
