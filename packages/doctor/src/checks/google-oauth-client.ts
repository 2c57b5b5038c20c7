import type { DoctorCheck } from '../check.js';
import { fail, pass } from '../report.js';

export const googleOAuthClient: DoctorCheck = {
  id: 'google.oauth-client',
  area: 'google',
  title: 'Google OAuth client id and secret are set',
  variables: ['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET'],
  async run({ config }) {
    const google = config.google ?? {};
    const missing = [google.clientId ? null : 'GOOGLE_CLIENT_ID', google.clientSecret ? null : 'GOOGLE_CLIENT_SECRET'].filter(Boolean);
    if (missing.length > 0) {
      return fail(
        `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set.`,
        'Copy them from Google Cloud console → APIs & Services → Credentials → your OAuth 2.0 Client ID (type Web application).',
      );
    }
    // Every Google OAuth client id has this suffix; anything else is a project id, a service account or an API key.
    if (!google.clientId!.endsWith('.apps.googleusercontent.com')) {
      return fail(
        `GOOGLE_CLIENT_ID "${google.clientId}" is not an OAuth client id (those end in .apps.googleusercontent.com).`,
        'Use the Client ID of an OAuth 2.0 client of type Web application (APIs & Services → Credentials), not a project id, API key or service account.',
      );
    }
    return pass(`Client ${google.clientId} with a secret.`);
  },
};
