// The health calls a host makes (one connection, or all of a tenant's): each connection judged by
// assessHealth against the thresholds read once from the config.
import type { ReadScope, Threadlink } from '../api.js';
import type { CoreContext } from '../context.js';
import { assessHealth, type ConnectionHealth } from './health.js';

export function createHealthChecks(context: CoreContext): Threadlink['health'] {
  const { store, clock, thresholds } = context;
  const one = async (connectionId: string, scope?: ReadScope): Promise<ConnectionHealth> =>
    assessHealth(await context.connectionFor(connectionId, scope), clock.now(), thresholds);
  return Object.assign(one, {
    async all(scope?: { tenantId?: string }): Promise<ConnectionHealth[]> {
      await context.init();
      const connections = await store.listConnections(scope?.tenantId ? { tenantId: scope.tenantId } : {});
      const now = clock.now();
      return connections.map((connection) => assessHealth(connection, now, thresholds));
    },
  });
}
