// The provider's options, parsed with zod at the boundary so a misconfigured host fails at
// start-up with CONFIG_INVALID instead of at the first webhook.
import { EmailAddress, parseProviderOptions } from '@threadlink/core/provider';
import { z } from 'zod';

const Url = z.string().url();

/** google-auth-library's endpoint names, so a host (or the emulator) can point OAuth elsewhere. */
const OAuthEndpoints = z.strictObject({
  oauth2AuthBaseUrl: Url.optional(),
  oauth2TokenUrl: Url.optional(),
  oauth2RevokeUrl: Url.optional(),
  oauth2FederatedSignonPemCertsUrl: Url.optional(),
  oauth2FederatedSignonJwkCertsUrl: Url.optional(),
  tokenInfoUrl: Url.optional(),
});

export const GmailProviderOptions = z.strictObject({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** `projects/{project}/topics/{topic}`; the topic must grant publish to gmail-api-push@system.gserviceaccount.com. */
  pubsubTopic: z.string().regex(/^projects\/[^/]+\/topics\/[^/]+$/, 'expected projects/{project}/topics/{topic}'),
  /** The audience configured on the push subscription's OIDC token. */
  pushAudience: z.string().min(1),
  /** The service account the push subscription signs its OIDC token as. */
  pushServiceAccount: EmailAddress,
  /** 'full' (default): gmail.readonly + gmail.send, body on demand. 'metadata': gmail.metadata + gmail.send, no bodies. */
  mode: z.enum(['full', 'metadata']).default('full'),
  apiRootUrl: Url.default('https://gmail.googleapis.com/'),
  /** Admin SDK Directory API root, for organization connections (users.list, members.list). */
  directoryRootUrl: Url.default('https://admin.googleapis.com/'),
  oauthEndpoints: OAuthEndpoints.optional(),
  /**
   * Ceiling on the share of the per-user quota back-fill may bring a mailbox's usage up to. Real-time
   * calls always go first, so the default lets back-fill take whatever they leave; lower it to keep
   * headroom for other apps that use the same Google accounts.
   */
  backfillQuotaShare: z.number().gt(0).max(1).default(1),
  /** Gmail's per-user quota: 15,000 units per minute ≈ 250 units/s. Raise only for emulators/benchmarks. */
  quotaUnitsPerSecond: z.number().positive().default(250),
  /** Back-fill batch requests in flight: small batches at ~20/s need a few in parallel at real round-trip times. */
  backfillConcurrency: z.number().int().min(1).max(10).default(4),
  /** Calls per `/batch/gmail/v1` request: Google allows 100 and advises against more than 50. */
  batchSize: z.number().int().min(1).max(100).default(50),
  /** Retries of a throttled or unavailable call inside one operation (the engine retries whole jobs on top). */
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(10).optional(),
      baseMs: z.number().int().min(0).optional(),
      maxMs: z.number().int().min(0).optional(),
    })
    .default({}),
  /** Per-request timeout. */
  requestTimeoutMs: z.number().int().positive().default(30_000),
});

export type GmailProviderOptions = z.input<typeof GmailProviderOptions>;
export type ResolvedGmailOptions = z.output<typeof GmailProviderOptions>;

export function parseGmailOptions(input: unknown): ResolvedGmailOptions {
  return parseProviderOptions(GmailProviderOptions, input, 'gmailProvider');
}

export const SCOPES = {
  metadata: 'https://www.googleapis.com/auth/gmail.metadata',
  readonly: 'https://www.googleapis.com/auth/gmail.readonly',
  send: 'https://www.googleapis.com/auth/gmail.send',
} as const;

/**
 * Least privilege per mode. gmail.metadata covers watch, history and metadata gets but Google
 * refuses format=full/raw and `q` with it; body on demand needs gmail.readonly.
 */
export function scopesFor(mode: ResolvedGmailOptions['mode']): string[] {
  return mode === 'metadata' ? [SCOPES.metadata, SCOPES.send] : [SCOPES.readonly, SCOPES.send];
}
