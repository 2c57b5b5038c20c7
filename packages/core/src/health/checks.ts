// The health calls a host makes (one connection, or all the scope may see): each connection judged
// by assessHealth against the thresholds read once from the config.
import type { InstanceHealth, Scope, Threadlink } from '../api.js';
import { checkScope, type CoreContext } from '../context.js';
import { toThreadlinkError } from '../errors.js';
import { assessHealth, type ConnectionHealth } from './health.js';

/** How long the store probe may take before the store counts as unreachable. */
const STORE_PROBE_TIMEOUT_MS = 2_000;

/**
 * One cheap read (a connection id that cannot exist), bounded in time: a pool waiting for a dead
 * server must not hang the readiness probe that is meant to report it.
 */
async function probeStore(context: CoreContext): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`store unreachable: no answer within ${STORE_PROBE_TIMEOUT_MS} ms`), STORE_PROBE_TIMEOUT_MS);
  });
  const read = context.store.getConnection('health-probe').then(
    () => undefined,
    (raw: unknown) => {
      const error = toThreadlinkError(raw);
      return `store unreachable: ${error.code} ${error.message}`;
    },
  );
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function createHealthChecks(context: CoreContext): Threadlink['health'] {
  const { store, clock, thresholds } = context;
  const one = async (connectionId: string, scope: Scope): Promise<ConnectionHealth> =>
    assessHealth(await context.connectionFor(connectionId, scope), clock.now(), thresholds);
  return Object.assign(one, {
    async all(rawScope: Scope): Promise<ConnectionHealth[]> {
      const scope = checkScope(rawScope);
      await context.init();
      const visible = await context.visibleConnectionIds(scope);
      const connections = (await store.listConnections({ tenantId: scope.tenantId })).filter((connection) => !visible || visible.includes(connection.id));
      const now = clock.now();
      return connections.map((connection) => assessHealth(connection, now, thresholds));
    },
    async instance(rawScope: Scope): Promise<InstanceHealth> {
      checkScope(rawScope);
      if (context.engine.stopping) return { status: 'stopping', reasons: ['stop() began: webhooks are answered 503, no new job starts'] };
      const storeProblem = await probeStore(context);
      return storeProblem ? { status: 'degraded', reasons: [storeProblem] } : { status: 'ok', reasons: [] };
    },
  });
}
