// The Entra ID app registration as outlookProvider sees it. The classic mistake is pasting the
// client secret's "Secret ID" (a GUID) instead of its Value (shown once, at creation), which Entra
// answers with AADSTS7000215 "Invalid client secret provided" at the first code exchange.
import type { DoctorCheck } from '../check.js';
import { fail, pass } from '../report.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT_ALIASES = new Set(['common', 'organizations', 'consumers']);
const DOMAIN = /^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/**
 * outlookProvider's delegated permissions per mode and, in full mode, per `replies` setting
 * (packages/outlook/src/auth.ts scopesFor; a test keeps them equal). Only draft replies need
 * Mail.ReadWrite.
 */
export const OUTLOOK_PERMISSIONS = {
  metadata: ['Mail.ReadBasic', 'Mail.Send', 'offline_access', 'User.Read'],
  full: {
    draft: ['Mail.ReadBasic', 'Mail.Send', 'offline_access', 'User.Read', 'Mail.Read', 'Mail.ReadWrite'],
    direct: ['Mail.ReadBasic', 'Mail.Send', 'offline_access', 'User.Read', 'Mail.Read'],
  },
} as const;

function outlookPermissions(mode: 'full' | 'metadata', replies: 'draft' | 'direct'): readonly string[] {
  return mode === 'metadata' ? OUTLOOK_PERMISSIONS.metadata : OUTLOOK_PERMISSIONS.full[replies];
}

export const microsoftApp: DoctorCheck = {
  id: 'microsoft.app-registration',
  area: 'microsoft',
  title: 'Entra ID app: client id, secret, tenant, mode and replies',
  variables: ['MICROSOFT_CLIENT_ID', 'MICROSOFT_CLIENT_SECRET', 'MICROSOFT_TENANT'],
  async run({ config }) {
    const microsoft = config.microsoft ?? {};
    const problems: string[] = [];
    const fixes: string[] = [];
    if (!microsoft.clientId) {
      problems.push('MICROSOFT_CLIENT_ID is not set');
      fixes.push('copy the Application (client) ID from the app registration’s Overview page');
    } else if (!GUID.test(microsoft.clientId)) {
      problems.push(`MICROSOFT_CLIENT_ID "${microsoft.clientId}" is not a GUID`);
      fixes.push('use the Application (client) ID from the app registration’s Overview page (a GUID), not the app’s name or URI');
    }
    if (!microsoft.clientSecret) {
      problems.push('MICROSOFT_CLIENT_SECRET is not set');
      fixes.push('create one under Certificates & secrets and copy its Value');
    } else if (GUID.test(microsoft.clientSecret)) {
      problems.push('MICROSOFT_CLIENT_SECRET looks like the secret’s ID (a GUID), not its value');
      fixes.push('create a new client secret under Certificates & secrets and copy its Value column, shown only once');
    }
    const tenant = microsoft.tenant ?? 'common';
    if (!TENANT_ALIASES.has(tenant.toLowerCase()) && !GUID.test(tenant) && !DOMAIN.test(tenant)) {
      problems.push(`MICROSOFT_TENANT "${tenant}" is neither common/organizations/consumers, a tenant id (GUID) nor a domain`);
      fixes.push('use common for multi-tenant apps, or your Directory (tenant) ID from the Overview page');
    }
    const mode = microsoft.mode ?? 'full';
    if (mode !== 'full' && mode !== 'metadata') {
      problems.push(`MICROSOFT_MAIL_MODE "${mode}" is not a mode`);
      fixes.push("use full or metadata, the same value as outlookProvider's mode");
    }
    const replies = microsoft.replies ?? (mode === 'metadata' ? 'direct' : 'draft');
    if (replies !== 'draft' && replies !== 'direct') {
      problems.push(`MICROSOFT_REPLIES "${replies}" is not a reply route`);
      fixes.push("use draft or direct, the same value as outlookProvider's replies");
    } else if (mode === 'metadata' && replies === 'draft') {
      problems.push('MICROSOFT_REPLIES "draft" needs full mode: draft replies need Mail.ReadWrite, which also grants bodies');
      fixes.push('unset MICROSOFT_REPLIES in metadata mode (its replies are direct), as outlookProvider refuses the combination');
    }
    if (problems.length > 0)
      return fail(
        `${problems.join('; ')}.`,
        `${fixes.join('; ')}.`.replace(/^./, (first) => first.toUpperCase()),
      );
    const permissions = outlookPermissions(mode as 'full' | 'metadata', replies as 'draft' | 'direct');
    const setting = mode === 'full' ? `mode full, replies ${replies}` : `mode ${mode}`;
    return pass(`Client ${microsoft.clientId}, tenant ${tenant}, ${setting}: grant the delegated Graph permissions ${permissions.join(', ')}.`);
  },
};
