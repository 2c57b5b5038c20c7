// Directory reads for app-only callers (issue 19): GET /users (paged), GET /users/{id | UPN} and
// GET /groups/{id}/transitiveMembers/microsoft.graph.user, typed with @microsoft/microsoft-graph-types
// (learn.microsoft.com/graph/api/user-list, /user-get, /group-list-transitivemembers).
import type { User } from '@microsoft/microsoft-graph-types';
import type { EmulatorResponse } from '../common/server.js';
import type { AppPermissions } from './app-permissions.js';
import type { Mailbox, MailStore } from './mail-store.js';
import { graphError, graphJson, queryOption } from './odata.js';

/** Application permissions that may read users (learn.microsoft.com/graph/api/user-list#permissions). */
export const DIRECTORY_USERS = ['User.ReadBasic.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All'] as const;
/** … and a group's transitive members (learn.microsoft.com/graph/api/group-list-transitivemembers#permissions). */
export const DIRECTORY_GROUPS = ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All'] as const;

const DEFAULT_PAGE = 100;
const MAX_PAGE = 999;

function userOf(mailbox: Mailbox, apps: AppPermissions): User {
  return {
    id: mailbox.userId,
    displayName: mailbox.name,
    mail: mailbox.email,
    userPrincipalName: mailbox.email,
    // A shared mailbox is a user object whose account is disabled (no sign-in).
    accountEnabled: !apps.isShared(mailbox),
  };
}

/** Keeps `$select`ed properties (and `id`, which Graph always returns). */
function selected(user: User, url: URL): Partial<User> {
  const select = queryOption(url, 'select');
  if (!select) return user;
  const wanted = new Set(['id', ...select.split(',').map((name) => name.trim())]);
  return Object.fromEntries(Object.entries(user).filter(([name]) => wanted.has(name))) as Partial<User>;
}

function page(users: User[], url: URL, context: string): EmulatorResponse {
  const top = Math.min(MAX_PAGE, Number(queryOption(url, 'top') ?? DEFAULT_PAGE) || DEFAULT_PAGE);
  const skip = Number(url.searchParams.get('$skiptoken') ?? '0') || 0;
  const slice = users.slice(skip, skip + top).map((user) => selected(user, url));
  const body: Record<string, unknown> = { '@odata.context': context, value: slice };
  if (skip + top < users.length) {
    const next = new URL(url);
    next.searchParams.set('$skiptoken', String(skip + top));
    body['@odata.nextLink'] = next.toString();
  }
  return graphJson(200, body);
}

export function findUser(store: MailStore, reference: string): Mailbox | undefined {
  return store.mailboxByUserId(reference) ?? store.mailbox(reference);
}

export function listUsers(store: MailStore, apps: AppPermissions, url: URL, origin: string): EmulatorResponse {
  const users = store.allMailboxes().map((mailbox) => userOf(mailbox, apps));
  return page(users, url, `${origin}/v1.0/$metadata#users`);
}

export function getUser(store: MailStore, apps: AppPermissions, reference: string, url: URL, origin: string): EmulatorResponse {
  const mailbox = findUser(store, reference);
  if (!mailbox) {
    return graphError(
      404,
      'Request_ResourceNotFound',
      `Resource '${reference}' does not exist or one of its queried reference-property objects are not present.`,
    );
  }
  return graphJson(200, { '@odata.context': `${origin}/v1.0/$metadata#users/$entity`, ...selected(userOf(mailbox, apps), url) });
}

export function listGroupUsers(apps: AppPermissions, groupId: string, url: URL, origin: string): EmulatorResponse {
  const members = apps.transitiveMembers(groupId);
  if (!members) {
    return graphError(
      404,
      'Request_ResourceNotFound',
      `Resource '${groupId}' does not exist or one of its queried reference-property objects are not present.`,
    );
  }
  const users = members.map((mailbox) => ({ '@odata.type': '#microsoft.graph.user', ...userOf(mailbox, apps) }));
  return page(users, url, `${origin}/v1.0/$metadata#users`);
}
