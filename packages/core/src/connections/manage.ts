// A tenant's connected mailboxes: reads (never the sealed tokens) and the commands a settings page
// offers (refresh now, full resync, share with the team).
import type { ReadScope } from '../api.js';
import type { CoreContext } from '../context.js';
import { publicConnection, type PublicConnection } from '../events.js';

export function createConnectionCommands(context: CoreContext) {
  const { store, engine, clock } = context;
  return {
    async get(connectionId: string, scope: ReadScope): Promise<PublicConnection> {
      return publicConnection(await context.connectionFor(connectionId, scope));
    },
    async list(scope: ReadScope): Promise<PublicConnection[]> {
      await context.init();
      const all = await store.listConnections({ tenantId: scope.tenantId, ...(scope.userId ? { userId: scope.userId } : {}) });
      return all.map(publicConnection);
    },
    async sync(connectionId: string, scope: ReadScope): Promise<void> {
      await context.connectionFor(connectionId, scope);
      await engine.requestSync(connectionId, 'manual');
    },
    async resync(connectionId: string, scope: ReadScope): Promise<void> {
      await context.connectionFor(connectionId, scope);
      await engine.enqueue('resync', connectionId);
    },
    async setShared(connectionId: string, shared: boolean, scope: ReadScope): Promise<void> {
      await context.connectionFor(connectionId, scope);
      await store.patchConnection(connectionId, { shared, updatedAt: clock.now() });
    },
  };
}
