// `replies: 'direct'`: full mode (bodies on demand) for tenants that will not consent to
// Mail.ReadWrite. The scopes asked for follow the option, and replies go through /reply with
// Mail.Send alone, returning no id (real msal-node and Graph clients against the emulator).
import { isThreadlinkError, type ProviderMessage } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { outlookProvider, scopesFor, type OutlookProviderOptions } from '../src/index.js';
import { pullAll, startHarness, type Connected, type Harness, replyContext } from './support.js';

const ANA = 'ana@contoso.com';

async function original(harness: Harness, connected: Connected): Promise<ProviderMessage> {
  await harness.ms.deliver({ from: 'Carla <client@acme.com>', to: ANA, subject: 'Quote 7', text: 'Price?' });
  const [change] = await pullAll(harness.provider, connected);
  if (change?.type !== 'upsert') throw new Error('the original did not sync');
  return change.message;
}

/** The scopes an authorize URL asks Entra ID for, without the OpenID ones MSAL adds. */
async function requestedScopes(harness: Harness, options: Partial<OutlookProviderOptions>): Promise<string[]> {
  const provider = outlookProvider({ ...harness.ms.providerOptions, ...options });
  const url = new URL(await provider.authorizeUrl({ state: 's', codeChallenge: 'c'.repeat(43), redirectUri: 'http://127.0.0.1:9/cb' }));
  const asked = (url.searchParams.get('scope') ?? '').split(' ').filter((scope) => !['openid', 'profile'].includes(scope));
  expect(scopesFor(options.mode ?? 'full', options.replies).sort()).toEqual([...asked].sort());
  return asked.sort();
}

describe("replies: 'direct'", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('asks for Mail.ReadWrite only when full-mode replies go through drafts', async () => {
    harness = await startHarness();
    const base = ['Mail.ReadBasic', 'Mail.Send', 'User.Read', 'offline_access'];
    expect(await requestedScopes(harness, {})).toEqual([...base, 'Mail.Read', 'Mail.ReadWrite'].sort());
    expect(await requestedScopes(harness, { replies: 'draft' })).toEqual([...base, 'Mail.Read', 'Mail.ReadWrite'].sort());
    expect(await requestedScopes(harness, { replies: 'direct' })).toEqual([...base, 'Mail.Read'].sort());
    expect(await requestedScopes(harness, { mode: 'metadata' })).toEqual([...base].sort());
    expect(scopesFor('full', 'direct')).not.toContain('Mail.ReadWrite');
    expect(scopesFor('full')).toContain('Mail.ReadWrite');

    const refused = (() => {
      try {
        return outlookProvider({ ...harness.ms.providerOptions, mode: 'metadata', replies: 'draft' });
      } catch (error) {
        return error;
      }
    })();
    expect(isThreadlinkError(refused, 'CONFIG_INVALID')).toBe(true);
    expect((refused as Error).message).toContain('replies');
  });

  it('connects without Mail.ReadWrite, reads bodies, and replies through /reply with no id', async () => {
    harness = await startHarness({ provider: { replies: 'direct' } });
    const connected = await harness.connect(ANA);
    expect(connected.connection.scopes.map((scope) => scope.toLowerCase()).join(' ')).not.toContain('mail.readwrite');
    const message = await original(harness, connected);

    expect((await harness.provider.fetchBody(connected.session, message.providerMessageId)).text).toContain('Price?');
    const before = harness.ms.log.entries.length;
    const sent = await harness.provider.send(connected.session, replyContext(message, { text: '120 EUR.' }));

    expect(harness.ms.log.entries.slice(before).map((entry) => entry.operation)).toEqual(['messages.reply']);
    expect(sent).toEqual({ providerMessageId: null, providerThreadId: message.providerThreadId, internetMessageId: null });
    expect(harness.ms.sent(ANA).map((copy) => [copy.subject, copy.conversationId])).toEqual([['RE: Quote 7', message.providerThreadId]]);
    // The sent copy's id comes with delta, as in metadata mode.
    const later = await pullAll(harness.provider, connected);
    expect(later.flatMap((change) => (change.type === 'upsert' ? [[change.message.subject, change.message.folder]] : []))).toEqual([['RE: Quote 7', 'sent']]);
  });

  it('replies directly on connections granted Mail.ReadWrite once the host switches to it', async () => {
    harness = await startHarness();
    const connected = await harness.connect(ANA);
    expect(connected.connection.scopes.map((scope) => scope.toLowerCase()).join(' ')).toContain('mail.readwrite');
    const message = await original(harness, connected);

    const direct = outlookProvider({ ...harness.ms.providerOptions, replies: 'direct' });
    const before = harness.ms.log.entries.length;
    const sent = await direct.send(connected.session, replyContext(message, { text: '120 EUR.' }));

    expect(sent.providerMessageId).toBeNull();
    expect(harness.ms.log.entries.slice(before).flatMap((entry) => (entry.operation?.startsWith('identity.') ? [] : [entry.operation]))).toEqual([
      'messages.reply',
    ]);
  });
});
