// startGraphEmulator(): Microsoft Graph (Outlook mail) plus the Microsoft
// identity platform, served on 127.0.0.1 for the real msal-node and
// microsoft-graph-client libraries.
import { request as httpsRequest } from 'node:https';
import { generate } from 'selfsigned';
import { defaultFaults, RequestLog, Router, serve, type EmulatorRequest } from '../common/server.js';
import { DeltaService } from './delta.js';
import { GraphApi, type InjectedGraphFailure } from './graph-api.js';
import { IdentityService, newClientSecret } from './identity.js';
import { newGuid } from './ids.js';
import { MailFlow } from './mail-flow.js';
import { MailStore } from './mail-store.js';
import { SubscriptionService } from './subscriptions.js';
import type { GraphEmulator, GraphEmulatorOptions, GraphFaults } from './types.js';
import { failureSpec } from '../common/failures.js';

/** A throwaway CA and a 127.0.0.1 server certificate it signs, generated per emulator (never stored). */
async function generateCertificates(): Promise<{ caCertificate: string; key: string; cert: string }> {
  const notBeforeDate = new Date(Date.now() - 60 * 60 * 1000);
  const ca = await generate([{ name: 'commonName', value: 'threadlink emulator CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { caCertificate: ca.cert, key: leaf.private, cert: leaf.cert };
}

const IDENTITY_OPERATIONS: Array<[RegExp, string]> = [
  [/\/v2\.0\/\.well-known\/openid-configuration$/, 'identity.openid-configuration'],
  [/\/oauth2\/v2\.0\/authorize$/, 'identity.authorize'],
  [/\/v2\.0\/adminconsent$/, 'identity.adminconsent'],
  [/\/oauth2\/v2\.0\/token$/, 'identity.token'],
  [/\/oauth2\/v2\.0\/logout$/, 'identity.logout'],
  [/\/discovery\/v2\.0\/keys$/, 'identity.keys'],
  [/\/discovery\/instance$/, 'identity.instance-discovery'],
];

function identityOperation(request: EmulatorRequest): string {
  const found = IDENTITY_OPERATIONS.find(([pattern]) => pattern.test(request.path));
  if (!found) return 'identity.unknown';
  return found[1] === 'identity.authorize' && request.method === 'POST' ? 'identity.consent' : found[1];
}

export async function startGraphEmulator(options: GraphEmulatorOptions = {}): Promise<GraphEmulator> {
  let clockOffset = 0;
  const baseNow = options.now ?? Date.now;
  const now = (): number => baseNow() + clockOffset;
  const faults: GraphFaults = {
    ...defaultFaults(),
    latencyMs: options.latencyMs ?? 0,
    dropNotifications: 0,
    duplicateNotifications: 0,
    reorderNotifications: false,
    retryAfterSeconds: 1,
    holdOutbox: false,
  };
  const log = new RequestLog();
  const failures: InjectedGraphFailure[] = [];
  const store = new MailStore(now);
  const tenantId = newGuid();
  const clientId = options.clientId ?? newGuid();
  const clientSecret = options.clientSecret ?? newClientSecret();

  const identity = new IdentityService({
    store,
    now,
    clientId,
    clientSecret,
    tenantId,
    accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 3599,
  });
  const [certificates] = await Promise.all([generateCertificates(), identity.init()]);
  const tls = { key: certificates.key, cert: certificates.cert };

  const identityServer = await serve({
    router: identity.router,
    tls,
    ...(options.identityPort === undefined ? {} : { port: options.identityPort }),
    after: (request, response) =>
      log.record({ at: now(), method: request.method, path: request.path, status: response.status, operation: identityOperation(request), units: 0 }),
  });
  identity.setBaseUrl(identityServer.url);

  const flow = new MailFlow(store, now, 'emulator.prod.outlook.com', () => faults.holdOutbox);
  const delta = new DeltaService(store);
  const subscriptions = new SubscriptionService({
    store,
    now,
    tenantId,
    faults,
    validationTimeoutMs: options.validationTimeoutMs ?? 10_000,
    notificationTimeoutMs: options.notificationTimeoutMs ?? 3_000,
    retryDelaysMs: options.notificationRetryDelaysMs ?? [50, 200, 800],
  });
  const api = new GraphApi({
    store,
    flow,
    delta,
    identity,
    subscriptions,
    faults,
    failures,
    log,
    now,
    random: options.random ?? Math.random,
    identityUrl: () => identityServer.url,
  });

  const origins = { http: '', https: '' };
  const graphServer = await serve({
    router: new Router(),
    before: (request) => api.handle(request, origins.http),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  const secureGraphServer = await serve({ router: new Router(), before: (request) => api.handle(request, origins.https), tls });
  origins.http = graphServer.url;
  origins.https = secureGraphServer.url;

  const fetchIdentity = (url: URL, method: 'GET' | 'POST', form?: URLSearchParams): Promise<{ status: number; location?: string; body: string }> =>
    new Promise((resolve, reject) => {
      const payload = form?.toString() ?? '';
      const outgoing = httpsRequest(
        url,
        {
          method,
          ca: certificates.caCertificate,
          headers: form ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(payload) } : {},
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () =>
            resolve({
              status: incoming.statusCode ?? 0,
              ...(incoming.headers.location ? { location: incoming.headers.location } : {}),
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });

  const emulator: GraphEmulator = {
    url: graphServer.url,
    secureUrl: secureGraphServer.url,
    identityUrl: identityServer.url,
    providerOptions: {
      clientId,
      clientSecret,
      tenant: 'common',
      authorityHost: identityServer.url,
      graphBaseUrl: graphServer.url,
      caCertificate: certificates.caCertificate,
    },
    tenantId,
    faults,
    log,

    failNext(operation, input = {}) {
      failures.push(injectedFailure(operation, 'before', input));
    },

    failAfter(operation, input = {}) {
      failures.push(injectedFailure(operation, 'after', input));
    },

    addMailbox(input) {
      store.addMailbox(input.email, input.name);
    },

    userId(mailbox) {
      return store.requireMailbox(mailbox).userId;
    },

    async deliver(input) {
      return flow.deliver(input);
    },

    deleteMessage(mailboxEmail, id) {
      const mailbox = store.requireMailbox(mailboxEmail);
      store.remove(mailbox, store.requireMessage(mailbox, id));
    },

    moveMessage(mailboxEmail, id, folder) {
      const mailbox = store.requireMailbox(mailboxEmail);
      store.move(mailbox, store.requireMessage(mailbox, id), store.requireFolder(mailbox, folder).id);
    },

    folderId(mailboxEmail, folder) {
      return store.requireFolder(store.requireMailbox(mailboxEmail), folder).id;
    },

    createFolder(mailboxEmail, displayName, parent) {
      const mailbox = store.requireMailbox(mailboxEmail);
      const parentId = parent === undefined ? mailbox.rootFolderId : store.requireFolder(mailbox, parent).id;
      const created = store.createFolder(mailbox, displayName, parentId);
      if (created === 'exists') throw new Error(`Graph emulator: ${mailboxEmail} already has a folder ${displayName} there`);
      return created.id;
    },

    renameFolder(mailboxEmail, folder, displayName) {
      const mailbox = store.requireMailbox(mailboxEmail);
      store.renameFolder(store.requireFolder(mailbox, folder), displayName);
    },

    moveFolder(mailboxEmail, folder, parent) {
      const mailbox = store.requireMailbox(mailboxEmail);
      store.moveFolder(mailbox, store.requireFolder(mailbox, folder), store.requireFolder(mailbox, parent).id);
    },

    deleteFolder(mailboxEmail, folder) {
      const mailbox = store.requireMailbox(mailboxEmail);
      store.moveFolder(mailbox, store.requireFolder(mailbox, folder), store.requireFolder(mailbox, 'deleteditems').id);
    },

    updateMessage(mailboxEmail, id, patch) {
      const mailbox = store.requireMailbox(mailboxEmail);
      const update: { isRead?: boolean; categories?: string[]; subject?: string } = {};
      if (patch.isRead !== undefined) update.isRead = patch.isRead;
      if (patch.categories !== undefined) update.categories = [...patch.categories];
      if (patch.subject !== undefined) update.subject = patch.subject;
      store.update(mailbox, store.requireMessage(mailbox, id), update);
    },

    messages(mailboxEmail) {
      const mailbox = store.requireMailbox(mailboxEmail);
      return [...mailbox.messages.values()]
        .sort((left, right) => left.receivedAt - right.receivedAt || left.version - right.version)
        .map((message) => flow.toEmulated(mailbox, message));
    },

    sent(mailboxEmail) {
      return flow.sentBy(store.requireMailbox(mailboxEmail));
    },

    releaseOutbox() {
      flow.releaseOutbox();
    },

    async authorize(authorizeUrl, input = {}) {
      const url = new URL(authorizeUrl);
      if (url.origin !== identityServer.url) throw new Error(`Graph emulator: ${authorizeUrl} is not on the identity emulator (${identityServer.url})`);
      const page = await fetchIdentity(url, 'GET');
      if (page.status === 302 && page.location) return page.location;
      if (page.status !== 200) throw new Error(`Graph emulator: authorize page answered ${page.status}: ${stripTags(page.body)}`);
      const form = parseConsentForm(page.body);
      const email = input.email ?? form.fields.get('email') ?? onlyMailbox(store.allMailboxes().map((mailbox) => mailbox.email));
      form.fields.set('email', email);
      form.fields.set('consent', input.deny ? 'deny' : 'accept');
      const answer = await fetchIdentity(new URL(form.action, identityServer.url), 'POST', form.fields);
      if (answer.status === 302 && answer.location) return answer.location;
      const alert = /role="alert"[^>]*>([^<]*)</.exec(answer.body)?.[1];
      throw new Error(`Graph emulator: sign-in for ${email} failed: ${alert ?? `HTTP ${answer.status}`}`);
    },

    org: {
      makeAdmin: (email) => identity.apps.makeAdmin(email),
      removeUser: (email) => store.removeMailbox(email),
      addSharedMailbox(input) {
        store.addMailbox(input.email, input.name);
        identity.apps.addShared(input.email);
      },
      addGroup: (displayName, members, groups = []) => identity.apps.addGroup(displayName, members, groups),
      restrictAppAccess: (emails) => identity.apps.restrictTo(emails),
      configureAppRoles(roles) {
        identity.apps.configuredRoles = [...roles];
      },
      grantedRoles: () => (identity.apps.granted ? [...identity.apps.granted] : null),
      revokeAdminConsent: () => identity.apps.revoke(),
    },

    subscriptions() {
      return subscriptions.list();
    },

    sendLifecycle(subscriptionId, event) {
      return subscriptions.sendLifecycle(subscriptionId, event);
    },

    expireSubscription(subscriptionId) {
      subscriptions.expire(subscriptionId);
    },

    expireDeltaTokens(mailboxEmail) {
      delta.expire(store.requireMailbox(mailboxEmail));
    },

    revokeTokens(mailboxEmail) {
      identity.revoke(store.requireMailbox(mailboxEmail).email);
    },

    advanceTime(ms) {
      clockOffset += ms;
    },

    deliveries() {
      return subscriptions.deliveries();
    },

    flushNotifications() {
      return subscriptions.flush();
    },

    async close() {
      subscriptions.close();
      await Promise.all([graphServer.close(), secureGraphServer.close(), identityServer.close()]);
    },
  };
  return emulator;
}

function injectedFailure(
  operation: string,
  when: 'before' | 'after',
  input: { status?: number | 'drop' | 'hang'; count?: number; code?: string },
): InjectedGraphFailure {
  return {
    ...failureSpec(operation, when, input),
    ...(input.code === undefined ? {} : { code: input.code }),
  };
}

function parseConsentForm(html: string): { action: string; fields: URLSearchParams } {
  const action = /<form[^>]*action="([^"]*)"/i.exec(html)?.[1];
  if (!action) throw new Error('Graph emulator: the authorize page has no form');
  const fields = new URLSearchParams();
  for (const match of html.matchAll(/<input([^>]*)>/gi)) {
    const attributes = match[1] ?? '';
    const name = /name="([^"]*)"/i.exec(attributes)?.[1];
    const value = /value="([^"]*)"/i.exec(attributes)?.[1];
    if (name && value !== undefined && value !== '') fields.set(decodeHtml(name), decodeHtml(value));
  }
  return { action: decodeHtml(action), fields };
}

function decodeHtml(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

function stripTags(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function onlyMailbox(emails: string[]): string {
  const [first, ...rest] = emails;
  if (first === undefined || rest.length > 0) {
    throw new Error('Graph emulator: authorize() needs input.email (or a login_hint) when there is not exactly one mailbox');
  }
  return first;
}
