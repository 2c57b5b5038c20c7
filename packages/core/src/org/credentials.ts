// An organization's app credentials (a service-account key, an MSAL token cache) are sealed as a
// whole with their own purpose: a sealed token blob can never be opened as org credentials, nor
// the other way round.
import { OrgCredentials } from '../domain/organization.js';
import type { Sealer } from '../security/sealing.js';

const CREDENTIALS_PURPOSE = 'org-credentials';

export function sealOrgCredentials(sealer: Sealer, credentials: OrgCredentials): string {
  return sealer.seal(JSON.stringify(OrgCredentials.parse(credentials)), CREDENTIALS_PURPOSE);
}

export function openOrgCredentials(sealer: Sealer, sealed: string): OrgCredentials {
  return OrgCredentials.parse(JSON.parse(sealer.open(sealed, CREDENTIALS_PURPOSE)));
}
