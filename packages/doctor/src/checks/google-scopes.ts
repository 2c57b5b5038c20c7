// The scopes gmailProvider requests per mode (packages/gmail/src/options.ts scopesFor; a test
// keeps this list equal to the adapter's), and the consent-screen mistakes that break it.
import type { DoctorCheck } from '../check.js';
import { fail, pass, warn } from '../report.js';

const GOOGLE = 'https://www.googleapis.com/auth/';
export const GMAIL_MODE_SCOPES = {
  full: [`${GOOGLE}gmail.readonly`, `${GOOGLE}gmail.send`],
  metadata: [`${GOOGLE}gmail.metadata`, `${GOOGLE}gmail.send`],
} as const;

const short = (scope: string): string => scope.replace(GOOGLE, '');
const FULL_READ = [`${GOOGLE}gmail.readonly`, `${GOOGLE}gmail.modify`, 'https://mail.google.com/'];

export const googleScopes: DoctorCheck = {
  id: 'google.scopes',
  area: 'google',
  title: 'Gmail mode and OAuth scopes agree',
  variables: ['GOOGLE_GMAIL_MODE', 'GOOGLE_OAUTH_SCOPES'],
  async run({ config }) {
    const google = config.google ?? {};
    const mode = google.mode ?? 'full';
    if (mode !== 'full' && mode !== 'metadata') {
      return fail(
        `GOOGLE_GMAIL_MODE "${mode}" is not a mode.`,
        "Use full (body on demand: gmail.readonly + gmail.send) or metadata (never bodies: gmail.metadata + gmail.send), the same value as gmailProvider's mode.",
      );
    }
    const needed: readonly string[] = GMAIL_MODE_SCOPES[mode];
    const listed = google.consentScopes?.map((scope) => (scope.includes('/') || scope.includes(':') ? scope : `${GOOGLE}${scope}`));
    if (!listed) return pass(`Mode ${mode}: threadlink requests ${needed.map(short).join(' + ')}; list exactly these on the OAuth consent screen.`);
    const absent = needed.filter((scope) => !listed.includes(scope));
    if (absent.length > 0) {
      return fail(
        `The consent screen (GOOGLE_OAUTH_SCOPES) lacks ${absent.map(short).join(', ')}, which mode ${mode} requests.`,
        `Add ${absent.map(short).join(', ')} under OAuth consent screen → Data access (Scopes), or switch GOOGLE_GMAIL_MODE and gmailProvider's mode.`,
      );
    }
    // A token carrying gmail.metadata gets metadata restrictions even beside gmail.readonly:
    // "Metadata scope doesn't allow format FULL" on every body fetch.
    if (mode === 'full' && listed.includes(`${GOOGLE}gmail.metadata`) && listed.some((scope) => FULL_READ.includes(scope))) {
      return fail(
        'The consent screen lists gmail.metadata beside gmail.readonly: Google then applies the metadata restrictions, and every body fetch fails with 403 "Metadata scope doesn\'t allow format FULL".',
        'Remove gmail.metadata from the consent screen in full mode (gmail.readonly + gmail.send are enough), then have users reconnect.',
      );
    }
    const extra = listed.filter((scope) => scope.includes('gmail') || scope === 'https://mail.google.com/').filter((scope) => !needed.includes(scope));
    if (extra.length > 0) {
      return warn(
        `The consent screen also lists ${extra.map(short).join(', ')}, which threadlink never uses in mode ${mode}.`,
        'Remove unused Gmail scopes: every restricted scope widens Google’s verification and the grant users must trust.',
      );
    }
    return pass(`Mode ${mode}: the consent screen lists ${needed.map(short).join(' + ')}.`);
  },
};
