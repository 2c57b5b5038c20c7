// Every provider operation the engine makes goes through here: one span, one timed call metric
// with its outcome, and rate-limit answers counted on their own (the first sign of a quota problem).
import type { Connection } from '../domain/schemas.js';
import { toThreadlinkError } from '../errors.js';
import type { EngineDeps } from './engine-options.js';

export async function callProvider<T>(
  deps: Pick<EngineDeps, 'clock' | 'telemetry'>,
  connection: Connection,
  method: string,
  run: () => Promise<T>,
): Promise<T> {
  const { clock, telemetry } = deps;
  const started = clock.now();
  try {
    const result = await telemetry.span(`threadlink.provider.${method}`, { provider: connection.provider, connectionId: connection.id }, run);
    telemetry.providerCall(connection.provider, method, clock.now() - started, 'ok');
    return result;
  } catch (error) {
    const code = toThreadlinkError(error).code;
    telemetry.providerCall(connection.provider, method, clock.now() - started, code);
    if (code === 'RATE_LIMITED') telemetry.rateLimited(connection.provider);
    throw error;
  }
}
