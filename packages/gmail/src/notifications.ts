// Cloud Pub/Sub push → ChangeHints. The OIDC token is verified before the body is even parsed:
// signature against Google's certs, issuer, the audience the host configured on the push
// subscription, the push service account and email_verified
// (cloud.google.com/pubsub/docs/authenticate-push-subscriptions). Forged → 401, broken → 400,
// both with nothing enqueued; an unknown mailbox, stale or duplicate push is still a 2xx,
// because any other status makes Pub/Sub redeliver it for days.
import type { ChangeHint, WebhookContext, WebhookOutcome } from '@threadlink/core/provider';
import { EmailAddress, ThreadlinkError } from '@threadlink/core/provider';
import { createHash } from 'node:crypto';
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

/**
 * Push tokens already verified, by SHA-256 of the token. Pub/Sub does not sign a token per push:
 * "the tokens attached to requests sent to push endpoints may be up to an hour old"
 * (cloud.google.com/pubsub/docs/authenticate-push-subscriptions), so the RS256 signature and the
 * claims (audience, issuer, service account, email_verified), which cannot change for one token
 * and one provider instance, are checked once per token; its time window on every push.
 */
export interface VerifiedPushTokens {
  /** Token hash → the token's iat and exp (epoch seconds). Oldest first (insertion order). */
  readonly tokens: Map<string, { iat: number; exp: number }>;
  readonly max: number;
}

/** Tokens remembered at most: Pub/Sub uses a handful at a time, one per subscription and hour. */
export const MAX_VERIFIED_PUSH_TOKENS = 256;
/** google-auth-library's allowance for clock skew on iat/exp (OAuth2Client.CLOCK_SKEW_SECS_). */
const CLOCK_SKEW_SECONDS = 300;

const tokenKey = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** True when a verified token is still inside the window a fresh verification would accept. */
function inWindow(window: { iat: number; exp: number }, nowSeconds: number): boolean {
  return nowSeconds >= window.iat - CLOCK_SKEW_SECONDS && nowSeconds <= window.exp + CLOCK_SKEW_SECONDS;
}

async function verifyPushToken(
  verifier: OAuth2Client,
  verified: VerifiedPushTokens,
  options: ResolvedGmailOptions,
  authorization: string | null,
): Promise<void> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) throw unauthorized('Pub/Sub push without a bearer token');
  const key = tokenKey(token);
  const known = verified.tokens.get(key);
  // The same clock google-auth-library checks a fresh token against.
  const nowSeconds = Date.now() / 1000;
  if (known) {
    if (inWindow(known, nowSeconds)) return;
    verified.tokens.delete(key);
  }
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
  if (verified.tokens.size >= verified.max) {
    // Expired ones first; past that, the oldest (a Map iterates in insertion order).
    for (const [stale, window] of verified.tokens) if (!inWindow(window, nowSeconds)) verified.tokens.delete(stale);
    if (verified.tokens.size >= verified.max) verified.tokens.delete(verified.tokens.keys().next().value as string);
  }
  verified.tokens.set(key, { iat: payload.iat, exp: payload.exp });
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

/**
 * What checks push tokens: one per provider instance, so Google's certs and the tokens already
 * verified are kept across pushes.
 */
export function createPushVerifier(options: ResolvedGmailOptions): GmailContext['pushVerifier'] {
  return { client: createOAuthClient(options), verified: { tokens: new Map(), max: MAX_VERIFIED_PUSH_TOKENS } };
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
  await verifyPushToken(pushVerifier.client, pushVerifier.verified, options, request.headers.get('authorization'));
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
