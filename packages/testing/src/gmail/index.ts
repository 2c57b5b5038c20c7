// Public surface of the Gmail + Google OAuth + Pub/Sub push emulator.
export { startGmailEmulator } from './emulator.js';
export type { EmulatedGmailMessage, GmailEmulator, GmailEmulatorOptions, GmailProviderOptions, GmailPushLog } from './emulator.js';
export type { DeliverInput, DeliveredMessage, DeliveredMessages } from './service.js';
export type { GmailFaults } from './api.js';
export { QUOTA_UNITS } from './quota.js';
export { SCOPES as GMAIL_SCOPES } from './scopes.js';
export { PushSubscription } from '../pubsub/push.js';
export type { PushAttempt, PushFaults, PushLog, PushRetryPolicy, PushSubscriptionOptions } from '../pubsub/push.js';
