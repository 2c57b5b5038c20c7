// Cloud Pub/Sub's admin REST surface (v1), enough to inspect and misconfigure the push path
// Gmail depends on: topics, topic IAM policies and subscriptions, with Google's JSON shapes.
// cloud.google.com/pubsub/docs/reference/rest/v1/projects.topics, …/projects.subscriptions
//
//   GET    /v1/projects/P/topics                     {topics:[{name}]}
//   PUT    /v1/projects/P/topics/T                   create → Topic (409 ALREADY_EXISTS)
//   GET    /v1/projects/P/topics/T                   Topic | 404 "Resource not found (resource=T)."
//   DELETE /v1/projects/P/topics/T                   {} (its subscriptions keep topic "_deleted-topic_")
//   GET    /v1/projects/P/topics/T:getIamPolicy      Policy (GET, not POST, for Pub/Sub; empty = {"etag":"ACAB"})
//   POST   /v1/projects/P/topics/T:setIamPolicy      {policy} → Policy (etag mismatch → 409 ABORTED)
//   GET    /v1/projects/P/topics/T/subscriptions     {subscriptions:[names]}
//   GET    /v1/projects/P/subscriptions              {subscriptions:[Subscription]}
//   PUT    /v1/projects/P/subscriptions/S            {topic, pushConfig?, ackDeadlineSeconds?} → Subscription
//   GET    /v1/projects/P/subscriptions/S            Subscription | 404
//   POST   /v1/projects/P/subscriptions/S:modifyPushConfig  {pushConfig} → {}
//   DELETE /v1/projects/P/subscriptions/S            {}
//
// Every call needs a bearer token from the emulator's OAuth server (issueTokens) carrying the
// `pubsub` or `cloud-platform` scope. IAM is not enforced on callers: any valid token may read
// and change any resource (the emulator has one tenant).
//
// The emulator's own push subscription is live: its pushEndpoint and OIDC audience are the ones
// pushes are really delivered with (setPushEndpoint and modifyPushConfig change both). Pushes are
// always signed as the emulator's push service account, whatever oidcToken the admin view records.
import { createHash } from 'node:crypto';
import type { EmulatorRequest, EmulatorResponse, Router } from '../common/server.js';

const PUBSUB_SCOPES = ['https://www.googleapis.com/auth/pubsub', 'https://www.googleapis.com/auth/cloud-platform'] as const;

/** Gmail's publisher identity: the topic must grant it roles/pubsub.publisher. */
const GMAIL_PUSH_PUBLISHER = 'serviceAccount:gmail-api-push@system.gserviceaccount.com';

export interface IamBinding {
  role: string;
  members: string[];
  condition?: { expression: string; title?: string; description?: string };
}

export interface IamPolicy {
  version?: number;
  bindings?: IamBinding[];
  etag: string;
}

export interface PushConfig {
  pushEndpoint?: string;
  attributes?: Record<string, string>;
  oidcToken?: { serviceAccountEmail: string; audience?: string };
}

export interface PubSubTopic {
  name: string;
  labels?: Record<string, string>;
}

export interface PubSubSubscription {
  name: string;
  topic: string;
  pushConfig: PushConfig;
  ackDeadlineSeconds: number;
  messageRetentionDuration: string;
  expirationPolicy: { ttl: string };
  state: 'ACTIVE' | 'RESOURCE_ERROR';
}

export interface PushSubscriptionInput {
  name: string;
  topic: string;
  pushEndpoint: string;
  /** `null` creates the subscription without authentication. */
  oidcToken?: { serviceAccountEmail: string; audience?: string } | null;
  ackDeadlineSeconds?: number;
}

/** Test helpers on `emulator.pubsub`, to build correct and broken setups without HTTP. */
export interface EmulatedPubSub {
  readonly projectId: string;
  /** `projects/P/topics/T`. Throws if it exists. */
  createTopic(name: string, options?: { labels?: Record<string, string> }): PubSubTopic;
  deleteTopic(name: string): void;
  topics(): PubSubTopic[];
  getIamPolicy(topic: string): IamPolicy;
  /** Replaces the topic's policy (as setIamPolicy does); returns it with a new etag. */
  setIamPolicy(topic: string, policy: { bindings?: IamBinding[]; version?: number }): IamPolicy;
  /** A push subscription. */
  createPushSubscription(input: PushSubscriptionInput): PubSubSubscription;
  /** A pull subscription (empty pushConfig). */
  createPullSubscription(input: { name: string; topic: string }): PubSubSubscription;
  modifyPushConfig(subscription: string, pushConfig: PushConfig): void;
  deleteSubscription(name: string): void;
  subscription(name: string): PubSubSubscription | undefined;
  /** Deletes every topic and subscription, including the defaults. */
  clear(): void;
}

/** The emulator's delivering subscription, whose endpoint and audience live in PushSubscription. */
interface LivePushTarget {
  readonly pushEndpoint: string | undefined;
  /** The explicitly configured audience (undefined = Pub/Sub's default, the endpoint URL). */
  readonly configuredAudience: string | undefined;
  setEndpoint(endpoint: string, audience?: string): void;
}

export interface PubSubAdminOptions {
  /** Resolves a bearer token to its scopes (the Gmail emulator's OAuth server). */
  authenticate: (authorization: string | undefined) => { ok: true; scopes: readonly string[] } | { ok: false; reason: 'missing' | 'invalid' };
  projectId: string;
  /** Created at start: the topic Gmail publishes to, granting Gmail's publisher. */
  defaultTopic: string;
  /** Created at start: the push subscription the emulator delivers through. */
  defaultSubscription: string;
  pushServiceAccount: string;
  live: LivePushTarget;
}

interface StoredSubscription {
  name: string;
  topic: string;
  pushConfig: PushConfig;
  ackDeadlineSeconds: number;
}

const DELETED_TOPIC = '_deleted-topic_';
const EMPTY_POLICY_ETAG = 'ACAB';
const RESOURCE_ID = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
const TOPIC_NAME = /^projects\/([^/]+)\/topics\/([^/]+)$/;
const SUBSCRIPTION_NAME = /^projects\/([^/]+)\/subscriptions\/([^/]+)$/;

const STATUS_BY_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
};

/** Pub/Sub's error envelope has no `errors[]` list (unlike Gmail's). */
function pubsubError(code: number, message: string, status = STATUS_BY_CODE[code] ?? 'UNKNOWN', headers: Record<string, string> = {}): EmulatorResponse {
  return { status: code, headers: { 'content-type': 'application/json; charset=UTF-8', ...headers }, body: { error: { code, message, status } } };
}

const json = (body: object): EmulatorResponse => ({ status: 200, headers: { 'content-type': 'application/json; charset=UTF-8' }, body });

const notFound = (resourceId: string): EmulatorResponse => pubsubError(404, `Resource not found (resource=${resourceId}).`);

const invalidName = (name: string): EmulatorResponse =>
  pubsubError(
    400,
    `Invalid resource name given (name=${name}). Refer to https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names for more information.`,
  );

const AUTH_HINT =
  'Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

export class PubSubAdmin implements EmulatedPubSub {
  private readonly topicStore = new Map<string, PubSubTopic>();
  private readonly policies = new Map<string, IamPolicy>();
  private readonly subscriptions = new Map<string, StoredSubscription>();
  private etagCounter = 0;

  constructor(private readonly options: PubSubAdminOptions) {
    this.createTopic(options.defaultTopic);
    this.setIamPolicy(options.defaultTopic, { bindings: [{ role: 'roles/pubsub.publisher', members: [GMAIL_PUSH_PUBLISHER] }] });
    this.subscriptions.set(options.defaultSubscription, {
      name: options.defaultSubscription,
      topic: options.defaultTopic,
      pushConfig: { oidcToken: { serviceAccountEmail: options.pushServiceAccount } },
      ackDeadlineSeconds: 10,
    });
  }

  get projectId(): string {
    return this.options.projectId;
  }

  register(router: Router): void {
    const topic = '/v1/projects/:project/topics/:topic';
    const subscription = '/v1/projects/:project/subscriptions/:subscription';
    router
      .add('GET', '/v1/projects/:project/topics', (request) => this.guard(request, () => this.listTopics(request)))
      .add('GET', `${topic}/subscriptions`, (request) => this.guard(request, () => this.listTopicSubscriptions(request)))
      .add('GET', topic, (request) => this.guard(request, () => this.topicGet(request)))
      .add('PUT', topic, (request) => this.guard(request, () => this.topicPut(request)))
      .add('DELETE', topic, (request) => this.guard(request, () => this.topicDelete(request)))
      .add('POST', topic, (request) => this.guard(request, () => this.topicPost(request)))
      .add('GET', '/v1/projects/:project/subscriptions', (request) => this.guard(request, () => this.listSubscriptions(request)))
      .add('GET', subscription, (request) => this.guard(request, () => this.subscriptionGet(request)))
      .add('PUT', subscription, (request) => this.guard(request, () => this.subscriptionPut(request)))
      .add('DELETE', subscription, (request) => this.guard(request, () => this.subscriptionDelete(request)))
      .add('POST', subscription, (request) => this.guard(request, () => this.subscriptionPost(request)));
  }

  // ---- helpers for tests ----

  createTopic(name: string, options: { labels?: Record<string, string> } = {}): PubSubTopic {
    assertName(name, TOPIC_NAME);
    if (this.topicStore.has(name)) throw new Error(`Topic ${name} already exists`);
    const topic: PubSubTopic = { name, ...(options.labels ? { labels: { ...options.labels } } : {}) };
    this.topicStore.set(name, topic);
    return { ...topic };
  }

  deleteTopic(name: string): void {
    if (!this.topicStore.delete(name)) throw new Error(`No topic ${name}`);
    this.policies.delete(name);
    for (const subscription of this.subscriptions.values()) if (subscription.topic === name) subscription.topic = DELETED_TOPIC;
  }

  topics(): PubSubTopic[] {
    return [...this.topicStore.values()].map((topic) => ({ ...topic }));
  }

  getIamPolicy(topic: string): IamPolicy {
    if (!this.topicStore.has(topic)) throw new Error(`No topic ${topic}`);
    return clonePolicy(this.policies.get(topic) ?? { etag: EMPTY_POLICY_ETAG });
  }

  setIamPolicy(topic: string, policy: { bindings?: IamBinding[]; version?: number }): IamPolicy {
    if (!this.topicStore.has(topic)) throw new Error(`No topic ${topic}`);
    const bindings = (policy.bindings ?? []).filter((binding) => binding.members.length > 0);
    const stored: IamPolicy =
      bindings.length === 0
        ? { etag: EMPTY_POLICY_ETAG }
        : { version: policy.version ?? 1, bindings: bindings.map((binding) => ({ ...binding, members: [...binding.members] })), etag: this.nextEtag(topic) };
    this.policies.set(topic, stored);
    return clonePolicy(stored);
  }

  createPushSubscription(input: PushSubscriptionInput): PubSubSubscription {
    const pushConfig: PushConfig = { pushEndpoint: input.pushEndpoint };
    if (input.oidcToken) pushConfig.oidcToken = { ...input.oidcToken };
    return this.addSubscription(input.name, input.topic, pushConfig, input.ackDeadlineSeconds ?? 10);
  }

  createPullSubscription(input: { name: string; topic: string }): PubSubSubscription {
    return this.addSubscription(input.name, input.topic, {}, 10);
  }

  modifyPushConfig(name: string, pushConfig: PushConfig): void {
    const stored = this.subscriptions.get(name);
    if (!stored) throw new Error(`No subscription ${name}`);
    this.applyPushConfig(stored, pushConfig);
  }

  deleteSubscription(name: string): void {
    if (!this.subscriptions.delete(name)) throw new Error(`No subscription ${name}`);
  }

  subscription(name: string): PubSubSubscription | undefined {
    const stored = this.subscriptions.get(name);
    return stored ? this.render(stored) : undefined;
  }

  clear(): void {
    this.topicStore.clear();
    this.policies.clear();
    this.subscriptions.clear();
  }

  // ---- REST ----

  private async guard(request: EmulatorRequest, handle: () => EmulatorResponse | Promise<EmulatorResponse>): Promise<EmulatorResponse> {
    const check = this.options.authenticate(request.headers.authorization);
    if (!check.ok) {
      const message =
        check.reason === 'missing'
          ? `Request is missing required authentication credential. ${AUTH_HINT}`
          : `Request had invalid authentication credentials. ${AUTH_HINT}`;
      return pubsubError(401, message, 'UNAUTHENTICATED', { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' });
    }
    if (!PUBSUB_SCOPES.some((scope) => check.scopes.includes(scope))) {
      return pubsubError(403, 'Request had insufficient authentication scopes.', 'PERMISSION_DENIED', {
        'www-authenticate': `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${PUBSUB_SCOPES.join(' ')}"`,
      });
    }
    return handle();
  }

  private listTopics(request: EmulatorRequest): EmulatorResponse {
    const prefix = `projects/${request.params['project'] ?? ''}/topics/`;
    const topics = [...this.topicStore.values()].filter((topic) => topic.name.startsWith(prefix)).map((topic) => ({ ...topic }));
    return json(topics.length > 0 ? { topics } : {});
  }

  private listTopicSubscriptions(request: EmulatorRequest): EmulatorResponse {
    const name = topicName(request);
    if (!this.topicStore.has(name)) return notFound(request.params['topic'] ?? '');
    const names = [...this.subscriptions.values()].filter((subscription) => subscription.topic === name).map((subscription) => subscription.name);
    return json(names.length > 0 ? { subscriptions: names } : {});
  }

  private topicGet(request: EmulatorRequest): EmulatorResponse {
    const { resource, verb } = splitVerb(request.params['topic'] ?? '');
    const name = `projects/${request.params['project'] ?? ''}/topics/${resource}`;
    if (!RESOURCE_ID.test(resource)) return invalidName(name);
    if (verb === 'getIamPolicy') {
      if (!this.topicStore.has(name)) return notFound(resource);
      return json(this.getIamPolicy(name));
    }
    if (verb !== undefined) return pubsubError(404, 'Method not found.', 'NOT_FOUND');
    const topic = this.topicStore.get(name);
    return topic ? json({ ...topic }) : notFound(resource);
  }

  private topicPut(request: EmulatorRequest): EmulatorResponse {
    const name = topicName(request);
    const resource = request.params['topic'] ?? '';
    if (!RESOURCE_ID.test(resource) || resource.startsWith('goog')) return invalidName(name);
    if (this.topicStore.has(name)) return pubsubError(409, `Resource already exists in the project (resource=${resource}).`);
    const body = request.json<{ labels?: Record<string, string> }>() ?? {};
    return json(this.createTopic(name, body.labels ? { labels: body.labels } : {}));
  }

  private topicDelete(request: EmulatorRequest): EmulatorResponse {
    const name = topicName(request);
    if (!this.topicStore.has(name)) return notFound(request.params['topic'] ?? '');
    this.deleteTopic(name);
    return json({});
  }

  private topicPost(request: EmulatorRequest): EmulatorResponse {
    const { resource, verb } = splitVerb(request.params['topic'] ?? '');
    const name = `projects/${request.params['project'] ?? ''}/topics/${resource}`;
    if (verb !== 'setIamPolicy') return pubsubError(404, 'Method not found.', 'NOT_FOUND');
    if (!this.topicStore.has(name)) return notFound(resource);
    const body = request.json<{ policy?: { bindings?: IamBinding[]; version?: number; etag?: string } }>();
    if (!body?.policy) return pubsubError(400, 'Invalid JSON payload received. Missing required field: policy.');
    const current = this.policies.get(name) ?? { etag: EMPTY_POLICY_ETAG };
    if (body.policy.etag !== undefined && body.policy.etag !== current.etag) {
      return pubsubError(409, 'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.', 'ABORTED');
    }
    for (const binding of body.policy.bindings ?? []) {
      if (typeof binding.role !== 'string' || !Array.isArray(binding.members)) return pubsubError(400, 'Invalid policy binding.');
    }
    return json(this.setIamPolicy(name, body.policy));
  }

  private listSubscriptions(request: EmulatorRequest): EmulatorResponse {
    const prefix = `projects/${request.params['project'] ?? ''}/subscriptions/`;
    const found = [...this.subscriptions.values()]
      .filter((subscription) => subscription.name.startsWith(prefix))
      .map((subscription) => this.render(subscription));
    return json(found.length > 0 ? { subscriptions: found } : {});
  }

  private subscriptionGet(request: EmulatorRequest): EmulatorResponse {
    const { resource, verb } = splitVerb(request.params['subscription'] ?? '');
    const name = `projects/${request.params['project'] ?? ''}/subscriptions/${resource}`;
    if (verb !== undefined) return pubsubError(404, 'Method not found.', 'NOT_FOUND');
    if (!RESOURCE_ID.test(resource)) return invalidName(name);
    const stored = this.subscriptions.get(name);
    return stored ? json(this.render(stored)) : notFound(resource);
  }

  private subscriptionPut(request: EmulatorRequest): EmulatorResponse {
    const resource = request.params['subscription'] ?? '';
    const name = `projects/${request.params['project'] ?? ''}/subscriptions/${resource}`;
    if (!RESOURCE_ID.test(resource) || resource.startsWith('goog')) return invalidName(name);
    const body = request.json<{ topic?: string; pushConfig?: PushConfig; ackDeadlineSeconds?: number }>() ?? {};
    if (!body.topic) return pubsubError(400, 'Invalid JSON payload received. Missing required field: topic.');
    const topic = TOPIC_NAME.exec(body.topic);
    if (!topic) return invalidName(body.topic);
    if (!this.topicStore.has(body.topic)) return notFound(topic[2] ?? body.topic);
    if (this.subscriptions.has(name)) return pubsubError(409, `Resource already exists in the project (resource=${resource}).`);
    const problem = pushConfigProblem(body.pushConfig);
    if (problem) return pubsubError(400, problem);
    return json(this.addSubscription(name, body.topic, body.pushConfig ?? {}, body.ackDeadlineSeconds ?? 10));
  }

  private subscriptionDelete(request: EmulatorRequest): EmulatorResponse {
    const resource = request.params['subscription'] ?? '';
    const name = `projects/${request.params['project'] ?? ''}/subscriptions/${resource}`;
    if (!this.subscriptions.delete(name)) return notFound(resource);
    return json({});
  }

  private subscriptionPost(request: EmulatorRequest): EmulatorResponse {
    const { resource, verb } = splitVerb(request.params['subscription'] ?? '');
    const name = `projects/${request.params['project'] ?? ''}/subscriptions/${resource}`;
    if (verb !== 'modifyPushConfig') return pubsubError(404, 'Method not found.', 'NOT_FOUND');
    const stored = this.subscriptions.get(name);
    if (!stored) return notFound(resource);
    const body = request.json<{ pushConfig?: PushConfig }>();
    if (!body?.pushConfig) return pubsubError(400, 'Invalid JSON payload received. Missing required field: push_config.');
    const problem = pushConfigProblem(body.pushConfig);
    if (problem) return pubsubError(400, problem);
    this.applyPushConfig(stored, body.pushConfig);
    return json({});
  }

  // ---- internals ----

  private addSubscription(name: string, topic: string, pushConfig: PushConfig, ackDeadlineSeconds: number): PubSubSubscription {
    assertName(name, SUBSCRIPTION_NAME);
    if (!this.topicStore.has(topic)) throw new Error(`No topic ${topic}`);
    if (this.subscriptions.has(name)) throw new Error(`Subscription ${name} already exists`);
    const stored: StoredSubscription = { name, topic, pushConfig: {}, ackDeadlineSeconds };
    this.subscriptions.set(name, stored);
    this.applyPushConfig(stored, pushConfig);
    return this.render(stored);
  }

  private applyPushConfig(stored: StoredSubscription, pushConfig: PushConfig): void {
    const copy: PushConfig = {};
    if (pushConfig.pushEndpoint) copy.pushEndpoint = pushConfig.pushEndpoint;
    if (pushConfig.attributes) copy.attributes = { ...pushConfig.attributes };
    if (pushConfig.oidcToken) copy.oidcToken = { ...pushConfig.oidcToken };
    stored.pushConfig = copy;
    if (stored.name === this.options.defaultSubscription && copy.pushEndpoint) {
      this.options.live.setEndpoint(copy.pushEndpoint, copy.oidcToken?.audience || undefined);
    }
  }

  /** Google's JSON for a subscription; the emulator's own one reads its live endpoint and audience. */
  private render(stored: StoredSubscription): PubSubSubscription {
    let pushConfig: PushConfig = { ...stored.pushConfig, ...(stored.pushConfig.oidcToken ? { oidcToken: { ...stored.pushConfig.oidcToken } } : {}) };
    if (stored.name === this.options.defaultSubscription) {
      const live = this.options.live;
      pushConfig = {};
      if (live.pushEndpoint !== undefined) {
        pushConfig.pushEndpoint = live.pushEndpoint;
        const serviceAccountEmail = stored.pushConfig.oidcToken?.serviceAccountEmail;
        if (serviceAccountEmail) {
          pushConfig.oidcToken = { serviceAccountEmail, ...(live.configuredAudience ? { audience: live.configuredAudience } : {}) };
        }
      }
    }
    return {
      name: stored.name,
      topic: stored.topic,
      pushConfig,
      ackDeadlineSeconds: stored.ackDeadlineSeconds,
      messageRetentionDuration: '604800s',
      expirationPolicy: { ttl: '2678400s' },
      state: stored.topic === DELETED_TOPIC ? 'RESOURCE_ERROR' : 'ACTIVE',
    };
  }

  private nextEtag(topic: string): string {
    this.etagCounter += 1;
    return createHash('sha256').update(`${topic}#${this.etagCounter}`).digest('base64').slice(0, 12);
  }
}

/** `gmail:getIamPolicy` → resource `gmail`, verb `getIamPolicy` (ids cannot contain ':'). */
function splitVerb(segment: string): { resource: string; verb?: string } {
  const colon = segment.indexOf(':');
  return colon < 0 ? { resource: segment } : { resource: segment.slice(0, colon), verb: segment.slice(colon + 1) };
}

function topicName(request: EmulatorRequest): string {
  return `projects/${request.params['project'] ?? ''}/topics/${request.params['topic'] ?? ''}`;
}

function assertName(name: string, pattern: RegExp): void {
  const match = pattern.exec(name);
  if (!match || !RESOURCE_ID.test(match[2] ?? '')) throw new Error(`Invalid resource name ${name}`);
}

function pushConfigProblem(pushConfig: PushConfig | undefined): string | undefined {
  if (!pushConfig?.pushEndpoint) return undefined;
  try {
    new URL(pushConfig.pushEndpoint);
  } catch {
    return `Invalid push endpoint given (endpoint=${pushConfig.pushEndpoint}). Refer to https://cloud.google.com/pubsub/subscriber#create_push_subscriptions for more information.`;
  }
  if (pushConfig.oidcToken && !pushConfig.oidcToken.serviceAccountEmail) return 'Invalid OIDC token: service_account_email is required.';
  return undefined;
}

function clonePolicy(policy: IamPolicy): IamPolicy {
  return {
    ...(policy.version !== undefined ? { version: policy.version } : {}),
    ...(policy.bindings ? { bindings: policy.bindings.map((binding) => ({ ...binding, members: [...binding.members] })) } : {}),
    etag: policy.etag,
  };
}

/** The operation name for the request log (`pubsub.topics.get`, …), or undefined for other paths. */
export function pubsubOperation(method: string, path: string): string | undefined {
  const match = /^\/v1\/projects\/[^/]+\/(topics|subscriptions)(?:\/([^/]+)(\/subscriptions)?)?$/.exec(path);
  if (!match) return undefined;
  const [, collection, resource, nested] = match;
  if (nested) return 'pubsub.topics.subscriptions.list';
  if (!resource) return `pubsub.${collection}.list`;
  const verb = splitVerb(resource).verb;
  if (verb) return `pubsub.${collection}.${verb}`;
  const byMethod: Record<string, string> = { GET: 'get', PUT: 'create', DELETE: 'delete' };
  return `pubsub.${collection}.${byMethod[method] ?? method.toLowerCase()}`;
}
