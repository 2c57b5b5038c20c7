// The OAuth callback is {publicUrl}/oauth/callback. Both consoles compare it byte for byte
// (Google: redirect_uri_mismatch, Entra ID: AADSTS50011), and both refuse plain http except
// for localhost during development.
import type { DoctorCheck } from '../check.js';
import { isLoopback, redirectUri } from '../public-url.js';
import { fail, pass, skip } from '../report.js';

export const oauthRedirectUri: DoctorCheck = {
  id: 'oauth-redirect-uri',
  area: 'general',
  title: 'OAuth redirect URI is well-formed and https',
  variables: ['THREADLINK_PUBLIC_URL'],
  async run({ publicUrl, config }) {
    if (!publicUrl.ok) return skip('Needs a valid THREADLINK_PUBLIC_URL (see public-url).');
    const uri = redirectUri(publicUrl.base);
    const parsed = new URL(uri);
    if (parsed.protocol !== 'https:' && !isLoopback(parsed)) {
      return fail(
        `The redirect URI ${uri} is plain http; Google and Entra ID accept http only for localhost.`,
        'Serve the app over https and set THREADLINK_PUBLIC_URL to the https:// address, then register the https redirect URI.',
      );
    }
    const consoles = [
      config.google ? 'the Google OAuth client (Authorized redirect URIs)' : null,
      config.microsoft ? 'the Entra ID app (Authentication → Web → Redirect URIs)' : null,
    ].filter(Boolean);
    return pass(`Register exactly ${uri}${consoles.length > 0 ? ` in ${consoles.join(' and ')}` : ''}.`);
  },
};
