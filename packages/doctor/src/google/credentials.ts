// The doctor's own Google Cloud identity, used only to read Pub/Sub configuration: an access
// token given as is (GOOGLE_ACCESS_TOKEN, e.g. from `gcloud auth print-access-token`), or a key
// file handed to google-auth-library (GOOGLE_APPLICATION_CREDENTIALS). Nothing else is probed:
// no metadata server, no gcloud well-known file, so the doctor never reaches an address the
// operator did not name.
import { readFile } from 'node:fs/promises';
import { GoogleAuth } from 'google-auth-library';
import type { GoogleSettings } from '../config.js';
import { fail, skip, type CheckOutcome } from '../report.js';

/** Pub/Sub accepts either scope (cloud.google.com/pubsub/docs/reference/rest: Authorization scopes). */
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

const CREDENTIAL_TYPES = new Set(['service_account', 'authorized_user', 'external_account', 'impersonated_service_account']);

export type GoogleCloudToken = { ok: true; token: string; source: string } | { ok: false; outcome: CheckOutcome };

export async function googleCloudToken(settings: GoogleSettings): Promise<GoogleCloudToken> {
  if (settings.accessToken) return { ok: true, token: settings.accessToken, source: 'GOOGLE_ACCESS_TOKEN' };
  const file = settings.credentialsFile;
  if (!file) {
    return {
      ok: false,
      outcome: skip('No Google Cloud credentials for the doctor (GOOGLE_ACCESS_TOKEN or GOOGLE_APPLICATION_CREDENTIALS), so Pub/Sub was not inspected.'),
    };
  }
  const fixFile =
    'Point GOOGLE_APPLICATION_CREDENTIALS at a service-account JSON key (IAM → Service accounts → Keys), or set GOOGLE_ACCESS_TOKEN from `gcloud auth print-access-token`.';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return {
      ok: false,
      outcome: fail(`GOOGLE_APPLICATION_CREDENTIALS points at ${file}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, fixFile),
    };
  }
  let credentials: Record<string, unknown>;
  try {
    credentials = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { ok: false, outcome: fail(`GOOGLE_APPLICATION_CREDENTIALS (${file}) is not JSON.`, fixFile) };
  }
  if (typeof credentials !== 'object' || credentials === null || !CREDENTIAL_TYPES.has(String(credentials['type']))) {
    return {
      ok: false,
      outcome: fail(
        `GOOGLE_APPLICATION_CREDENTIALS (${file}) is not a Google credentials file (its "type" is ${JSON.stringify(credentials?.['type'] ?? null)}).`,
        fixFile,
      ),
    };
  }
  try {
    const auth = new GoogleAuth({ credentials, scopes: [CLOUD_PLATFORM_SCOPE] });
    const token = await auth.getAccessToken();
    if (!token) throw new Error('no access token returned');
    return { ok: true, token, source: `GOOGLE_APPLICATION_CREDENTIALS (${String(credentials['client_email'] ?? credentials['type'])})` };
  } catch (error) {
    return {
      ok: false,
      outcome: fail(
        `google-auth-library could not get an access token from ${file}: ${(error as Error).message}`,
        'Check that the key was not deleted or disabled in IAM → Service accounts, and that this machine can reach oauth2.googleapis.com.',
      ),
    };
  }
}
