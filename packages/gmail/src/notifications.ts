// Cloud Pub/Sub push → ChangeHints. The OIDC token is verified before the body is even parsed:
// signature against Google's certs, issuer, the audience the host configured on the push
// subscription, the push service account and email_verified
// (cloud.google.com/pubsub/docs/authenticate-push-subscriptions). Forged → 401, broken → 400,
// both with nothing enqueued; an unknown mailbox, stale or duplicate push is still a 2xx,
// because any other status makes Pub/Sub redeliver it for days.
import type { ChangeHint, WebhookContext, WebhookOutcome } from '@threadlink/core/provider';
import { EmailAddress, ThreadlinkError } from '@threadlink/core/provider';
import type { OAuth2Client, TokenPayload } from 'google-auth-library';
import { z } from 'zod';
import { createOAuthClient, type GmailContext } from './client.js';
import type { ResolvedGmailOptions } from './options.js';

/** Pub/Sub's push envelope; extra keys (deliveryAttempt, snake_case twins) are allowed. */
const PushEnvelope = z.object({
  message: z.object({
    data: z.string().min(1),
    messageId: z.string().optional(),
    message_id: z.string().optional(),
    publishTime: z.string().optional(),
  }),
  subscription: z.string().min(1),
});

/** What Gmail publishes. historyId is a number today, a string in older docs: accept both. */
const GmailNotification = z.object({
  emailAddress: EmailAddress,
  historyId: z.union([z.string().regex(/^\d{1,20}$/), z.number().int().nonnegative()]).transform(String),
});

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function unauthorized(message: string, cause?: unknown): ThreadlinkError {
  return new ThreadlinkError('WEBHOOK_UNAUTHORIZED', message, { details: { provider: 'gmail' }, ...(cause === undefined ? {} : { cause }) });
}

function malformed(message: string): ThreadlinkError {
  return new ThreadlinkError('WEBHOOK_MALFORMED', message, { details: { provider: 'gmail' } });
}

async function verifyPushToken(verifier: OAuth2Client, options: ResolvedGmailOptions, authorization: string | null): Promise<void> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) throw unauthorized('Pub/Sub push without a bearer token');
  try {
    // Separate from verification: certs that cannot be fetched are our outage (503, Pub/Sub retries),
    // not a forged push. The library caches them per Cache-Control.
    await verifier.getFederatedSignonCertsAsync();
  } catch (error) {
    throw new ThreadlinkError('PROVIDER_UNAVAILABLE', 'Google signing certificates could not be fetched', { cause: error, details: { provider: 'gmail' } });
  }
  let payload: TokenPayload | undefined;
  try {
    // Checks the RS256 signature, exp/iat (with Google's 5 min skew), aud and iss ∈ accounts.google.com.
    const ticket = await verifier.verifyIdToken({ idToken: token, audience: options.pushAudience });
    payload = ticket.getPayload();
  } catch (error) {
    throw unauthorized('Pub/Sub push token failed verification', error);
  }
  if (!payload) throw unauthorized('Pub/Sub push token has no payload');
  if (payload.email?.toLowerCase() !== options.pushServiceAccount) throw unauthorized('Pub/Sub push token is for another service account');
  if (payload.email_verified !== true) throw unauthorized('Pub/Sub push token email is not verified');
}

function parseNotification(text: string): { envelope: z.infer<typeof PushEnvelope>; notification: z.infer<typeof GmailNotification> } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed('Pub/Sub push body is not JSON');
  }
  const envelope = PushEnvelope.safeParse(json);
  if (!envelope.success) throw malformed('Pub/Sub push body is not a push envelope');
  const data = envelope.data.message.data;
  if (!BASE64.test(data)) throw malformed('Pub/Sub message data is not base64');
  let inner: unknown;
  try {
    inner = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  } catch {
    throw malformed('Pub/Sub message data is not JSON');
  }
  const notification = GmailNotification.safeParse(inner);
  if (!notification.success) throw malformed('Pub/Sub message is not a Gmail notification');
  return { envelope: envelope.data, notification: notification.data };
}

/** The OAuth client that checks push tokens: one per provider instance, so Google's certs are cached across pushes. */
export function createPushVerifier(options: ResolvedGmailOptions): OAuth2Client {
  return createOAuthClient(options);
}

/**
 * A wrapped Pub/Sub push is a JSON POST body (cloud.google.com/pubsub/docs/push: "Pub/Sub sends
 * the message in the JSON body of a POST request"), sent as `application/json`; a charset or other
 * parameter is allowed. Anything else (a form, multipart, text/plain a browser may send cross-site
 * without a preflight) is not Pub/Sub.
 */
function isJson(contentType: string | null): boolean {
  return /^application\/json\s*(?:;|$)/i.test(contentType?.trim() ?? '');
}

export async function handleWebhook(
  { options, pushVerifier }: GmailContext,
  request: Request,
  route: string,
  context: WebhookContext,
): Promise<WebhookOutcome> {
  if (route !== '') throw new ThreadlinkError('NOT_FOUND', `Gmail has no webhook route "${route}"`);
  // The token first: an unauthenticated caller learns nothing but 401, whatever it sends.
  await verifyPushToken(pushVerifier, options, request.headers.get('authorization'));
  if (!isJson(request.headers.get('content-type'))) {
    throw new ThreadlinkError('UNSUPPORTED_MEDIA_TYPE', 'Pub/Sub pushes are application/json', { details: { provider: 'gmail' } });
  }
  const { envelope, notification } = parseNotification(await request.text());
  const connections = (await context.connectionsByAccount('gmail', notification.emailAddress)).filter((connection) => connection.status !== 'disconnected');
  const notificationId = envelope.message.messageId ?? envelope.message.message_id;
  const receivedAt = context.clock.now();
  // The historyId is not passed on: the engine always pulls from its stored cursor, because a
  // push whose id is not newer can still carry changes and pushes arrive unordered.
  const hints: ChangeHint[] = connections.map((connection) => ({
    connectionId: connection.id,
    kind: 'changes',
    receivedAt,
    ...(notificationId === undefined ? {} : { notificationId: notificationId.slice(0, 512) }),
  }));
  if (hints.length === 0) context.logger.debug('gmail push for an unknown mailbox acknowledged', { subscription: envelope.subscription });
  return { hints };
}
