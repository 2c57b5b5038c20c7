// A Google Workspace domain as its admin sees it: users (active or suspended, admins), groups,
// service accounts with keys, and the Admin console's domain-wide delegation table (client id →
// authorised scopes). The token endpoint asks it about JWT-bearer assertions
// (urn:ietf:params:oauth:grant-type:jwt-bearer, RFC 7523) the way Google answers them:
// developers.google.com/identity/protocols/oauth2/service-account#delegatingauthority
import { createHash, generateKeyPair as generateKeyPairCallback, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { normalizeScopes } from './scopes.js';

const generateKeyPair = promisify(generateKeyPairCallback);

/** The audience every JWT-bearer assertion names (gtoken hard-codes it; Google checks it). */
export const GOOGLE_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
/** Google refuses assertions living longer than an hour. */
const MAX_ASSERTION_SECONDS = 3600;
const CLOCK_SKEW_SECONDS = 300;

/** The key file the Cloud console downloads (IAM → Service accounts → Keys → Add key → JSON). */
export interface ServiceAccountKeyFile {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
}

interface ServiceAccount {
  clientEmail: string;
  clientId: string;
  keys: Map<string, KeyObject>;
  disabled: boolean;
}

export interface WorkspaceUser {
  id: string;
  email: string;
  name: string;
  suspended: boolean;
  isAdmin: boolean;
}

export interface WorkspaceGroupMember {
  email: string;
  type: 'USER' | 'GROUP';
}

export interface WorkspaceGroup {
  id: string;
  email: string;
  members: WorkspaceGroupMember[];
}

/** What the token endpoint does with an assertion: a token for `email`, or Google's refusal. */
export type AssertionCheck =
  | { ok: true; clientId: string; email: string; scopes: string[] }
  | { ok: false; status: 400 | 401; error: 'invalid_grant' | 'unauthorized_client' | 'invalid_request'; description: string };

const refuse = (status: 400 | 401, error: 'invalid_grant' | 'unauthorized_client' | 'invalid_request', description: string): AssertionCheck => ({
  ok: false,
  status,
  error,
  description,
});

const numericId = (): string =>
  `1${BigInt(`0x${randomBytes(8).toString('hex')}`)
    .toString()
    .padStart(20, '0')
    .slice(0, 20)}`;

export class Workspace {
  readonly users = new Map<string, WorkspaceUser>();
  readonly groups = new Map<string, WorkspaceGroup>();
  private readonly serviceAccounts = new Map<string, ServiceAccount>();
  private readonly delegation = new Map<string, Set<string>>();

  constructor(
    readonly domain: string,
    readonly customerId: string,
    private readonly onUser: (user: WorkspaceUser) => void,
  ) {}

  addUser(input: { email: string; name?: string; suspended?: boolean; isAdmin?: boolean }): WorkspaceUser {
    const email = input.email.trim().toLowerCase();
    const user: WorkspaceUser = {
      id: this.users.get(email)?.id ?? numericId(),
      email,
      name: input.name ?? email.split('@')[0] ?? email,
      suspended: input.suspended ?? false,
      isAdmin: input.isAdmin ?? false,
    };
    this.users.set(email, user);
    this.onUser(user);
    return user;
  }

  removeUser(email: string): void {
    this.users.delete(email.trim().toLowerCase());
  }

  addGroup(input: { email: string; members: WorkspaceGroupMember[] }): WorkspaceGroup {
    const email = input.email.trim().toLowerCase();
    const group: WorkspaceGroup = {
      id: this.groups.get(email)?.id ?? randomBytes(8).toString('hex'),
      email,
      members: input.members.map((member) => ({ email: member.email.toLowerCase(), type: member.type })),
    };
    this.groups.set(email, group);
    return group;
  }

  /** IAM: a new service account with one JSON key, as the Cloud console downloads it. */
  async createServiceAccount(name: string, projectId = 'acme-crm'): Promise<ServiceAccountKeyFile> {
    const clientEmail = `${name}@${projectId}.iam.gserviceaccount.com`;
    const account: ServiceAccount = { clientEmail, clientId: numericId(), keys: new Map(), disabled: false };
    this.serviceAccounts.set(clientEmail, account);
    return this.createKey(clientEmail, projectId);
  }

  async createKey(clientEmail: string, projectId = 'acme-crm'): Promise<ServiceAccountKeyFile> {
    const account = this.requireAccount(clientEmail);
    const { privateKey, publicKey } = await generateKeyPair('rsa', { modulusLength: 2048 });
    const keyId = createHash('sha1')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex');
    account.keys.set(keyId, publicKey);
    return {
      type: 'service_account',
      project_id: projectId,
      private_key_id: keyId,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: clientEmail,
      client_id: account.clientId,
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: GOOGLE_TOKEN_AUDIENCE,
    };
  }

  /** IAM: the key is deleted; assertions it signs fail with invalid_grant. */
  deleteKey(clientEmail: string, keyId: string): void {
    this.requireAccount(clientEmail).keys.delete(keyId);
  }

  /** Admin console → Security → API controls → Domain-wide delegation: add (or overwrite) a client id's scopes. */
  authorizeDelegation(clientId: string, scopes: readonly string[]): void {
    this.delegation.set(clientId, new Set(normalizeScopes(scopes.join(' '))));
  }

  /** The admin deletes the client id from the delegation table: later assertions are refused. */
  revokeDelegation(clientId: string): void {
    this.delegation.delete(clientId);
  }

  private requireAccount(clientEmail: string): ServiceAccount {
    const account = this.serviceAccounts.get(clientEmail);
    if (!account) throw new Error(`No emulated service account ${clientEmail}`);
    return account;
  }

  /** Verifies a JWT-bearer assertion as Google's token endpoint does. `nowMs` is the wall clock the signer used. */
  async checkAssertion(assertion: string, nowMs: number): Promise<AssertionCheck> {
    let claims: ReturnType<typeof decodeJwt>;
    try {
      if (decodeProtectedHeader(assertion).alg !== 'RS256') return refuse(400, 'invalid_grant', 'Invalid JWT Signature.');
      claims = decodeJwt(assertion);
    } catch {
      return refuse(400, 'invalid_grant', 'Invalid JWT Signature.');
    }
    const account = typeof claims.iss === 'string' ? this.serviceAccounts.get(claims.iss) : undefined;
    if (!account || account.disabled) return refuse(400, 'invalid_grant', 'Invalid grant: account not found');
    if (!(await this.signedByAccount(assertion, account))) return refuse(400, 'invalid_grant', 'Invalid JWT Signature.');
    if (claims.aud !== GOOGLE_TOKEN_AUDIENCE)
      return refuse(400, 'invalid_grant', `Invalid JWT: Failed audience check. The right audience is ${GOOGLE_TOKEN_AUDIENCE}`);
    const now = Math.floor(nowMs / 1000);
    const { iat, exp } = claims;
    if (
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      exp - iat > MAX_ASSERTION_SECONDS ||
      iat > now + CLOCK_SKEW_SECONDS ||
      exp < now - CLOCK_SKEW_SECONDS
    ) {
      return refuse(
        400,
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      );
    }
    if (typeof claims['scope'] !== 'string' || claims['scope'].trim() === '')
      return refuse(400, 'invalid_request', 'Invalid OAuth scope or ID token audience provided.');
    const scopes = normalizeScopes(claims['scope']);
    if (typeof claims.sub !== 'string' || claims.sub === '') return { ok: true, clientId: account.clientId, email: account.clientEmail, scopes };
    const authorised = this.delegation.get(account.clientId);
    if (!authorised || !scopes.every((scope) => authorised.has(scope))) {
      return refuse(
        401,
        'unauthorized_client',
        'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
      );
    }
    const user = this.users.get(claims.sub.toLowerCase());
    if (!user || user.suspended) return refuse(400, 'invalid_grant', 'Invalid email or User ID');
    return { ok: true, clientId: account.clientId, email: user.email, scopes };
  }

  private async signedByAccount(assertion: string, account: ServiceAccount): Promise<boolean> {
    for (const key of account.keys.values()) {
      try {
        // Times are checked separately, with Google's messages.
        await jwtVerify(assertion, key, { algorithms: ['RS256'], currentDate: new Date(0), clockTolerance: Number.MAX_SAFE_INTEGER });
        return true;
      } catch {
        // try the next key
      }
    }
    return false;
  }
}
