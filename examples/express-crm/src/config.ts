// Everything the example reads from the environment, parsed once with zod. Demo mode (the
// default) needs nothing; real mode is switched on by Google or Microsoft client ids and then
// insists on the rest of that provider's settings, a public https URL and a sealing key.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SealingKey } from '@threadlink/core';
import { z } from 'zod';

export const EXAMPLE_DIRECTORY = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export type StorageConfig = { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; connectionString: string } | { kind: 'memory' };

interface GoogleConfig {
  clientId: string;
  clientSecret: string;
  pubsubTopic: string;
  pushAudience: string;
  pushServiceAccount: string;
}

interface MicrosoftConfig {
  clientId: string;
  clientSecret: string;
  tenant: string;
}

export interface AppConfig {
  mode: 'demo' | 'real';
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The origin browsers and providers reach this app at; default http://host:port. */
  publicUrl?: string;
  /** Deprecated variables still honoured, to print at start. */
  warnings: string[];
  storage: StorageConfig;
  /** Where demo mode keeps its generated sealing key (never committed: .threadlink-data/ is git-ignored). */
  dataDir: string;
  /** The first key seals, all open. Demo mode generates and persists one when absent. */
  sealingKeys?: SealingKey[];
  google?: GoogleConfig;
  microsoft?: MicrosoftConfig;
  /** The signed-in CRM user. The example has no login, so one user owns the page. */
  tenantId: string;
  userId: string;
  /** How often tl.maintain() runs (watch/subscription renewals, safety-net pulls). */
  maintainIntervalMs: number;
  logger: 'console' | 'silent';
  demo: {
    /** Put a few weeks of history into the emulated mailboxes so connecting shows a back-fill. */
    seedHistory: boolean;
  };
}

// An empty variable (FOO= in a .env file) means "not set".
const optionalText = z.preprocess((value) => (value === '' ? undefined : value), z.string().trim().min(1).optional());

const Environment = z.object({
  PORT: z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().min(0).max(65535).default(3000)),
  HOST: optionalText.default('127.0.0.1'),
  /** createThreadlink's publicUrl, as the doctor reads it: https://crm.example.com/threadlink (the origin alone is accepted). */
  THREADLINK_PUBLIC_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** Deprecated: the origin only (before the example and the doctor shared THREADLINK_PUBLIC_URL). */
  PUBLIC_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  THREADLINK_MODE: z.preprocess((value) => (value === '' ? undefined : value), z.enum(['demo', 'real']).optional()),
  THREADLINK_DATA_DIR: optionalText.default('.threadlink-data'),
  DATABASE_URL: optionalText,
  THREADLINK_SEALING_KEY: optionalText,
  THREADLINK_SEALING_KEY_ID: optionalText.default('primary'),
  /** Older keys kept for opening tokens sealed before a rotation: "id:key,id:key". */
  THREADLINK_PREVIOUS_SEALING_KEYS: optionalText,
  GOOGLE_CLIENT_ID: optionalText,
  GOOGLE_CLIENT_SECRET: optionalText,
  GOOGLE_PUBSUB_TOPIC: optionalText,
  GOOGLE_PUSH_AUDIENCE: optionalText,
  GOOGLE_PUSH_SERVICE_ACCOUNT: optionalText,
  MICROSOFT_CLIENT_ID: optionalText,
  MICROSOFT_CLIENT_SECRET: optionalText,
  MICROSOFT_TENANT: optionalText.default('common'),
  CRM_TENANT_ID: optionalText.default('demo'),
  CRM_USER_ID: optionalText.default('ana'),
  MAINTAIN_INTERVAL_MS: z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().min(1_000).default(60_000)),
  THREADLINK_LOG: z.preprocess((value) => (value === '' ? undefined : value), z.enum(['console', 'silent']).default('console')),
  DEMO_SEED_HISTORY: z.preprocess((value) => (value === '' ? undefined : value), z.enum(['true', 'false']).default('true')),
});

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function previousKeys(text: string | undefined): SealingKey[] {
  if (!text) return [];
  return text.split(',').map((pair) => {
    const separator = pair.indexOf(':');
    if (separator <= 0) throw new ConfigError('THREADLINK_PREVIOUS_SEALING_KEYS must look like "id:key,id:key"');
    return { id: pair.slice(0, separator).trim(), key: pair.slice(separator + 1).trim() };
  });
}

/** The example mounts tl.handler here, so createThreadlink's publicUrl is always {origin}/threadlink. */
const THREADLINK_PATH = '/threadlink';

/** The origin of THREADLINK_PUBLIC_URL (or the deprecated PUBLIC_URL), checked against where the example mounts threadlink. */
function publicOrigin(env: { THREADLINK_PUBLIC_URL?: string | undefined; PUBLIC_URL?: string | undefined }, warnings: string[]): string | undefined {
  if (env.THREADLINK_PUBLIC_URL) {
    const url = new URL(env.THREADLINK_PUBLIC_URL);
    const path = url.pathname.replace(/\/+$/, '');
    if (path !== '' && path !== THREADLINK_PATH) {
      throw new ConfigError(
        `THREADLINK_PUBLIC_URL must end in ${THREADLINK_PATH} (where this example mounts threadlink), e.g. ${url.origin}${THREADLINK_PATH}`,
      );
    }
    return url.origin;
  }
  if (env.PUBLIC_URL) {
    warnings.push(
      `PUBLIC_URL is deprecated: set THREADLINK_PUBLIC_URL=${env.PUBLIC_URL.replace(/\/+$/, '')}${THREADLINK_PATH} instead (the name the doctor reads too).`,
    );
    return env.PUBLIC_URL.replace(/\/+$/, '');
  }
  return undefined;
}

const GOOGLE_VARIABLES = ['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET', 'GOOGLE_PUBSUB_TOPIC', 'GOOGLE_PUSH_AUDIENCE', 'GOOGLE_PUSH_SERVICE_ACCOUNT'] as const;
const MICROSOFT_VARIABLES = ['MICROSOFT_CLIENT_ID', 'MICROSOFT_CLIENT_SECRET'] as const;

/** Reads the example's settings from an environment (process.env in server.ts). */
export function loadConfig(environment: Record<string, string | undefined>): AppConfig {
  const parsed = Environment.safeParse(environment);
  if (!parsed.success) {
    throw new ConfigError(`Invalid environment: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const env = parsed.data;
  const wantsGoogle = GOOGLE_VARIABLES.some((name) => env[name] !== undefined);
  const wantsMicrosoft = MICROSOFT_VARIABLES.some((name) => env[name] !== undefined);
  const mode = env.THREADLINK_MODE ?? (wantsGoogle || wantsMicrosoft ? 'real' : 'demo');
  const dataDir = resolve(EXAMPLE_DIRECTORY, env.THREADLINK_DATA_DIR);
  const storage: StorageConfig = env.DATABASE_URL
    ? { kind: 'postgres', connectionString: env.DATABASE_URL }
    : // PGlite gets its own sub-directory so the demo's sealing key can sit beside it.
      { kind: 'pglite', dataDir: resolve(dataDir, 'pglite') };
  const sealingKeys = env.THREADLINK_SEALING_KEY
    ? [{ id: env.THREADLINK_SEALING_KEY_ID, key: env.THREADLINK_SEALING_KEY }, ...previousKeys(env.THREADLINK_PREVIOUS_SEALING_KEYS)]
    : undefined;

  const warnings: string[] = [];
  const publicUrl = publicOrigin(env, warnings);
  const config: AppConfig = {
    mode,
    host: env.HOST,
    port: env.PORT,
    ...(publicUrl ? { publicUrl } : {}),
    warnings,
    storage,
    dataDir,
    ...(sealingKeys ? { sealingKeys } : {}),
    tenantId: env.CRM_TENANT_ID,
    userId: env.CRM_USER_ID,
    maintainIntervalMs: env.MAINTAIN_INTERVAL_MS,
    logger: env.THREADLINK_LOG,
    demo: { seedHistory: env.DEMO_SEED_HISTORY === 'true' },
  };
  if (mode === 'demo') return config;

  const problems: string[] = [];
  if (!wantsGoogle && !wantsMicrosoft) problems.push('set the GOOGLE_* and/or MICROSOFT_* variables');
  if (wantsGoogle) {
    const missing = GOOGLE_VARIABLES.filter((name) => env[name] === undefined);
    if (missing.length > 0) problems.push(`Gmail needs ${missing.join(', ')}`);
    else {
      config.google = {
        clientId: env.GOOGLE_CLIENT_ID!,
        clientSecret: env.GOOGLE_CLIENT_SECRET!,
        pubsubTopic: env.GOOGLE_PUBSUB_TOPIC!,
        pushAudience: env.GOOGLE_PUSH_AUDIENCE!,
        pushServiceAccount: env.GOOGLE_PUSH_SERVICE_ACCOUNT!,
      };
    }
  }
  if (wantsMicrosoft) {
    const missing = MICROSOFT_VARIABLES.filter((name) => env[name] === undefined);
    if (missing.length > 0) problems.push(`Outlook needs ${missing.join(', ')}`);
    else config.microsoft = { clientId: env.MICROSOFT_CLIENT_ID!, clientSecret: env.MICROSOFT_CLIENT_SECRET!, tenant: env.MICROSOFT_TENANT };
  }
  // Google and Microsoft only deliver push notifications to a public https endpoint.
  if (!publicUrl)
    problems.push(
      `THREADLINK_PUBLIC_URL is required (the https address Google and Microsoft reach threadlink at, e.g. https://crm.example.com${THREADLINK_PATH})`,
    );
  else if (!publicUrl.startsWith('https://')) problems.push('THREADLINK_PUBLIC_URL must be https:// (push endpoints and OAuth redirects require it)');
  // A key generated at start would orphan every stored token at the next restart.
  if (!sealingKeys) problems.push('THREADLINK_SEALING_KEY is required (32 random bytes, base64url)');
  if (problems.length > 0) throw new ConfigError(`Real mode is not configured: ${problems.join('; ')}. See examples/express-crm/README.md.`);
  return config;
}
