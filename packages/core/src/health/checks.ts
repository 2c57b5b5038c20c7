// The health calls a host makes (one connection, or all the scope may see): each connection judged
// by assessHealth against the thresholds read once from the config.
import type { Scope, Threadlink } from '../api.js';
import { checkScope, type CoreContext } from '../context.js';
import { assessHealth, type ConnectionHealth } from './health.js';

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
  });
}
