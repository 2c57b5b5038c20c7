// Application permissions in the emulated tenant (issue 19): what an admin granted the app through
// the v2 admin consent endpoint (learn.microsoft.com/entra/identity-platform/v2-admin-consent),
// the app roles its client-credentials tokens carry in `roles`
// (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow), the Exchange
// application access policy that limits which mailboxes the app reaches
// (learn.microsoft.com/graph/auth-limit-mailbox-access), groups and shared mailboxes.
import { newGuid } from './ids.js';
import type { Mailbox, MailStore } from './mail-store.js';

/** What `https://graph.microsoft.com/.default` grants: the application permissions configured on the app registration. */
const DEFAULT_APP_ROLES = ['Mail.ReadBasic.All', 'Mail.Read.All', 'Mail.Send', 'User.Read.All', 'GroupMember.Read.All'] as const;

/**
 * Graph's answer to an app-only call on a mailbox outside the tenant's application access policy
 * (403 ErrorAccessDenied, as reported for New-ApplicationAccessPolicy / RBAC for Applications scopes).
 */
export const ACCESS_POLICY_MESSAGE = 'Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.';

export interface EmulatedGroup {
  id: string;
  displayName: string;
  /** Member mailbox addresses (lower case); nested groups are flattened by `transitiveMembers`. */
  members: Set<string>;
  nested: Set<string>;
}

export class AppPermissions {
  /** The roles configured on the app registration (what an admin consents to). */
  configuredRoles: string[] = [...DEFAULT_APP_ROLES];
  /** The roles granted in the tenant; null while no admin consented (no service principal). */
  granted: string[] | null = null;
  /** Bumped when consent is revoked: app tokens issued before stop working. */
  generation = 0;
  /** Object id of the app's service principal in the tenant (the `oid` of app tokens). */
  servicePrincipalId = newGuid();
  /** Mailbox addresses the app may reach (an application access policy); null = every mailbox. */
  private policy: Set<string> | null = null;
  private readonly admins = new Set<string>();
  private readonly shared = new Set<string>();
  readonly groups = new Map<string, EmulatedGroup>();

  constructor(private readonly store: MailStore) {}

  makeAdmin(email: string): void {
    this.admins.add(this.store.requireMailbox(email).email.toLowerCase());
  }

  isAdmin(email: string): boolean {
    return this.admins.has(email.toLowerCase());
  }

  addShared(email: string): void {
    this.shared.add(this.store.requireMailbox(email).email.toLowerCase());
  }

  /** A shared mailbox has no sign-in of its own (its account is disabled): only delegation or app permissions reach it. */
  isShared(mailbox: Mailbox): boolean {
    return this.shared.has(mailbox.email.toLowerCase());
  }

  addGroup(displayName: string, members: string[], nestedGroups: string[] = []): string {
    const id = newGuid();
    this.groups.set(id, {
      id,
      displayName,
      members: new Set(members.map((member) => this.store.requireMailbox(member).email.toLowerCase())),
      nested: new Set(nestedGroups),
    });
    return id;
  }

  /** Every user member of a group, nested groups included (each once). */
  transitiveMembers(groupId: string, seen = new Set<string>()): Mailbox[] | undefined {
    const group = this.groups.get(groupId);
    if (!group) return undefined;
    seen.add(groupId);
    const found = new Map<string, Mailbox>();
    for (const email of group.members) {
      const mailbox = this.store.mailbox(email);
      if (mailbox) found.set(mailbox.userId, mailbox);
    }
    for (const nested of group.nested) {
      if (seen.has(nested)) continue;
      for (const mailbox of this.transitiveMembers(nested, seen) ?? []) found.set(mailbox.userId, mailbox);
    }
    return [...found.values()];
  }

  /** Scopes the app to these mailboxes (New-ApplicationAccessPolicy -AccessRight RestrictAccess); null lifts it. */
  restrictTo(emails: string[] | null): void {
    this.policy = emails === null ? null : new Set(emails.map((email) => email.toLowerCase()));
  }

  mayReach(mailbox: Mailbox): boolean {
    return this.policy === null || this.policy.has(mailbox.email.toLowerCase());
  }

  /** Admin consent: the configured roles are granted in the tenant. */
  grant(): void {
    this.granted = [...this.configuredRoles];
  }

  /** The admin removed the app (deleted its service principal): client credentials fail, issued tokens stop working. */
  revoke(): void {
    this.granted = null;
    this.generation += 1;
    this.servicePrincipalId = newGuid();
  }

  /** Removes one granted role (an admin unticked it); tokens issued afterwards lack it. */
  removeRole(role: string): void {
    if (this.granted) this.granted = this.granted.filter((granted) => granted.toLowerCase() !== role.toLowerCase());
  }
}

/**
 * The delegated permission each application role stands for in the route table
 * (permissions.ts): `Mail.Read.All` allows what `Mail.Read` allows, across mailboxes.
 */
export function rolesAsScopes(roles: readonly string[]): string[] {
  return roles.map((role) => (/^Mail\./i.test(role) ? role.replace(/\.All$/i, '') : role));
}
