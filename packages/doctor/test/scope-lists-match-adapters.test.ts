// The doctor states which scopes and permissions to configure without depending on the adapters
// at run time; these assertions keep its lists equal to what the adapters really request.
import { GMAIL_SCOPES, gmailAdminConsoleScopes } from '@threadlink/gmail';
import { scopesFor } from '@threadlink/outlook';
import { describe, expect, it } from 'vitest';
import { DIRECTORY_SCOPES } from '../src/checks/google-delegation.js';
import { GMAIL_MODE_SCOPES } from '../src/checks/google-scopes.js';
import { OUTLOOK_PERMISSIONS } from '../src/checks/microsoft-app.js';

describe('scope lists', () => {
  it('match gmailProvider per mode', () => {
    expect(GMAIL_MODE_SCOPES.full).toEqual([GMAIL_SCOPES.readonly, GMAIL_SCOPES.send]);
    expect(GMAIL_MODE_SCOPES.metadata).toEqual([GMAIL_SCOPES.metadata, GMAIL_SCOPES.send]);
  });

  it('match what gmailProvider asks a Workspace admin to authorise for domain-wide delegation', () => {
    expect(gmailAdminConsoleScopes('full')).toEqual([...GMAIL_MODE_SCOPES.full, ...DIRECTORY_SCOPES]);
    expect(gmailAdminConsoleScopes('metadata')).toEqual([...GMAIL_MODE_SCOPES.metadata, ...DIRECTORY_SCOPES]);
  });

  it('match outlookProvider per mode and reply route', () => {
    expect([...OUTLOOK_PERMISSIONS.full.draft].sort()).toEqual([...scopesFor('full')].sort());
    expect([...OUTLOOK_PERMISSIONS.full.draft].sort()).toEqual([...scopesFor('full', 'draft')].sort());
    expect([...OUTLOOK_PERMISSIONS.full.direct].sort()).toEqual([...scopesFor('full', 'direct')].sort());
    expect([...OUTLOOK_PERMISSIONS.metadata].sort()).toEqual([...scopesFor('metadata')].sort());
  });
});
