// Graph change-notification subscriptions over webhooks: the validation
// handshake, expiry limits, change and lifecycle notifications, and delivery
// with retries. Sources: microsoft-graph-docs-contrib
// concepts/change-notifications-delivery-webhooks.md,
// concepts/change-notifications-lifecycle-events.md, resources/subscription.md.
import type { Subscription as GraphSubscription } from '@microsoft/microsoft-graph-types';
import type { EmulatorResponse } from '../common/server.js';
import type { GraphCall } from './context.js';
import { newGuid, newOpaqueToken } from './ids.js';
import type { Mailbox, MailEvent, MailStore, StoredMessage } from './mail-store.js';
import { etag } from './message-json.js';
import { graphError, graphJson, pathSegments, type GraphJson, type GraphPage } from './odata.js';
import type { EmulatedSubscription, GraphFaults, LifecycleEvent, WebhookDelivery } from './types.js';
import { isLoopbackUrl, postWebhook } from './webhook.js';

/** Max lifetime of an Outlook message subscription without resource data. */
export const MAX_MESSAGE_SUBSCRIPTION_MINUTES = 10_080;

/** clientState is capped at 128 characters (subscription resource docs). */
const MAX_CLIENT_STATE = 128;

const CHANGE_TYPES = new Set(['created', 'updated', 'deleted']);

type ChangeType = 'created' | 'updated' | 'deleted';

type SubscriptionScope = { kind: 'mailbox' } | { kind: 'folder'; folderId: string };

interface Subscription {
  id: string;
  resource: string;
  changeType: string;
  changeTypes: Set<ChangeType>;
  notificationUrl: string;
  lifecycleNotificationUrl?: string;
  expiresAt: number;
  clientState?: string;
  mailbox: Mailbox;
  clientId: string;
  /** Created with `Prefer: IdType="ImmutableId"`: notifications carry immutable ids. */
  immutableId: boolean;
  scope: SubscriptionScope;
}

interface QueuedNotification {
  subscriptionId: string;
  payload: Record<string, unknown>;
}

export interface SubscriptionOptions {
  store: MailStore;
  now: () => number;
  tenantId: string;
  faults: GraphFaults;
  validationTimeoutMs: number;
  notificationTimeoutMs: number;
  retryDelaysMs: number[];
}

export class SubscriptionService {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly outbox = new Map<string, QueuedNotification[]>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly deliveryLog: WebhookDelivery[] = [];
  private dispatchScheduled = false;
  private closed = false;

  constructor(private readonly options: SubscriptionOptions) {
    options.store.onChange((event) => this.onMailEvent(event));
  }

  close(): void {
    this.closed = true;
  }

  deliveries(): WebhookDelivery[] {
    return [...this.deliveryLog];
  }

  /** The mailbox a subscription watches: what an app-only caller acts on at /subscriptions/{id}. */
  ownerOf(subscriptionId: string): Mailbox | undefined {
    this.sweepExpired();
    return this.subscriptions.get(subscriptionId)?.mailbox;
  }

  list(): EmulatedSubscription[] {
    this.sweepExpired();
    return [...this.subscriptions.values()].map((subscription) => ({
      id: subscription.id,
      resource: subscription.resource,
      changeType: subscription.changeType,
      notificationUrl: subscription.notificationUrl,
      ...(subscription.lifecycleNotificationUrl === undefined ? {} : { lifecycleNotificationUrl: subscription.lifecycleNotificationUrl }),
      expirationDateTime: new Date(subscription.expiresAt).toISOString(),
      ...(subscription.clientState === undefined ? {} : { clientState: subscription.clientState }),
      mailbox: subscription.mailbox.email,
    }));
  }

  /** Removes the subscription without telling anyone — the "silently stops" failure mode. */
  expire(subscriptionId: string): void {
    this.require(subscriptionId);
    this.subscriptions.delete(subscriptionId);
  }

  async sendLifecycle(subscriptionId: string, event: LifecycleEvent): Promise<void> {
    const subscription = this.require(subscriptionId);
    if (!subscription.lifecycleNotificationUrl) {
      throw new Error(`Graph emulator: subscription ${subscriptionId} has no lifecycleNotificationUrl`);
    }
    // subscriptionRemoved means Graph already dropped it; the app must recreate it.
    if (event === 'subscriptionRemoved') this.subscriptions.delete(subscriptionId);
    await this.track(this.deliverLifecycle(subscription, event));
  }

  async flush(): Promise<void> {
    while (this.dispatchScheduled || this.inflight.size > 0) {
      await Promise.allSettled([...this.inflight]);
      if (this.dispatchScheduled) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private require(subscriptionId: string): Subscription {
    const subscription = this.subscriptions.get(subscriptionId);
    if (!subscription) throw new Error(`Graph emulator: no subscription ${subscriptionId}`);
    return subscription;
  }

  private sweepExpired(): void {
    const now = this.options.now();
    for (const [id, subscription] of this.subscriptions) if (subscription.expiresAt <= now) this.subscriptions.delete(id);
  }

  // ---- HTTP handlers -------------------------------------------------------------------------

  async create(call: GraphCall): Promise<EmulatorResponse> {
    const body = call.json<Record<string, unknown>>();
    if (!body || typeof body !== 'object') return graphError(400, 'InvalidRequest', 'Request payload cannot be null.');
    const changeType = typeof body.changeType === 'string' ? body.changeType : '';
    const changeTypes = changeType
      .split(',')
      .map((type) => type.trim())
      .filter((type) => type.length > 0);
    if (changeTypes.length === 0) return graphError(400, 'InvalidRequest', "The 'changeType' property is required.");
    const invalidType = changeTypes.find((type) => !CHANGE_TYPES.has(type));
    if (invalidType !== undefined) return graphError(400, 'InvalidRequest', `Invalid 'changeType' attribute: '${invalidType}'.`);
    const notificationUrl = typeof body.notificationUrl === 'string' ? body.notificationUrl : '';
    if (!URL.canParse(notificationUrl)) return graphError(400, 'InvalidRequest', 'Invalid notification url.');
    if (!isLoopbackUrl(notificationUrl)) {
      return graphError(400, 'InvalidRequest', 'The emulator only delivers notifications to loopback addresses (127.0.0.1, localhost).');
    }
    const lifecycleNotificationUrl = typeof body.lifecycleNotificationUrl === 'string' ? body.lifecycleNotificationUrl : undefined;
    if (lifecycleNotificationUrl !== undefined && !isLoopbackUrl(lifecycleNotificationUrl)) {
      return graphError(400, 'InvalidRequest', 'Invalid lifecycle notification url.');
    }
    const resource = typeof body.resource === 'string' ? body.resource : '';
    const scope = this.parseResource(resource, call.mailbox);
    if ('status' in scope) return scope;
    const clientState = typeof body.clientState === 'string' ? body.clientState : undefined;
    if (clientState !== undefined && clientState.length > MAX_CLIENT_STATE) {
      return graphError(400, 'InvalidRequest', `The 'clientState' property exceeds the maximum length of ${MAX_CLIENT_STATE} characters.`);
    }
    if (body.includeResourceData === true) {
      return graphError(400, 'InvalidRequest', 'includeResourceData requires an encryptionCertificate; the emulator does not support rich notifications.');
    }
    const expiresAt = this.checkExpiration(body.expirationDateTime);
    if (typeof expiresAt !== 'number') return expiresAt;

    // Graph validates every endpoint before it creates anything.
    for (const url of [notificationUrl, lifecycleNotificationUrl]) {
      if (url === undefined) continue;
      const failure = await this.validateEndpoint(url);
      if (failure !== undefined) return graphError(400, 'ValidationError', failure);
    }

    const subscription: Subscription = {
      id: newGuid(),
      resource,
      changeType: changeTypes.join(','),
      changeTypes: new Set(changeTypes as ChangeType[]),
      notificationUrl,
      ...(lifecycleNotificationUrl === undefined ? {} : { lifecycleNotificationUrl }),
      expiresAt,
      ...(clientState === undefined ? {} : { clientState }),
      mailbox: call.mailbox,
      clientId: call.clientId,
      immutableId: call.preferences.immutableId,
      scope,
    };
    this.subscriptions.set(subscription.id, subscription);
    return graphJson(201, this.entity(call, subscription));
  }

  async update(call: GraphCall, subscriptionId: string): Promise<EmulatorResponse> {
    const subscription = this.owned(call, subscriptionId);
    if (!subscription) return notFound(subscriptionId);
    const body = call.json<Record<string, unknown>>() ?? {};
    let expiresAt = subscription.expiresAt;
    if (body.expirationDateTime !== undefined) {
      const checked = this.checkExpiration(body.expirationDateTime);
      if (typeof checked !== 'number') return checked;
      expiresAt = checked;
    }
    let notificationUrl = subscription.notificationUrl;
    if (typeof body.notificationUrl === 'string') {
      if (!isLoopbackUrl(body.notificationUrl)) return graphError(400, 'InvalidRequest', 'Invalid notification url.');
      notificationUrl = body.notificationUrl;
    }
    // Renewal re-runs the validation handshake against the notification URL.
    const failure = await this.validateEndpoint(notificationUrl);
    if (failure !== undefined) return graphError(400, 'ValidationError', failure);
    subscription.expiresAt = expiresAt;
    subscription.notificationUrl = notificationUrl;
    return graphJson(200, this.entity(call, subscription));
  }

  remove(call: GraphCall, subscriptionId: string): EmulatorResponse {
    const subscription = this.owned(call, subscriptionId);
    if (!subscription) return notFound(subscriptionId);
    this.subscriptions.delete(subscriptionId);
    return { status: 204, body: null };
  }

  get(call: GraphCall, subscriptionId: string): EmulatorResponse {
    const subscription = this.owned(call, subscriptionId);
    if (!subscription) return notFound(subscriptionId);
    return graphJson(200, this.entity(call, subscription));
  }

  listFor(call: GraphCall): EmulatorResponse {
    this.sweepExpired();
    const value = [...this.subscriptions.values()]
      .filter((subscription) => subscription.mailbox === call.mailbox && subscription.clientId === call.clientId)
      .map((subscription) => this.render(subscription));
    const body: GraphPage<GraphJson<GraphSubscription>> = { '@odata.context': `${call.origin}/v1.0/$metadata#subscriptions`, value };
    return graphJson(200, body);
  }

  reauthorize(call: GraphCall, subscriptionId: string): EmulatorResponse {
    const subscription = this.owned(call, subscriptionId);
    if (!subscription) return notFound(subscriptionId);
    return { status: 200, body: null };
  }

  private owned(call: GraphCall, subscriptionId: string): Subscription | undefined {
    this.sweepExpired();
    const subscription = this.subscriptions.get(subscriptionId);
    if (!subscription || subscription.mailbox !== call.mailbox || subscription.clientId !== call.clientId) return undefined;
    return subscription;
  }

  private entity(call: GraphCall, subscription: Subscription): GraphJson<GraphSubscription> {
    return { '@odata.context': `${call.origin}/v1.0/$metadata#subscriptions/$entity`, ...this.render(subscription) };
  }

  /** The subscription resource as Graph returns it (typed with the generated Subscription). */
  private render(subscription: Subscription): GraphJson<GraphSubscription> {
    return {
      id: subscription.id,
      resource: subscription.resource,
      applicationId: subscription.clientId,
      changeType: subscription.changeType,
      clientState: subscription.clientState ?? null,
      notificationUrl: subscription.notificationUrl,
      notificationQueryOptions: null,
      lifecycleNotificationUrl: subscription.lifecycleNotificationUrl ?? null,
      expirationDateTime: new Date(subscription.expiresAt).toISOString(),
      creatorId: subscription.mailbox.userId,
      includeResourceData: null,
      latestSupportedTlsVersion: 'v1_2',
      encryptionCertificate: null,
      encryptionCertificateId: null,
      notificationUrlAppId: null,
    };
  }

  private checkExpiration(value: unknown): number | EmulatorResponse {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
      return graphError(400, 'InvalidRequest', "The 'expirationDateTime' property is required and must be a valid date.");
    }
    const expiresAt = Date.parse(value);
    const now = this.options.now();
    if (expiresAt <= now) return graphError(400, 'InvalidRequest', 'Subscription expiration must be in the future.');
    if (expiresAt > now + MAX_MESSAGE_SUBSCRIPTION_MINUTES * 60_000) {
      return graphError(400, 'ExtensionError', `Subscription expiration can only be ${MAX_MESSAGE_SUBSCRIPTION_MINUTES} minutes in the future.`);
    }
    return expiresAt;
  }

  /** `/me/mailFolders('inbox')/messages`, `me/mailfolders/{id}/messages`, `/me/messages`, `/users/{id}/…`. */
  private parseResource(resource: string, mailbox: Mailbox): SubscriptionScope | EmulatorResponse {
    const segments = pathSegments(resource.replace(/^\/?(v1\.0|beta)\//i, '/'));
    let rest: string[];
    if (segments[0] === 'me') rest = segments.slice(1);
    else if (segments[0] === 'users' && segments[1] !== undefined) {
      const user = segments[1].toLowerCase();
      if (user !== mailbox.userId && user !== mailbox.email.toLowerCase()) {
        return graphError(403, 'ExtensionError', 'Operation: Create; Exception: [Status Code: Forbidden; Reason: Access is denied.]');
      }
      rest = segments.slice(2);
    } else rest = [];
    if (rest.length === 1 && rest[0] === 'messages') return { kind: 'mailbox' };
    if (rest.length === 3 && rest[0] === 'mailfolders' && rest[2] === 'messages') {
      const folder = this.options.store.resolveFolder(mailbox, rest[1] ?? '');
      if (!folder) {
        return graphError(
          404,
          'ExtensionError',
          'Operation: Create; Exception: [Status Code: NotFound; Reason: The specified folder could not be found in the store.]',
        );
      }
      return { kind: 'folder', folderId: folder.id };
    }
    return graphError(400, 'InvalidRequest', `Resource '${resource}' is not supported by the Graph emulator for subscriptions.`);
  }

  /** POST ?validationToken=… as text/plain; expects 200 + the exact token as text/plain within the timeout. */
  private async validateEndpoint(url: string): Promise<string | undefined> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${newGuid()}`;
    const target = new URL(url);
    const separator = target.search ? '&' : '?';
    const validationUrl = `${url}${separator}validationToken=${encodeURIComponent(token)}`;
    const response = await postWebhook(validationUrl, '', 'text/plain; charset=utf-8', this.options.validationTimeoutMs);
    this.deliveryLog.push({ kind: 'validation', url: validationUrl, attempt: 1, status: response.status, body: '' });
    if (response.timedOut) {
      return 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request within 10 seconds.';
    }
    if (response.status !== 200) {
      return 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.';
    }
    if (!response.contentType.toLowerCase().startsWith('text/plain') || response.body !== token) {
      return 'Subscription validation request failed. Response must exactly match validationToken query parameter.';
    }
    return undefined;
  }

  // ---- change notifications ------------------------------------------------------------------

  private onMailEvent(event: MailEvent): void {
    if (this.closed) return;
    this.sweepExpired();
    for (const subscription of this.subscriptions.values()) {
      if (subscription.mailbox !== event.mailbox) continue;
      for (const change of changesFor(subscription, event)) {
        if (!subscription.changeTypes.has(change.changeType)) continue;
        this.enqueue(subscription, change.changeType, change.id, change.changeKey);
      }
    }
  }

  private enqueue(subscription: Subscription, changeType: ChangeType, messageId: string, changeKey: string): void {
    const resource = `Users/${subscription.mailbox.userId}/Messages/${messageId}`;
    const payload: Record<string, unknown> = {
      id: newOpaqueToken(9),
      subscriptionId: subscription.id,
      subscriptionExpirationDateTime: new Date(subscription.expiresAt).toISOString(),
      changeType,
      resource,
      resourceData: {
        '@odata.type': '#Microsoft.Graph.Message',
        '@odata.id': resource,
        '@odata.etag': etag(changeKey),
        id: messageId,
      },
      clientState: subscription.clientState ?? null,
      tenantId: this.options.tenantId,
    };
    const queue = this.outbox.get(subscription.notificationUrl) ?? [];
    queue.push({ subscriptionId: subscription.id, payload });
    this.outbox.set(subscription.notificationUrl, queue);
    this.scheduleDispatch();
  }

  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    // Changes made in the same tick share one POST, as Graph batches notifications per endpoint.
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatchOutbox();
    });
  }

  private dispatchOutbox(): void {
    const faults = this.options.faults;
    for (const [url, queued] of this.outbox) {
      this.outbox.delete(url);
      const kept: QueuedNotification[] = [];
      const duplicates: QueuedNotification[] = [];
      for (const item of queued) {
        if (faults.dropNotifications > 0) {
          faults.dropNotifications -= 1;
          continue;
        }
        kept.push(item);
        if (faults.duplicateNotifications > 0) {
          faults.duplicateNotifications -= 1;
          duplicates.push(item);
        }
      }
      if (kept.length === 0) continue;
      if (faults.reorderNotifications) {
        const reversed = [...kept, ...duplicates].reverse();
        void this.track(
          (async () => {
            for (const item of reversed) await this.deliverNotifications(url, [item]);
          })(),
        );
      } else {
        void this.track(
          (async () => {
            await this.deliverNotifications(url, kept);
            if (duplicates.length > 0) await this.deliverNotifications(url, duplicates);
          })(),
        );
      }
    }
  }

  private track(task: Promise<void>): Promise<void> {
    this.inflight.add(task);
    void task.finally(() => this.inflight.delete(task));
    return task;
  }

  private async deliverNotifications(url: string, items: QueuedNotification[]): Promise<void> {
    const body = JSON.stringify({ value: items.map((item) => item.payload) });
    const delivered = await this.post('notification', url, body);
    if (delivered) return;
    // Undeliverable notifications surface as a `missed` lifecycle event, telling the app to resync.
    const affected = new Set(items.map((item) => item.subscriptionId));
    for (const subscriptionId of affected) {
      const subscription = this.subscriptions.get(subscriptionId);
      if (subscription?.lifecycleNotificationUrl) await this.deliverLifecycle(subscription, 'missed');
    }
  }

  private async deliverLifecycle(subscription: Subscription, event: LifecycleEvent): Promise<void> {
    if (!subscription.lifecycleNotificationUrl) return;
    // As Graph documents lifecycle notifications (concepts/change-notifications-lifecycle-events.md):
    // subscription id and expiry, tenant, clientState and the event — no `id`. changeNotification's
    // `id` is optional (resources/changenotification.md) and the documented lifecycle payloads omit
    // it, so two `missed` for one subscription look alike here, as they do from Graph.
    const body = JSON.stringify({
      value: [
        {
          subscriptionId: subscription.id,
          subscriptionExpirationDateTime: new Date(subscription.expiresAt).toISOString(),
          tenantId: this.options.tenantId,
          clientState: subscription.clientState ?? null,
          lifecycleEvent: event,
        },
      ],
    });
    await this.post('lifecycle', subscription.lifecycleNotificationUrl, body);
  }

  /** One delivery with bounded retries: non-2xx, errors and responses slower than the timeout fail. */
  private async post(kind: 'notification' | 'lifecycle', url: string, body: string): Promise<boolean> {
    const delays = this.options.retryDelaysMs;
    for (let attempt = 1; attempt <= delays.length + 1; attempt += 1) {
      if (this.closed) return false;
      const response = await postWebhook(url, body, 'application/json; charset=utf-8', this.options.notificationTimeoutMs);
      this.deliveryLog.push({ kind, url, attempt, status: response.status, body });
      if (response.status >= 200 && response.status < 300) return true;
      const delay = delays[attempt - 1];
      if (delay === undefined) break;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    return false;
  }
}

function notFound(subscriptionId: string): EmulatorResponse {
  return graphError(404, 'ResourceNotFound', `The object '${subscriptionId}' was not found.`);
}

function idFor(subscription: Subscription, message: StoredMessage): string {
  return subscription.immutableId ? message.immutableId : message.restId;
}

function inScope(subscription: Subscription, folderId: string): boolean {
  return subscription.scope.kind === 'mailbox' || subscription.scope.folderId === folderId;
}

/** Maps a mailbox change to the notifications one subscription would see. */
function changesFor(subscription: Subscription, event: MailEvent): Array<{ changeType: ChangeType; id: string; changeKey: string }> {
  switch (event.type) {
    case 'created':
    case 'updated':
      return inScope(subscription, event.message.folderId)
        ? [{ changeType: event.type, id: idFor(subscription, event.message), changeKey: event.message.changeKey }]
        : [];
    case 'deleted':
      return inScope(subscription, event.folderId)
        ? [{ changeType: 'deleted', id: subscription.immutableId ? event.immutableId : event.restId, changeKey: event.changeKey }]
        : [];
    case 'moved': {
      const message = event.message;
      const previousId = subscription.immutableId ? message.immutableId : event.previousRestId;
      if (subscription.scope.kind === 'mailbox') {
        // A move keeps an immutable id (an update); a REST id dies and a new one is born.
        return subscription.immutableId
          ? [{ changeType: 'updated', id: message.immutableId, changeKey: message.changeKey }]
          : [
              { changeType: 'deleted', id: previousId, changeKey: message.changeKey },
              { changeType: 'created', id: message.restId, changeKey: message.changeKey },
            ];
      }
      const changes: Array<{ changeType: ChangeType; id: string; changeKey: string }> = [];
      if (subscription.scope.folderId === event.fromFolderId) changes.push({ changeType: 'deleted', id: previousId, changeKey: message.changeKey });
      if (subscription.scope.folderId === message.folderId)
        changes.push({ changeType: 'created', id: idFor(subscription, message), changeKey: message.changeKey });
      return changes;
    }
  }
}
