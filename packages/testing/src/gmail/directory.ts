// Admin SDK Directory API, the two reads an org connection needs, typed with the generated
// admin_directory_v1 schemas:
//   GET /admin/directory/v1/users?customer=my_customer|domain=…&maxResults≤500&pageToken&query
//   GET /admin/directory/v1/groups/{groupKey}/members?maxResults≤200&pageToken
// Both need a token for a Workspace admin (a service account impersonating one) with the
// matching scope. developers.google.com/workspace/admin/directory/reference/rest/v1/users/list,
// …/members/list
import type { admin_directory_v1 } from '@googleapis/admin';
import type { EmulatorRequest, EmulatorResponse, Router } from '../common/server.js';
import { googleError, insufficientScopes, invalidCredentials, loginRequired } from './errors.js';
import type { OAuthServer } from './oauth.js';
import type { Workspace } from './workspace.js';

const ADMIN = 'https://www.googleapis.com/auth/admin.directory.';
const USER_SCOPES = [`${ADMIN}user`, `${ADMIN}user.readonly`];
const MEMBER_SCOPES = [`${ADMIN}group`, `${ADMIN}group.readonly`, `${ADMIN}group.member`, `${ADMIN}group.member.readonly`];

const notAuthorized = (): EmulatorResponse => googleError(403, 'Not Authorized to access this resource/api', 'forbidden');

/** One page of `items` from `pageToken` (an offset, opaque to clients). */
function page<T>(items: T[], query: URLSearchParams, max: number, fallback: number): { slice: T[]; next?: string } | EmulatorResponse {
  const raw = query.get('maxResults');
  const size = raw === null ? fallback : Number(raw);
  if (!Number.isInteger(size) || size < 1 || size > max) return googleError(400, 'Invalid Input: maxResults', 'invalid');
  const token = query.get('pageToken');
  const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
  if (!Number.isInteger(start) || start < 0) return googleError(400, 'Invalid Input: pageToken', 'invalid');
  const slice = items.slice(start, start + size);
  return start + size < items.length ? { slice, next: Buffer.from(String(start + size)).toString('base64url') } : { slice };
}

export class DirectoryApi {
  constructor(
    private readonly oauth: OAuthServer,
    private readonly workspace: Workspace,
  ) {}

  register(router: Router): void {
    router
      .add('GET', '/admin/directory/v1/users', (request) => this.guard(request, USER_SCOPES, 'users.list', () => this.listUsers(request.url.searchParams)))
      .add('GET', '/admin/directory/v1/groups/:groupKey/members', (request) =>
        this.guard(request, MEMBER_SCOPES, 'members.list', () => this.listMembers(request.params['groupKey'] ?? '', request.url.searchParams)),
      );
  }

  /** Bearer token → scope → the caller is an admin of this domain. */
  private guard(request: EmulatorRequest, scopes: string[], method: string, run: () => EmulatorResponse): EmulatorResponse {
    if (!request.headers.authorization) return loginRequired();
    const check = this.oauth.check(request.headers.authorization);
    if (!check.ok) return invalidCredentials();
    if (!scopes.some((scope) => check.record.scopes.includes(scope))) return insufficientScopes(method, scopes);
    if (!this.workspace.users.get(check.record.grant.email)?.isAdmin) return notAuthorized();
    return run();
  }

  private listUsers(query: URLSearchParams): EmulatorResponse {
    const customer = query.get('customer');
    const domain = query.get('domain');
    if (customer === null && domain === null) return googleError(400, 'Bad Request', 'badRequest');
    if (customer !== null && customer !== 'my_customer' && customer !== this.workspace.customerId) return notAuthorized();
    if (domain !== null && domain.toLowerCase() !== this.workspace.domain) return notAuthorized();
    const filter = /^email:(\S+)$/.exec(query.get('query') ?? '')?.[1]?.toLowerCase();
    const users = [...this.workspace.users.values()]
      .filter((user) => filter === undefined || user.email.startsWith(filter.replace(/\*$/, '')))
      .sort((a, b) => a.email.localeCompare(b.email))
      .map(
        (user): admin_directory_v1.Schema$User => ({
          kind: 'admin#directory#user',
          id: user.id,
          primaryEmail: user.email,
          name: { fullName: user.name },
          isAdmin: user.isAdmin,
          suspended: user.suspended,
          archived: false,
          customerId: this.workspace.customerId,
        }),
      );
    const paged = page(users, query, 500, 100);
    if ('status' in paged) return paged;
    const body: admin_directory_v1.Schema$Users = { kind: 'admin#directory#users', users: paged.slice, ...(paged.next ? { nextPageToken: paged.next } : {}) };
    return { status: 200, body };
  }

  private listMembers(groupKey: string, query: URLSearchParams): EmulatorResponse {
    const group = [...this.workspace.groups.values()].find((candidate) => candidate.email === groupKey.toLowerCase() || candidate.id === groupKey);
    if (!group) return googleError(404, 'Resource Not Found: groupKey', 'notFound');
    const members = group.members.map(
      (member): admin_directory_v1.Schema$Member => ({
        kind: 'admin#directory#member',
        email: member.email,
        id:
          member.type === 'USER' ? (this.workspace.users.get(member.email)?.id ?? member.email) : (this.workspace.groups.get(member.email)?.id ?? member.email),
        role: 'MEMBER',
        type: member.type,
        status: 'ACTIVE',
      }),
    );
    const paged = page(members, query, 200, 200);
    if ('status' in paged) return paged;
    const body: admin_directory_v1.Schema$Members = {
      kind: 'admin#directory#members',
      members: paged.slice,
      ...(paged.next ? { nextPageToken: paged.next } : {}),
    };
    return { status: 200, body };
  }
}
