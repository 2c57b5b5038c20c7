// Public surface of the Gmail + Google OAuth + Pub/Sub push emulator.
//
//   const google = await startGmailEmulator();
//   google.addMailbox({ email: 'ana@acme.example' });
//   google.setPushEndpoint({ endpoint: `${hostUrl}/webhooks/gmail` });
//   const provider = gmailProvider({ ...google.providerOptions });
//   const redirect = await google.authorize(await provider.authorizeUrl(...));   // "clicks Allow"
//   await google.deliver({ from: 'client@bigco.example', to: 'ana@acme.example', subject: 'Hi', text: '…' });
//   await google.flushNotifications();                                            // pushes attempted
//
// Real clients: gmail({ version: 'v1', auth, rootUrl: google.providerOptions.apiRootUrl }) and
// new OAuth2Client({ clientId, clientSecret, redirectUri, endpoints: google.providerOptions.oauthEndpoints }).
// Not honoured by @googleapis/gmail: `rootUrl` for media uploads (send `raw` instead).
export { startGmailEmulator } from './emulator.js';
export type { EmulatedGmailMessage, GmailEmulator, GmailEmulatorOptions, GmailProviderOptions, GmailPushLog } from './emulator.js';
export type { DeliverInput, DeliveredMessage, DeliveredMessages } from './service.js';
export type { GmailFaults } from './api.js';
export { QUOTA_UNITS } from './quota.js';
export { GOOGLE_TOKEN_AUDIENCE, Workspace } from './workspace.js';
export type { ServiceAccountKeyFile, WorkspaceGroup, WorkspaceGroupMember, WorkspaceUser } from './workspace.js';
export { SCOPES as GMAIL_SCOPES } from './scopes.js';
export { PushSubscription } from '../pubsub/push.js';
export type { PushAttempt, PushFaults, PushLog, PushRetryPolicy, PushSubscriptionOptions } from '../pubsub/push.js';
export { gmailConformanceDriver, type GmailConformanceDriver, type GmailConformanceOptions } from './conformance-driver.js';
