// Google Workspace domain-wide delegation (organization connections, issue 19): the service
// account key parses, and Google issues a token for the Workspace admin with the Directory scopes
// and for a sample user with the Gmail scopes of the mode. The usual failure is the Admin console
// entry — client id missing or a scope not listed — which Google answers with `unauthorized_client`;
// the fix prints the exact client id and scope list to paste.
// developers.google.com/identity/protocols/oauth2/service-account#delegatingauthority
import { readFile } from 'node:fs/promises';
import { JWT } from 'google-auth-library';
import { z } from 'zod';
import type { DoctorCheck } from '../check.js';
import { fail, pass, skip } from '../report.js';
import { GMAIL_MODE_SCOPES } from './google-scopes.js';

const GOOGLE = 'https://www.googleapis.com/auth/';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** What gmailProvider's organization support asks the admin's token for (packages/gmail/src/delegation.ts; a test keeps them equal). */
export const DIRECTORY_SCOPES = [`${GOOGLE}admin.directory.user.readonly`, `${GOOGLE}admin.directory.group.member.readonly`];

const KeyFile = z.looseObject({
  type: z.literal('service_account'),
  client_email: z.string().email(),
  client_id: z.string().regex(/^\d+$/),
  private_key: z.string().startsWith('-----BEGIN PRIVATE KEY-----'),
  private_key_id: z.string().optional(),
});
type KeyFile = z.infer<typeof KeyFile>;

const CONSOLE_PATH = 'Google Admin console → Security → Access and data control → API controls → Manage Domain Wide Delegation';

async function readKey(path: string): Promise<{ ok: true; key: KeyFile } | { ok: false; detail: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { ok: false, detail: `GOOGLE_DELEGATION_KEY_FILE ${path} cannot be read.` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, detail: `GOOGLE_DELEGATION_KEY_FILE ${path} is not JSON.` };
  }
  const parsed = KeyFile.safeParse(json);
  return parsed.success ? { ok: true, key: parsed.data } : { ok: false, detail: `GOOGLE_DELEGATION_KEY_FILE ${path} is not a service account key file.` };
}

/** Asks Google for a token as `subject`; resolves to Google's refusal (`error: description`) or null. */
async function refusal(key: KeyFile, subject: string, scopes: string[], tokenUrl: string | undefined): Promise<string | null> {
  const client = new JWT({ email: key.client_email, key: key.private_key, ...(key.private_key_id ? { keyId: key.private_key_id } : {}), scopes, subject });
  if (tokenUrl !== undefined) {
    client.transporter.interceptors.request.add({
      resolved: async (config) => (String(config.url) === GOOGLE_TOKEN_URL ? { ...config, url: new URL(tokenUrl) } : config),
    });
  }
  try {
    await client.authorize();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function explain(message: string, subject: string, key: KeyFile, consoleScopes: string[]): { detail: string; fix: string } {
  if (message.startsWith('unauthorized_client')) {
    return {
      detail: `Google refused a token for ${subject}: client ID ${key.client_id} is not authorised for domain-wide delegation with these scopes.`,
      fix: `In ${CONSOLE_PATH}, add (or edit) client ID ${key.client_id} with the OAuth scopes ${consoleScopes.join(',')} — changes can take a few minutes to apply.`,
    };
  }
  if (/invalid email or user id/i.test(message)) {
    return {
      detail: `Google does not know ${subject} as an active user of the domain.`,
      fix: 'Use the primary address of an active (not suspended) user of the Workspace domain.',
    };
  }
  if (/invalid jwt signature|account not found/i.test(message)) {
    return {
      detail: `Google refused the key of ${key.client_email} (${message}).`,
      fix: 'The key was deleted or the service account disabled: create a new JSON key under IAM & Admin → Service accounts → Keys and reconnect the organization.',
    };
  }
  return {
    detail: `Google refused a token for ${subject} (${message}).`,
    fix: 'Check the key file, the admin address and that the Admin SDK API is enabled in the key’s Cloud project.',
  };
}

export const googleDelegation: DoctorCheck = {
  id: 'google.domain-wide-delegation',
  area: 'google',
  title: 'Workspace domain-wide delegation: key, admin and sample user tokens',
  variables: ['GOOGLE_DELEGATION_KEY_FILE', 'GOOGLE_WORKSPACE_ADMIN', 'GOOGLE_WORKSPACE_SAMPLE_USER'],
  async run({ config }) {
    const google = config.google ?? {};
    if (!google.delegationKeyFile) return skip('No GOOGLE_DELEGATION_KEY_FILE: organization connections are not used.');
    const read = await readKey(google.delegationKeyFile);
    if (!read.ok)
      return fail(
        read.detail,
        'Download a JSON key of the service account (IAM & Admin → Service accounts → Keys → Add key → JSON) and point GOOGLE_DELEGATION_KEY_FILE at it.',
      );
    const { key } = read;
    if (!google.workspaceAdmin) return fail('GOOGLE_WORKSPACE_ADMIN is not set.', 'Set it to the address of a Workspace admin the Directory API may act as.');
    const mode = google.mode === 'metadata' ? 'metadata' : 'full';
    const gmailScopes = [...GMAIL_MODE_SCOPES[mode]];
    const consoleScopes = [...gmailScopes, ...DIRECTORY_SCOPES];
    for (const [subject, scopes] of [
      [google.workspaceAdmin, DIRECTORY_SCOPES],
      ...(google.workspaceSampleUser ? [[google.workspaceSampleUser, gmailScopes] as const] : []),
    ] as const) {
      const refused = await refusal(key, subject, [...scopes], google.tokenUrl);
      if (refused !== null) {
        const { detail, fix } = explain(refused, subject, key, consoleScopes);
        return fail(detail, fix);
      }
    }
    const sample = google.workspaceSampleUser
      ? ` and for ${google.workspaceSampleUser} with the Gmail scopes`
      : ' (set GOOGLE_WORKSPACE_SAMPLE_USER to try a mailbox too)';
    return pass(`Client ID ${key.client_id} (${key.client_email}) gets tokens for ${google.workspaceAdmin} with the Directory scopes${sample}.`);
  },
};
