// A tenant's connected mailboxes: reads (never the sealed tokens) and the commands a settings page
// offers (refresh now, full resync, share with the team). Reads follow visibility (own or shared);
// commands are the owner's or an admin's (context.ts).
import type { Scope } from '../api.js';
import { checkScope, type CoreContext } from '../context.js';
import { publicConnection, type PublicConnection } from '../events.js';

export function createConnectionCommands(context: CoreContext) {
  const { store, engine, clock } = context;
  return {
    async get(connectionId: string, scope: Scope): Promise<PublicConnection> {
      return publicConnection(await context.connectionFor(connectionId, scope));
    },
    async list(rawScope: Scope): Promise<PublicConnection[]> {
      const scope = checkScope(rawScope);
      await context.init();
      const all = await store.listConnections({ tenantId: scope.tenantId, ...(scope.as === 'admin' ? {} : { userId: scope.userId }) });
      return all.map(publicConnection);
    },
    async sync(connectionId: string, scope: Scope): Promise<void> {
      await context.connectionFor(connectionId, scope, 'own');
      await engine.requestSync(connectionId, 'manual');
    },
    async resync(connectionId: string, scope: Scope): Promise<void> {
      await context.connectionFor(connectionId, scope, 'own');
      await engine.enqueue('resync', connectionId);
    },
    async setShared(connectionId: string, shared: boolean, scope: Scope): Promise<void> {
      await context.connectionFor(connectionId, scope, 'own');
      await store.patchConnection(connectionId, { shared, updatedAt: clock.now() });
    },
  };
}
