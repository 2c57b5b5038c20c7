// tl.policy.*: read, change and preview the ingestion policy. The tenant's rules are an admin's;
// a connection's rules are its owner's (or an admin's). A change applies retroactively: what now
// falls outside is purged before the call returns (the report lists the removed message ids, each
// gets a `message.deleted` event as a sync's delete would, the log only counts), and a loosening enqueues a reconciliation per affected mailbox that brings
// back what the provider still has within the back-fill window.
import type { Scope } from '../api.js';
import { checkScope, type CoreContext } from '../context.js';
import { ConnectionPolicy, TenantPolicy, type ConnectionPolicyInput, type TenantPolicyInput } from '../domain/policy.js';
import type { Connection } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import { effectivePolicyOf } from './admit.js';
import type { EffectivePolicy } from './evaluate.js';
import { parsePolicyInput } from './parse.js';
import { resolveLabelRules } from './labels.js';
import { withMailboxHeld } from './mailbox-hold.js';
import { loosens, outsideOf, purgeMessages } from './retroactive.js';

/** Which policy: the tenant's (no connectionId) or one connection's. */
export type PolicyTarget = Scope & { connectionId?: string };

export interface PolicyView {
  /** The tenant's rules (defaults when none are saved). */
  tenant: TenantPolicy;
  /** The connection's own rules when the target names one (defaults when none are saved), else null. */
  connection: ConnectionPolicy | null;
}

export interface PolicyPreview {
  /** Stored messages the rules would remove (threadlink ids), per the effective policy of each mailbox. */
  messageIds: string[];
  /** The mailboxes the rules apply to. */
  connectionIds: string[];
}

export interface PolicyChangeReport {
  /** The rules now saved, defaults filled in. */
  policy: TenantPolicy | ConnectionPolicy;
  /** What the change removed from the store. */
  purged: { messages: number; links: number; messageIds: string[] };
  /** Mailboxes a reconciliation was enqueued for, because the change may admit mail kept out before. */
  resync: string[];
}

interface Resolved {
  tenantId: string;
  /** null: the tenant's policy. */
  connectionId: string | null;
  connections: Connection[];
}

export function createPolicyCommands(context: CoreContext) {
  const { store, logger, engine } = context;

  /** The target, with access checked: writing the tenant's rules takes an admin scope. */
  const resolve = async (target: PolicyTarget, access: 'read' | 'write'): Promise<Resolved> => {
    const scope = checkScope(target);
    await context.init();
    const connectionId = (target as { connectionId?: unknown }).connectionId;
    if (connectionId !== undefined) {
      if (typeof connectionId !== 'string' || connectionId === '') throw new ThreadlinkError('INVALID_INPUT', 'connectionId must be a non-empty string');
      const connection = await context.connectionFor(connectionId, scope, 'own');
      return { tenantId: scope.tenantId, connectionId, connections: [connection] };
    }
    if (access === 'write' && scope.as !== 'admin') {
      throw new ThreadlinkError('SCOPE_REQUIRED', "The tenant's policy is changed with an admin scope ({ tenantId, as: 'admin' })");
    }
    const all = await store.listConnections({ tenantId: scope.tenantId });
    return { tenantId: scope.tenantId, connectionId: null, connections: all.filter((connection) => connection.status !== 'disconnected') };
  };

  /** The input as rules of the target's level; a connection's label names become the ids they name (labels.ts). */
  const parseRules = async (resolved: Resolved, input: unknown): Promise<TenantPolicy | ConnectionPolicy> => {
    if (resolved.connectionId === null) return parsePolicyInput('tenant', input);
    const [connection] = resolved.connections;
    const rules = parsePolicyInput('connection', input) as ConnectionPolicy;
    return connection ? resolveLabelRules(store, connection, rules) : rules;
  };

  const read = async (tenantId: string, connectionId: string | null): Promise<PolicyView> => {
    const stored = await store.getPolicies(tenantId, connectionId ?? undefined);
    return {
      tenant: stored.tenant ?? TenantPolicy.parse({}),
      connection: connectionId === null ? null : (stored.connection ?? ConnectionPolicy.parse({})),
    };
  };

  /** Each affected mailbox's effective policy once `rules` are saved at the target's level. */
  const effectiveWith = async (resolved: Resolved, rules: TenantPolicy | ConnectionPolicy): Promise<Array<[Connection, EffectivePolicy]>> =>
    Promise.all(
      resolved.connections.map(async (connection): Promise<[Connection, EffectivePolicy]> => {
        const current = await effectivePolicyOf(store, resolved.tenantId, connection.id);
        return [
          connection,
          resolved.connectionId === null ? { ...current, tenant: rules as TenantPolicy } : { ...current, connection: rules as ConnectionPolicy },
        ];
      }),
    );

  const outside = async (resolved: Resolved, rules: TenantPolicy | ConnectionPolicy): Promise<string[]> => {
    const ids: string[] = [];
    for (const [connection, policy] of await effectiveWith(resolved, rules))
      ids.push(...(await outsideOf(store, connection, policy)).map((message) => message.id));
    return ids;
  };

  const set = async (input: TenantPolicyInput | ConnectionPolicyInput, target: PolicyTarget): Promise<PolicyChangeReport> => {
    const resolved = await resolve(target, 'write');
    const level = resolved.connectionId === null ? 'tenant' : 'connection';
    const rules = await parseRules(resolved, input);
    const before = await read(resolved.tenantId, resolved.connectionId);
    const previous = resolved.connectionId === null ? before.tenant : (before.connection as ConnectionPolicy);
    // Saved first: from here on every page (any instance) reads the new rules; each mailbox is then
    // purged under its lease, so no page that read the old rules is still in flight (mailbox-hold.ts).
    await store.savePolicy(resolved.tenantId, resolved.connectionId, rules);
    const purged = { messageIds: [] as string[], links: 0 };
    for (const [connection, policy] of await effectiveWith(resolved, rules)) {
      const removed = await withMailboxHeld(context, connection.id, async () => purgeMessages(context, connection, await outsideOf(store, connection, policy)));
      purged.messageIds.push(...removed.messageIds);
      purged.links += removed.links;
    }
    const resync: string[] = [];
    if (loosens(previous, rules)) {
      for (const connection of resolved.connections) {
        await engine.enqueue('resync', connection.id, 0, { reason: 'reconciliation' });
        resync.push(connection.id);
      }
    }
    // Counts and ids only: the rules themselves are addresses and stay out of logs.
    logger.info('ingestion policy changed', { tenantId: resolved.tenantId, level, purgedMessages: purged.messageIds.length, resyncs: resync.length });
    return { policy: rules, purged: { messages: purged.messageIds.length, links: purged.links, messageIds: purged.messageIds }, resync };
  };

  return {
    async get(target: PolicyTarget): Promise<PolicyView> {
      const resolved = await resolve(target, 'read');
      return read(resolved.tenantId, resolved.connectionId);
    },
    set,
    /** Top-level fields of `patch` replace the saved ones (arrays are replaced, not merged). */
    async update(patch: Partial<TenantPolicyInput & ConnectionPolicyInput>, target: PolicyTarget): Promise<PolicyChangeReport> {
      const resolved = await resolve(target, 'write');
      const current = await read(resolved.tenantId, resolved.connectionId);
      if (typeof patch !== 'object' || patch === null)
        throw new ThreadlinkError('POLICY_INVALID', 'A policy patch is an object', { details: { rule: '(policy)' } });
      return set({ ...(resolved.connectionId === null ? current.tenant : current.connection), ...patch }, target);
    },
    async preview(input: TenantPolicyInput | ConnectionPolicyInput, target: PolicyTarget): Promise<PolicyPreview> {
      const resolved = await resolve(target, 'write');
      const rules = await parseRules(resolved, input);
      return { messageIds: await outside(resolved, rules), connectionIds: resolved.connections.map((connection) => connection.id) };
    },
  };
}
