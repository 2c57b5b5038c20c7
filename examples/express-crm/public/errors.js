// Plain-language errors: every code the page can meet (threadlink's, this API's, the OAuth
// callback's) becomes a sentence a CRM user understands and, where there is one, the action that
// fixes it. The raw code stays out of sight (a data attribute for support), never the message.
// `test/plain-language-errors.test.ts` fails when threadlink gains a code this map does not know.

/**
 * code → { title, sentence, action? }. `action` names what the page offers:
 * reconnect (sign in to the mailbox again), connect (start connecting again), retry, reload.
 * `{provider}` and `{account}` are filled in when known.
 */
export const PLAIN_ERRORS = {
  // Connecting a mailbox
  OAUTH_FAILED: {
    title: 'The mailbox was not connected',
    sentence: 'Access was not granted on the {provider} sign-in page (it was cancelled or declined), so nothing was connected and nothing was stored.',
    action: 'connect',
  },
  access_denied: {
    title: 'The mailbox was not connected',
    sentence: 'Access was not granted on the {provider} sign-in page (it was cancelled or declined), so nothing was connected and nothing was stored.',
    action: 'connect',
  },
  OAUTH_STATE_INVALID: {
    title: 'That sign-in link has expired',
    sentence: 'The sign-in took too long or the link was already used. Start connecting again; it only takes two clicks.',
    action: 'connect',
  },
  ACCOUNT_MISMATCH: {
    title: 'A different account signed in',
    sentence: 'You signed in as another account than {account}. Connect again and choose {account} on the sign-in page.',
    action: 'reconnect',
  },
  INSUFFICIENT_SCOPE: {
    title: 'A permission is missing',
    sentence: 'Some permissions were not granted, so mail cannot be read or sent. Connect again and allow everything the sign-in page asks for.',
    action: 'reconnect',
  },
  // Organizations (Your organization)
  INVALID_KEY_FILE: {
    title: 'That is not a service-account key',
    sentence: 'Paste the whole JSON key file your Workspace admin downloaded for the service account, from the first { to the last }.',
  },
  MAILBOX_FORBIDDEN: {
    title: 'This app may not read that mailbox',
    sentence: "Your organization's admin keeps it outside what this app may read. Ask them to include it, then sync the directory.",
  },
  MAILBOX_MANAGED_BY_ORGANIZATION: {
    title: 'Your organization already connects this mailbox',
    sentence: 'Its mail is already synced through your organization, so a personal connection is not needed. Nothing was changed.',
  },
  ORGANIZATION_NOT_FOUND: {
    title: 'That organization is not connected any more',
    sentence: 'It was disconnected, perhaps from another window. Reload the page to see what is connected now.',
    action: 'reload',
  },
  // A mailbox that was connected
  AUTH_REVOKED: {
    title: '{provider} needs you to sign in again',
    sentence:
      'Access to {account} expired or was revoked (a password change or a removed app does this). Mail already shown stays; new mail resumes once you reconnect.',
    action: 'reconnect',
  },
  needs_reauth: {
    title: '{provider} needs you to sign in again',
    sentence:
      'Access to {account} expired or was revoked (a password change or a removed app does this). Mail already shown stays; new mail resumes once you reconnect.',
    action: 'reconnect',
  },
  CONNECTION_NOT_FOUND: {
    title: 'That mailbox is not connected',
    sentence: 'It was disconnected, perhaps in another tab. Reload to see the mailboxes that are connected.',
    action: 'reload',
  },
  CONNECTION_DISCONNECTED: { title: 'That mailbox is disconnected', sentence: 'Connect it again to read and answer its mail.', action: 'connect' },
  PROVIDER_NOT_CONFIGURED: {
    title: 'This mail service is not set up',
    sentence: 'The server has no credentials for {provider}. An administrator adds them in the server settings.',
  },
  // Sending
  SEND_UNCONFIRMED: {
    title: 'The reply may or may not have been sent',
    sentence:
      'The mail service did not confirm it. Look in your Sent folder before sending again, so the client does not get it twice. Your text is still in the reply box.',
  },
  // The mail service
  RATE_LIMITED: {
    title: '{provider} asks us to slow down',
    sentence: 'Too many requests in a short time. Wait a minute and try again; syncing catches up on its own.',
    action: 'retry',
  },
  PROVIDER_UNAVAILABLE: {
    title: '{provider} is not answering',
    sentence: 'The mail service is temporarily unavailable. Try again in a minute; syncing resumes on its own.',
    action: 'retry',
  },
  PROVIDER_ERROR: {
    title: '{provider} refused the request',
    sentence: 'The mail service answered with an error. Try again; if it keeps happening, reconnect the mailbox.',
    action: 'retry',
  },
  NOT_FOUND: {
    title: 'That message is no longer there',
    sentence: 'It was deleted or moved in the mailbox, or its mailbox was disconnected. Reload to see the current mail.',
    action: 'reload',
  },
  RECORD_NOT_FOUND: { title: 'That record does not exist', sentence: 'It may have been deleted from the CRM. Pick another record on the left.' },
  // Input
  INVALID_INPUT: { title: 'Something in the form needs fixing', sentence: 'Check the highlighted details and try again.' },
  PAYLOAD_TOO_LARGE: { title: 'That is too long to send', sentence: 'Shorten the text and try again.' },
  UNSUPPORTED_MEDIA_TYPE: { title: 'The page sent something the server cannot read', sentence: 'Reload the page and try again.', action: 'reload' },
  NOT_DEMO: { title: 'Only available in demo mode', sentence: 'The demo controls work only when the server runs the demo.' },
  FORBIDDEN: { title: 'Only the mailbox owner can do that', sentence: 'Ask the person who connected this mailbox.' },
  POLICY_INVALID: {
    title: 'That is not an address or a domain',
    sentence: 'Write an address (name@example.com), a domain (example.com) or every subdomain of one (*.example.com).',
  },
  ATTACHMENT_UNSUPPORTED: {
    title: 'That attachment cannot be opened here',
    sentence: 'It is an attached email or a cloud link. Open it in Gmail or Outlook instead.',
  },
  NO_MAILBOX: { title: 'No mailbox is connected', sentence: 'Connect Gmail or Outlook first; exclusions apply to your own mailboxes.' },
  SCOPE_REQUIRED: { title: 'Your session could not be checked', sentence: 'Sign in again, then retry.', action: 'reload' },
  // The server itself
  CURSOR_EXPIRED: {
    title: 'The mailbox is being re-synced',
    sentence: 'Its change history expired, so it is read again from the start. Mail appears as it comes in.',
  },
  CURSOR_CONFLICT: { title: 'Two syncs met', sentence: 'Another sync of this mailbox ran at the same moment. Try again.', action: 'retry' },
  LEASE_LOST: { title: 'Two syncs met', sentence: 'Another worker took over this mailbox. Try again.', action: 'retry' },
  WEBHOOK_UNAUTHORIZED: { title: 'A notification was refused', sentence: 'A push notification did not prove where it came from and was ignored.' },
  WEBHOOK_MALFORMED: { title: 'A notification was refused', sentence: 'A push notification could not be read and was ignored.' },
  SEALING_KEY_MISSING: {
    title: 'The server cannot open stored credentials',
    sentence: 'Its encryption key is missing. An administrator sets THREADLINK_SEALING_KEY and restarts it.',
  },
  SEAL_INVALID: {
    title: 'The server cannot open stored credentials',
    sentence: 'They were sealed with another key. An administrator restores the key, or you reconnect the mailbox.',
    action: 'reconnect',
  },
  CONTENT_FORBIDDEN: {
    title: 'The server refused to store message content',
    sentence: 'Only metadata is ever stored. This is a bug in the server; the administrator has the details in the log.',
  },
  CONFIG_INVALID: { title: 'The server is misconfigured', sentence: 'An administrator has the details in the server log.' },
  STORE_ERROR: { title: 'The database did not answer', sentence: 'Try again in a moment.', action: 'retry' },
  SHUTTING_DOWN: { title: 'The server is restarting', sentence: 'Try again in a few seconds.', action: 'retry' },
  INTERNAL: { title: 'Something went wrong on our side', sentence: 'Try again; if it keeps failing, the server log has the details.', action: 'retry' },
  NETWORK: { title: 'The server cannot be reached', sentence: 'Check your connection; the page reconnects on its own.', action: 'retry' },
};

const FALLBACK = { title: 'Something went wrong', sentence: 'Try again; if it keeps failing, the server log has the details.', action: 'retry' };

/**
 * The plain-language version of an error code. `context` fills `{provider}` / `{account}`
 * (unknown ones read as "the mail service" / "your mailbox").
 */
export function plainError(code, context = {}) {
  const entry = PLAIN_ERRORS[code] ?? (/^HTTP_5/.test(code ?? '') ? PLAIN_ERRORS.INTERNAL : FALLBACK);
  const fill = (text) =>
    text
      .replaceAll('{provider}', context.provider ?? 'the mail service')
      .replaceAll('{account}', context.account ?? 'your mailbox')
      .replace(/^the mail service/, 'The mail service');
  return { code, title: fill(entry.title), sentence: fill(entry.sentence), action: entry.action ?? null };
}
