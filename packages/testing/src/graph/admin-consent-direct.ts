// A test-only bridge for organizations connected by admin consent (Microsoft), until core's
// `tl.org.connect.start` + `/connect/org/callback` route exists: the adapter's own
// `adminConsentUrl` → the emulator's consent page (`consent`, e.g. a conformance driver's
// `consentAsAdmin`) → the adapter's `completeAdminConsent`, exposed as `organization.connectDirect`
// so `tl.org.connect.direct` can connect the org. Only the redirect route is skipped; everything
// after the consent is the adapter's production code.
import type { MailProvider } from '@threadlink/core/provider';

/** Where the admin is sent back; completeAdminConsent checks it matches the consent URL's. */
const REDIRECT_URI = 'http://127.0.0.1:9/threadlink/connect/org/callback';

/**
 * `consent(adminConsentUrl, adminEmail)` completes the consent page as that admin and resolves to
 * the redirect URL. A provider without admin consent, or with its own `connectDirect`, is returned unchanged.
 */
export function adminConsentAsDirectConnect(provider: MailProvider, consent: (adminConsentUrl: string, adminEmail: string) => Promise<string>): MailProvider {
  const organization = provider.organization;
  if (!organization?.adminConsentUrl || !organization.completeAdminConsent || organization.connectDirect) return provider;
  const { adminConsentUrl, completeAdminConsent } = organization;
  return {
    ...provider,
    organization: {
      ...organization,
      async connectDirect(input, context) {
        const url = await adminConsentUrl({ state: 'test-only', redirectUri: REDIRECT_URI, directoryHint: input.directoryId });
        const redirect = new URL(await consent(url, input.adminEmail));
        return completeAdminConsent(redirect.searchParams, { redirectUri: REDIRECT_URI, ...context });
      },
    },
  };
}
