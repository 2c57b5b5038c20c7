// What the doctor checks: the host's threadlink settings, as a typed object (runDoctor) or read
// from the environment variables a deployment already has (doctorConfigFromEnv, the CLI).
// Every field is optional on purpose: a missing value is a finding, not a crash.
import { join } from 'node:path';
import { ThreadlinkError, type SealingKey } from '@threadlink/core';
import { z } from 'zod';

const Text = z.string();

const GoogleSettings = z.strictObject({
  clientId: Text.optional(),
  clientSecret: Text.optional(),
  /** `projects/{project}/topics/{topic}` (gmailProvider's `pubsubTopic`). */
  pubsubTopic: Text.optional(),
  /** gmailProvider's `pushAudience`: the audience the push subscription's OIDC token must carry. */
  pushAudience: Text.optional(),
  /** gmailProvider's `pushServiceAccount`: the account the push subscription signs as. */
  pushServiceAccount: Text.optional(),
  /** `projects/{project}/subscriptions/{name}`; omitted = found through the topic's subscriptions. */
  pushSubscription: Text.optional(),
  /** gmailProvider's `mode`: 'full' (default) or 'metadata'. */
  mode: Text.optional(),
  /** The scopes listed on the OAuth consent screen, when the host wants them compared. */
  consentScopes: z.array(Text).optional(),
  /** A Google Cloud access token the doctor reads Pub/Sub with (e.g. `gcloud auth print-access-token`). */
  accessToken: Text.optional(),
  /** A service-account or authorized-user key file for google-auth-library (GOOGLE_APPLICATION_CREDENTIALS). */
  credentialsFile: Text.optional(),
  /** Default https://pubsub.googleapis.com (point it at an emulator in tests). */
  pubsubApiUrl: Text.optional(),
  /** Organization connections: the Workspace service account's JSON key file (domain-wide delegation). */
  delegationKeyFile: Text.optional(),
  /** The Workspace admin the Directory API acts as. */
  workspaceAdmin: Text.optional(),
  /** A user whose mailbox the doctor tries a Gmail token for. */
  workspaceSampleUser: Text.optional(),
  /** Default https://oauth2.googleapis.com/token (point it at an emulator in tests). */
  tokenUrl: Text.optional(),
});

const MicrosoftSettings = z.strictObject({
  clientId: Text.optional(),
  clientSecret: Text.optional(),
  /** 'common' (default), 'organizations', 'consumers', a tenant id or a verified domain. */
  tenant: Text.optional(),
  /** outlookProvider's `mode`: 'full' (default) or 'metadata'. */
  mode: Text.optional(),
  /** outlookProvider's `replies`: 'draft' (full mode's default, needs Mail.ReadWrite) or 'direct'. */
  replies: Text.optional(),
  /** A customer tenant (id or verified domain) connected with application permissions: checked with client credentials. */
  orgTenant: Text.optional(),
  /** A mailbox of that tenant the app should reach (checks the Exchange application access policy). */
  orgSampleMailbox: Text.optional(),
  /** outlookProvider's `authorityHost` (default https://login.microsoftonline.com). */
  authorityHost: Text.optional(),
  /** outlookProvider's `graphBaseUrl` (default https://graph.microsoft.com). */
  graphBaseUrl: Text.optional(),
});

const StoreSettings = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('postgres'), connectionString: Text, schema: Text.optional() }),
  z.strictObject({ kind: z.literal('pglite'), dataDir: Text, schema: Text.optional() }),
]);

const DoctorConfigSchema = z.strictObject({
  /** createThreadlink's `publicUrl`: webhooks and the OAuth callback live under it. */
  publicUrl: Text.optional(),
  sealingKeys: z.array(z.strictObject({ id: Text, key: Text })).optional(),
  store: StoreSettings.optional(),
  /** Present = Gmail is meant to be configured (its checks run; otherwise they are skipped). */
  google: GoogleSettings.optional(),
  /** Present = Outlook is meant to be configured. */
  microsoft: MicrosoftSettings.optional(),
  timeouts: z
    .strictObject({
      /** Graph gives the validation handshake 10 s; so does the doctor by default. */
      validationMs: z.number().int().positive().optional(),
      /** Every other HTTP call the doctor makes (default 15 s). */
      requestMs: z.number().int().positive().optional(),
      /** Store connection attempts (default 10 s). */
      storeMs: z.number().int().positive().optional(),
    })
    .optional(),
  /** Injected HTTP (tests, proxies); default globalThis.fetch. */
  fetch: z.custom<typeof fetch>((value) => typeof value === 'function').optional(),
});

export type DoctorConfig = z.input<typeof DoctorConfigSchema>;
export type GoogleSettings = z.output<typeof GoogleSettings>;
export type MicrosoftSettings = z.output<typeof MicrosoftSettings>;
export type StoreSettings = z.output<typeof StoreSettings>;

export interface ResolvedDoctorConfig {
  publicUrl: string | undefined;
  sealingKeys: SealingKey[] | undefined;
  store: StoreSettings | undefined;
  google: GoogleSettings | undefined;
  microsoft: MicrosoftSettings | undefined;
  timeouts: { validationMs: number; requestMs: number; storeMs: number };
  fetch: typeof fetch;
}

export function resolveDoctorConfig(input: DoctorConfig): ResolvedDoctorConfig {
  const parsed = DoctorConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`).join('; ');
    throw new ThreadlinkError('CONFIG_INVALID', `runDoctor config is invalid: ${problems}`);
  }
  const config = parsed.data;
  return {
    publicUrl: config.publicUrl,
    sealingKeys: config.sealingKeys,
    store: config.store,
    google: config.google,
    microsoft: config.microsoft,
    timeouts: {
      validationMs: config.timeouts?.validationMs ?? 10_000,
      requestMs: config.timeouts?.requestMs ?? 15_000,
      storeMs: config.timeouts?.storeMs ?? 10_000,
    },
    fetch: config.fetch ?? globalThis.fetch,
  };
}

/** The variables the CLI reads; `pnpm doctor --help` prints them. */
export const ENVIRONMENT_VARIABLES: ReadonlyArray<readonly [name: string, meaning: string]> = [
  ['THREADLINK_PUBLIC_URL', "createThreadlink's publicUrl, e.g. https://crm.example.com/threadlink"],
  [
    'THREADLINK_SEALING_KEY',
    '32 random bytes, base64url [+ THREADLINK_SEALING_KEY_ID, THREADLINK_PREVIOUS_SEALING_KEYS=id:key,…]; or THREADLINK_SEALING_KEYS=id:key,id2:key2 (first seals, all open)',
  ],
  ['DATABASE_URL', 'PostgreSQL connection string of the store'],
  ['THREADLINK_DATA_DIR', "the app's data folder when no DATABASE_URL: PGlite in its pglite/ subfolder (as the example keeps it)"],
  ['THREADLINK_PGLITE_DIR', 'the PGlite directory itself, when it is not THREADLINK_DATA_DIR/pglite'],
  ['THREADLINK_STORE_SCHEMA', "the store's PostgreSQL schema (default threadlink)"],
  ['GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET', 'the OAuth client (Web application)'],
  ['GOOGLE_PUBSUB_TOPIC', 'projects/{project}/topics/{topic}'],
  ['GOOGLE_PUSH_AUDIENCE / GOOGLE_PUSH_SERVICE_ACCOUNT', "gmailProvider's pushAudience / pushServiceAccount"],
  ['GOOGLE_PUBSUB_SUBSCRIPTION', 'projects/{project}/subscriptions/{name} (optional: found through the topic)'],
  ['GOOGLE_GMAIL_MODE', "gmailProvider's mode: full (default) or metadata"],
  ['GOOGLE_OAUTH_SCOPES', 'the scopes on your consent screen, space- or comma-separated (optional)'],
  ['GOOGLE_ACCESS_TOKEN or GOOGLE_APPLICATION_CREDENTIALS', 'Google Cloud credentials the doctor reads Pub/Sub with'],
  ['GOOGLE_PUBSUB_API_URL', 'default https://pubsub.googleapis.com (emulators)'],
  ['GOOGLE_DELEGATION_KEY_FILE', 'organization connections: the Workspace service account key (JSON) with domain-wide delegation'],
  ['GOOGLE_WORKSPACE_ADMIN / GOOGLE_WORKSPACE_SAMPLE_USER', 'the admin the Directory API acts as / a user whose mailbox is tried'],
  ['GOOGLE_TOKEN_URL', 'default https://oauth2.googleapis.com/token (emulators)'],
  ['MICROSOFT_CLIENT_ID / MICROSOFT_CLIENT_SECRET', 'the Entra ID app registration'],
  ['MICROSOFT_TENANT', 'common (default), organizations, consumers, a tenant id or domain'],
  ['MICROSOFT_MAIL_MODE', "outlookProvider's mode: full (default) or metadata"],
  ['MICROSOFT_REPLIES', "outlookProvider's replies: draft (full mode's default, needs Mail.ReadWrite) or direct"],
  ['MICROSOFT_ORG_TENANT', 'a customer tenant connected with application permissions (admin consent): its id or domain'],
  ['MICROSOFT_ORG_SAMPLE_MAILBOX', 'a mailbox of that tenant the app must reach (checks the application access policy)'],
];

const GOOGLE_MARKERS = [
  'GOOGLE_CLIENT_ID',
  'GOOGLE_CLIENT_SECRET',
  'GOOGLE_PUBSUB_TOPIC',
  'GOOGLE_PUSH_AUDIENCE',
  'GOOGLE_PUSH_SERVICE_ACCOUNT',
  'GOOGLE_PUBSUB_SUBSCRIPTION',
  'GOOGLE_DELEGATION_KEY_FILE',
];
const MICROSOFT_MARKERS = ['MICROSOFT_CLIENT_ID', 'MICROSOFT_CLIENT_SECRET'];

/** `id:key,id2:key2`. An entry without an id keeps an empty one, which the sealing-key check reports. */
export function parseSealingKeyList(text: string): SealingKey[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const separator = entry.indexOf(':');
      return separator < 0 ? { id: '', key: entry } : { id: entry.slice(0, separator).trim(), key: entry.slice(separator + 1).trim() };
    });
}

/**
 * Reads the deployment's environment. Gmail counts as configured when any of its OAuth or Pub/Sub
 * variables is set (GOOGLE_APPLICATION_CREDENTIALS alone is common on Google Cloud and says
 * nothing about Gmail); Outlook when its client id or secret is.
 */
export function doctorConfigFromEnv(environment: Record<string, string | undefined>): DoctorConfig {
  // An empty variable (FOO= in a .env file) means "not set".
  const read = (name: string): string | undefined => {
    const value = environment[name]?.trim();
    return value ? value : undefined;
  };
  const config: DoctorConfig = {};
  const publicUrl = read('THREADLINK_PUBLIC_URL');
  if (publicUrl) config.publicUrl = publicUrl;

  const keyList = read('THREADLINK_SEALING_KEYS');
  const singleKey = read('THREADLINK_SEALING_KEY');
  if (keyList) config.sealingKeys = parseSealingKeyList(keyList);
  else if (singleKey) {
    const previous = read('THREADLINK_PREVIOUS_SEALING_KEYS');
    config.sealingKeys = [{ id: read('THREADLINK_SEALING_KEY_ID') ?? 'primary', key: singleKey }, ...(previous ? parseSealingKeyList(previous) : [])];
  }

  const schema = read('THREADLINK_STORE_SCHEMA');
  const databaseUrl = read('DATABASE_URL');
  const dataDir = read('THREADLINK_DATA_DIR');
  const pgliteDir = read('THREADLINK_PGLITE_DIR') ?? (dataDir ? join(dataDir, 'pglite') : undefined);
  if (databaseUrl) config.store = { kind: 'postgres', connectionString: databaseUrl, ...(schema ? { schema } : {}) };
  else if (pgliteDir) config.store = { kind: 'pglite', dataDir: pgliteDir, ...(schema ? { schema } : {}) };

  if (GOOGLE_MARKERS.some((name) => read(name) !== undefined)) {
    const scopes = read('GOOGLE_OAUTH_SCOPES');
    const google: GoogleSettings = {};
    const assign = (key: keyof Omit<GoogleSettings, 'consentScopes'>, name: string): void => {
      const value = read(name);
      if (value !== undefined) google[key] = value;
    };
    assign('clientId', 'GOOGLE_CLIENT_ID');
    assign('clientSecret', 'GOOGLE_CLIENT_SECRET');
    assign('pubsubTopic', 'GOOGLE_PUBSUB_TOPIC');
    assign('pushAudience', 'GOOGLE_PUSH_AUDIENCE');
    assign('pushServiceAccount', 'GOOGLE_PUSH_SERVICE_ACCOUNT');
    assign('pushSubscription', 'GOOGLE_PUBSUB_SUBSCRIPTION');
    assign('mode', 'GOOGLE_GMAIL_MODE');
    assign('accessToken', 'GOOGLE_ACCESS_TOKEN');
    assign('credentialsFile', 'GOOGLE_APPLICATION_CREDENTIALS');
    assign('pubsubApiUrl', 'GOOGLE_PUBSUB_API_URL');
    assign('delegationKeyFile', 'GOOGLE_DELEGATION_KEY_FILE');
    assign('workspaceAdmin', 'GOOGLE_WORKSPACE_ADMIN');
    assign('workspaceSampleUser', 'GOOGLE_WORKSPACE_SAMPLE_USER');
    assign('tokenUrl', 'GOOGLE_TOKEN_URL');
    if (scopes) google.consentScopes = scopes.split(/[\s,]+/).filter(Boolean);
    config.google = google;
  }

  if (MICROSOFT_MARKERS.some((name) => read(name) !== undefined)) {
    const microsoft: MicrosoftSettings = {};
    const clientId = read('MICROSOFT_CLIENT_ID');
    const clientSecret = read('MICROSOFT_CLIENT_SECRET');
    const tenant = read('MICROSOFT_TENANT');
    const mode = read('MICROSOFT_MAIL_MODE');
    const replies = read('MICROSOFT_REPLIES');
    if (clientId) microsoft.clientId = clientId;
    if (clientSecret) microsoft.clientSecret = clientSecret;
    if (tenant) microsoft.tenant = tenant;
    if (mode) microsoft.mode = mode;
    if (replies) microsoft.replies = replies;
    const orgTenant = read('MICROSOFT_ORG_TENANT');
    const orgSampleMailbox = read('MICROSOFT_ORG_SAMPLE_MAILBOX');
    if (orgTenant) microsoft.orgTenant = orgTenant;
    if (orgSampleMailbox) microsoft.orgSampleMailbox = orgSampleMailbox;
    config.microsoft = microsoft;
  }
  return config;
}
