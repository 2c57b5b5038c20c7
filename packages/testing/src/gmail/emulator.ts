// startGmailEmulator(): Gmail API + Google OAuth + Cloud Pub/Sub push on one
// loopback port, for the real `@googleapis/gmail` and `google-auth-library` clients.
import type { JWTPayload } from 'jose';
import { RequestLog, Router, serve, sleep, type EmulatorRequest, type EmulatorResponse, type FaultKnobs } from '../common/server.js';
import { PubSubAdmin, pubsubOperation, type EmulatedPubSub } from '../pubsub/admin.js';
import { PushSubscription, type PushLog, type PushRetryPolicy } from '../pubsub/push.js';
import { GmailApi, type GmailFaults, type InjectedFailure } from './api.js';
import { handleBatch } from './batch.js';
import { foreignSigningKey, sharedSigningKey, signJwt } from './keys.js';
import type { HeaderField } from './mime.js';
import { WatchNotifier } from './notifier.js';
import { OAuthServer } from './oauth.js';
import { QuotaWindow } from './quota.js';
import { DirectoryApi } from './directory.js';
import { Workspace } from './workspace.js';
import { GmailService, type DeliverInput, type DeliveredMessages } from './service.js';
import { failureSpec } from '../common/failures.js';

export interface GmailEmulatorOptions {
  /** Added latency per HTTP request, modelling Google's round trip. */
  latencyMs?: number;
  /**
   * The emulator's clock: access-token expiry, auth codes, internalDate, watch expiration,
   * the quota window. Signed JWTs (id_token, push tokens) use `wallClock` instead.
   */
  now?: () => number;
  /**
   * iat/exp of signed JWTs (default Date.now). Verifiers such as google-auth-library read
   * the real clock, so advancing `now` (e.g. past a watch's 7 days) must not make every
   * push token "used too early".
   */
  wallClock?: () => number;
  port?: number;
  /** Per-user quota; Gmail allows 15,000 units/min ≈ 250 units/s. */
  quotaUnitsPerSecond?: number;
  clientId?: string;
  clientSecret?: string;
  /** Accepted redirect URIs (default: any). */
  redirectUris?: string[];
  /** Randomness for ids, history gaps and fault rolls (inject for reproducible runs). */
  random?: () => number;
  /** Gmail's 1 notification/s/user window (default 1000 ms). */
  notificationIntervalMs?: number;
  /** `coalesce` (default) sends one trailing push per window; `drop` loses them as Gmail does. */
  notificationRateMode?: 'coalesce' | 'drop';
  pushRetry?: Partial<PushRetryPolicy>;
  pushAckDeadlineMs?: number;
  pushEndpoint?: string;
  pushAudience?: string;
  /**
   * What messages.send does with the Message-ID the client wrote: 'keep' it (default), or
   * 'replace' it with a Gmail-made `<CA…@mail.gmail.com>` one, as users report the real API does
   * (github.com/FlowCrypt/flowcrypt-browser/issues/4273). Adapters must work either way.
   */
  sentMessageIds?: 'keep' | 'replace';
  /** The Google Workspace primary domain `workspace` (domain-wide delegation, Directory API) administers (default example.com). */
  workspaceDomain?: string;
}

export interface EmulatedGmailMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  headers: HeaderField[];
  /** The stored RFC 2822 message, as text. */
  raw: string;
  internalDate: number;
  historyId: string;
  /** RFC Message-ID with angle brackets. */
  messageId: string;
  subject: string;
  attachmentNames: string[];
}

export interface GmailProviderOptions {
  clientId: string;
  clientSecret: string;
  pubsubTopic: string;
  pushAudience: string;
  pushServiceAccount: string;
  apiRootUrl: string;
  /** The Directory API (Admin SDK) root: the same loopback server. */
  directoryRootUrl: string;
  /** Present when the emulator was started with a custom quota, so the adapter paces to match. */
  quotaUnitsPerSecond?: number;
  oauthEndpoints: {
    oauth2AuthBaseUrl: string;
    oauth2TokenUrl: string;
    oauth2RevokeUrl: string;
    oauth2FederatedSignonPemCertsUrl: string;
    oauth2FederatedSignonJwkCertsUrl: string;
    tokenInfoUrl: string;
  };
}

export interface GmailPushLog extends PushLog {
  /** Notifications Gmail's one-per-second rule dropped or folded into a trailing one. */
  rateLimited: number;
}

export interface GmailEmulator {
  url: string;
  /** Spread into gmailProvider({...}); `pushAudience` reflects the current push endpoint. */
  readonly providerOptions: GmailProviderOptions;
  addMailbox(input: { email: string; name?: string }): void;
  deliver(input: DeliverInput): Promise<DeliveredMessages>;
  deleteMessage(mailbox: string, id: string): void;
  modifyLabels(mailbox: string, id: string, add: string[], remove: string[]): void;
  /** What a user does in Gmail's UI, through the same code as users.labels.create/patch/delete. Returns the new id. */
  createLabel(mailbox: string, name: string): string;
  /** A rename: no message changes and no history record is written (Gmail has none for label changes). */
  renameLabel(mailbox: string, id: string, name: string): void;
  /** Deletes a user label and removes it from its messages (a labelRemoved history record each). */
  deleteLabel(mailbox: string, id: string): void;
  messages(mailbox: string): EmulatedGmailMessage[];
  sentRaw(mailbox: string): string[];
  setPushEndpoint(input: { endpoint: string; audience?: string }): void;
  authorize(authorizeUrl: string, input?: { email?: string; deny?: boolean }): Promise<string>;
  faults: FaultKnobs & GmailFaults;
  /**
   * The next `count` calls of `operation` ('*' = any Gmail method) fail with `status`, unprocessed —
   * or, with `'drop'`, the connection closes before Gmail did anything.
   */
  failNext(operation: string, input?: { status?: number | 'drop'; count?: number; reason?: string; message?: string }): void;
  /**
   * The next `count` successful calls of `operation` are carried out (a send sends, quota is
   * charged) and then answered with `status` (default 500) — or, with `'drop'`, not answered: the
   * connection closes, as when a reset or a proxy loses the response. For proving that a
   * non-idempotent call is not repeated blindly.
   */
  failAfter(operation: string, input?: { status?: number | 'drop'; count?: number; reason?: string; message?: string }): void;
  expireWatch(mailbox: string): void;
  expireHistory(mailbox: string): void;
  revokeTokens(mailbox: string): void;
  log: RequestLog;
  pushLog: GmailPushLog;
  watchOf(mailbox: string): { expiration: number; topicName: string; labelIds: string[]; labelFilterBehavior: 'include' | 'exclude' } | null;
  flushNotifications(): Promise<void>;
  /** Moves the emulator clock forward (access tokens expire after 3599 s, watches after 7 days). */
  advanceClock(ms: number): void;
  now(): number;
  /** Tokens for a mailbox without the consent page (same records as the real flow). */
  issueTokens(input: { email: string; scopes: string[]; offline?: boolean }): Promise<{
    access_token: string;
    refresh_token?: string;
    expires_in: number;
    scope: string;
    token_type: string;
    id_token?: string;
  }>;
  /**
   * A push-style OIDC token signed by the emulator's Google key (or, with
   * `signWith: 'foreign'`, by a key no certs endpoint publishes) — for forged-token tests.
   */
  createJwt(claims?: JWTPayload, options?: { signWith?: 'emulator' | 'foreign'; header?: Record<string, unknown> }): Promise<string>;
  /**
   * Cloud Pub/Sub admin state behind `/v1/projects/…` (topics, topic IAM, subscriptions). Starts
   * correct: the topic grants Gmail's publisher and the push subscription is the one delivering.
   */
  pubsub: EmulatedPubSub;
  /**
   * The Workspace domain as its admin sees it: users and groups (served by the Directory API),
   * service accounts and their keys, and the Admin console's domain-wide delegation table the
   * token endpoint checks JWT-bearer assertions against. A user added here gets a mailbox.
   */
  workspace: Workspace;
  close(): Promise<void>;
}

const PROJECT_ID = 'threadlink-emulator';

export async function startGmailEmulator(options: GmailEmulatorOptions = {}): Promise<GmailEmulator> {
  let clockOffset = 0;
  const baseNow = options.now ?? Date.now;
  const now = (): number => baseNow() + clockOffset;
  const random = options.random ?? Math.random;
  const clientId = options.clientId ?? 'threadlink-emulator.apps.googleusercontent.com';
  const clientSecret = options.clientSecret ?? 'GOCSPX-threadlink-emulator-secret';
  const topicName = `projects/${PROJECT_ID}/topics/gmail`;
  const pushServiceAccount = `gmail-push@${PROJECT_ID}.iam.gserviceaccount.com`;
  // The push service account's numeric id (`sub`/`azp` of its OIDC tokens).
  const pushServiceAccountId = '108274619237458120133';

  const key = await sharedSigningKey();
  const faults: FaultKnobs & GmailFaults = {
    latencyMs: options.latencyMs ?? 0,
    jitterMs: 0,
    errorRate: 0,
    forced429: 0,
    rateLimitStatus: 429,
    dropNotifications: 0,
    duplicateNotifications: 0,
    reorderNotifications: false,
  };
  const failures: InjectedFailure[] = [];
  const log = new RequestLog();
  const service = new GmailService({ now, random, replaceMessageIds: options.sentMessageIds === 'replace' });

  const wallClock = options.wallClock ?? Date.now;
  const pushClaims = (audience: string): JWTPayload => {
    const iat = Math.floor(wallClock() / 1000);
    return {
      aud: audience,
      azp: pushServiceAccountId,
      email: pushServiceAccount,
      email_verified: true,
      exp: iat + 3600,
      iat,
      iss: 'https://accounts.google.com',
      sub: pushServiceAccountId,
    };
  };
  // Pub/Sub does not sign a token per push: "the tokens attached to requests sent to push endpoints
  // may be up to an hour old" (cloud.google.com/pubsub/docs/authenticate-push-subscriptions). One
  // token per audience is reused until its hour is over, so a receiver sees the same token again.
  const pushTokens = new Map<string, { token: string; expiresAt: number }>();
  const pushToken = async (audience: string): Promise<string> => {
    const reused = pushTokens.get(audience);
    if (reused && wallClock() < reused.expiresAt) return reused.token;
    const claims = pushClaims(audience);
    const token = await signJwt(key, claims);
    pushTokens.set(audience, { token, expiresAt: Number(claims.exp) * 1000 });
    return token;
  };
  const push = new PushSubscription({
    subscription: `projects/${PROJECT_ID}/subscriptions/gmail-push`,
    signToken: pushToken,
    faults,
    ...(options.pushRetry !== undefined ? { retry: options.pushRetry } : {}),
    ...(options.pushAckDeadlineMs !== undefined ? { ackDeadlineMs: options.pushAckDeadlineMs } : {}),
    now,
    random,
  });
  if (options.pushEndpoint !== undefined) push.setEndpoint(options.pushEndpoint, options.pushAudience);
  const notifier = new WatchNotifier({
    push,
    now,
    intervalMs: options.notificationIntervalMs ?? 1_000,
    mode: options.notificationRateMode ?? 'coalesce',
  });
  service.onMailboxCreated((mailbox) => notifier.track(mailbox));

  const workspace = new Workspace(options.workspaceDomain ?? 'example.com', 'C03az79cb', (user) => {
    service.addMailbox({ email: user.email, name: user.name });
  });
  const oauth = new OAuthServer({
    clientId,
    clientSecret,
    redirectUris: options.redirectUris ?? [],
    now,
    wallClock,
    key: () => key,
    defaultEmail: () => service.mailboxes.keys().next().value,
    ensureMailbox: (email) => {
      const mailbox = service.addMailbox({ email });
      return { sub: mailbox.sub, name: mailbox.name };
    },
    checkAssertion: (assertion) => workspace.checkAssertion(assertion, wallClock()),
  });
  const quota = new QuotaWindow(() => options.quotaUnitsPerSecond ?? 250, now);
  const api = new GmailApi({ service, oauth, quota, notifier, faults, failures, log, now, random, projectId: PROJECT_ID, topicName });

  const pubsub = new PubSubAdmin({
    authenticate: (authorization) => {
      const check = oauth.check(authorization);
      return check.ok ? { ok: true, scopes: check.record.scopes } : { ok: false, reason: check.reason };
    },
    projectId: PROJECT_ID,
    defaultTopic: topicName,
    defaultSubscription: push.subscription,
    pushServiceAccount,
    live: {
      get pushEndpoint() {
        return push.pushEndpoint;
      },
      get configuredAudience() {
        return push.pushAudience !== push.pushEndpoint ? push.pushAudience : undefined;
      },
      setEndpoint: (endpoint, audience) => push.setEndpoint(endpoint, audience),
    },
  });

  const router = new Router();
  oauth.register(router);
  pubsub.register(router);
  api.register(router);
  new DirectoryApi(oauth, workspace).register(router);
  router.add('POST', '/batch/gmail/v1', (request) => handleBatch(request, router, log, now));

  const server = await serve({
    router,
    ...(options.port !== undefined ? { port: options.port } : {}),
    before: async () => {
      const delay = faults.latencyMs + (faults.jitterMs > 0 ? random() * faults.jitterMs : 0);
      await sleep(delay);
      return undefined;
    },
    after: (request: EmulatorRequest, response: EmulatorResponse) => {
      // Gmail calls log themselves (with mailbox and units); log the OAuth/cert traffic here.
      if (request.path.startsWith('/gmail/') || request.path.startsWith('/upload/gmail/') || request.path.startsWith('/batch/')) return;
      const operation = pubsubOperation(request.method, request.path) ?? oauthOperation(request.path);
      log.record({ at: now(), method: request.method, path: request.path, status: response.status, operation, units: 0 });
    },
  });
  const url = server.url;

  const providerOptions = {
    clientId,
    clientSecret,
    pubsubTopic: topicName,
    // Read when spread: set the push endpoint (or `pushAudience` at start) before building the provider.
    get pushAudience(): string {
      return push.pushAudience ?? options.pushAudience ?? 'urn:threadlink-emulator:push-endpoint-not-set';
    },
    pushServiceAccount,
    apiRootUrl: `${url}/`,
    directoryRootUrl: `${url}/`,
    ...(options.quotaUnitsPerSecond !== undefined ? { quotaUnitsPerSecond: options.quotaUnitsPerSecond } : {}),
    oauthEndpoints: {
      oauth2AuthBaseUrl: `${url}/o/oauth2/v2/auth`,
      oauth2TokenUrl: `${url}/token`,
      oauth2RevokeUrl: `${url}/revoke`,
      oauth2FederatedSignonPemCertsUrl: `${url}/oauth2/v1/certs`,
      oauth2FederatedSignonJwkCertsUrl: `${url}/oauth2/v3/certs`,
      tokenInfoUrl: `${url}/tokeninfo`,
    },
  } satisfies GmailProviderOptions;

  const pushLog = push.log as GmailPushLog;
  Object.defineProperty(pushLog, 'rateLimited', { get: () => notifier.rateLimited, enumerable: true });

  let closed = false;
  return {
    url,
    providerOptions,
    faults,
    log,
    pushLog,
    pubsub,
    workspace,
    addMailbox: (input) => {
      service.addMailbox(input);
    },
    deliver: (input) => service.deliver(input),
    deleteMessage: (mailbox, id) => {
      if (!service.requireMailbox(mailbox).remove(id)) throw new Error(`No message ${id} in ${mailbox}`);
    },
    modifyLabels: (mailbox, id, add, remove) => {
      if (!service.requireMailbox(mailbox).modify(id, add, remove)) throw new Error(`No message ${id} in ${mailbox}`);
    },
    createLabel: (mailbox, name) => {
      const target = service.requireMailbox(mailbox);
      if (target.nameConflicts(name)) throw new Error(`Label name exists or conflicts: ${name}`);
      return target.createLabel({ name }).id;
    },
    renameLabel: (mailbox, id, name) => {
      const target = service.requireMailbox(mailbox);
      if (target.isSystemLabel(id)) throw new Error(`System label ${id} cannot be renamed`);
      if (target.nameConflicts(name, id)) throw new Error(`Label name exists or conflicts: ${name}`);
      if (!target.updateLabel(id, { name })) throw new Error(`No label ${id} in ${mailbox}`);
    },
    deleteLabel: (mailbox, id) => {
      if (!service.requireMailbox(mailbox).deleteLabel(id)) throw new Error(`No user label ${id} in ${mailbox}`);
    },
    messages: (mailbox) =>
      service
        .requireMailbox(mailbox)
        .ordered()
        .map((message) => ({
          id: message.id,
          threadId: message.threadId,
          labelIds: [...message.labelIds],
          headers: message.headers.map((header) => ({ ...header })),
          raw: message.raw.toString('utf8'),
          internalDate: message.internalDate,
          historyId: String(message.historyId),
          messageId: message.messageIdHeader,
          subject: message.subject,
          attachmentNames: [...message.attachmentNames],
        })),
    sentRaw: (mailbox) => [...(service.sent.get(mailbox.trim().toLowerCase()) ?? [])],
    setPushEndpoint: ({ endpoint, audience }) => push.setEndpoint(endpoint, audience ?? options.pushAudience),
    authorize: (authorizeUrl, input) => oauth.authorize(url, authorizeUrl, input),
    failNext: (operation, input = {}) => {
      failures.push(injectedFailure(operation, 'before', input));
    },
    failAfter: (operation, input = {}) => {
      failures.push(injectedFailure(operation, 'after', input));
    },
    expireWatch: (mailbox) => notifier.stop(service.requireMailbox(mailbox).email),
    expireHistory: (mailbox) => service.requireMailbox(mailbox).expireHistory(),
    revokeTokens: (mailbox) => oauth.revokeMailbox(mailbox),
    watchOf: (mailbox) => {
      const watch = notifier.active(service.requireMailbox(mailbox).email);
      return watch
        ? { expiration: watch.expiration, topicName: watch.topicName, labelIds: [...watch.labelIds], labelFilterBehavior: watch.labelFilterBehavior }
        : null;
    },
    flushNotifications: async () => {
      do {
        notifier.releaseTrailing();
        await push.flush();
      } while (notifier.hasPendingTrailing());
    },
    advanceClock: (ms) => {
      clockOffset += ms;
    },
    now,
    issueTokens: async (input) => {
      service.addMailbox({ email: input.email });
      return (await oauth.issue({ email: input.email, scopes: input.scopes, ...(input.offline !== undefined ? { offline: input.offline } : {}) })) as Awaited<
        ReturnType<GmailEmulator['issueTokens']>
      >;
    },
    createJwt: async (claims = {}, jwtOptions = {}) => {
      const signingKey = jwtOptions.signWith === 'foreign' ? await foreignSigningKey() : key;
      return signJwt(signingKey, { ...pushClaims(push.pushAudience ?? ''), ...claims }, jwtOptions.header ? { header: jwtOptions.header } : {});
    },
    close: async () => {
      if (closed) return;
      closed = true;
      notifier.close();
      push.close();
      await server.close();
    },
  };
}

function injectedFailure(
  operation: string,
  when: 'before' | 'after',
  input: { status?: number | 'drop'; count?: number; reason?: string; message?: string },
): InjectedFailure {
  return {
    ...failureSpec(operation, when, input),
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    ...(input.message !== undefined ? { message: input.message } : {}),
  };
}

function oauthOperation(path: string): string {
  if (path.startsWith('/o/oauth2')) return 'oauth.authorize';
  if (path === '/token') return 'oauth.token';
  if (path === '/revoke') return 'oauth.revoke';
  if (path.startsWith('/oauth2/v1/certs') || path.startsWith('/oauth2/v3/certs')) return 'oauth.certs';
  if (path.includes('userinfo')) return 'oauth.userinfo';
  if (path === '/tokeninfo') return 'oauth.tokeninfo';
  if (path === '/admin/directory/v1/users') return 'directory.users.list';
  if (path.startsWith('/admin/directory/v1/groups/')) return 'directory.members.list';
  return 'other';
}
