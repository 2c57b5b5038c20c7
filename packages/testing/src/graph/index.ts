// Public surface of the Microsoft Graph (Outlook mail) + identity platform emulator.
export { startGraphEmulator } from './emulator.js';
export { MAILBOX_CONCURRENCY_LIMIT, MAX_BATCH_REQUESTS } from './graph-api.js';
export { MAX_MESSAGE_SUBSCRIPTION_MINUTES } from './subscriptions.js';
export type {
  DeliveredCopy,
  DeliveredGraphMessage,
  DeliverInput,
  EmulatedAddress,
  EmulatedGraphAttachment,
  EmulatedGraphMessage,
  EmulatedSubscription,
  GraphAttachmentInput,
  GraphEmulator,
  GraphOrgDriver,
  GraphEmulatorOptions,
  GraphFaults,
  LifecycleEvent,
  WebhookDelivery,
} from './types.js';
export { graphConformanceDriver, type GraphConformanceDriver, type GraphConformanceOptions } from './conformance-driver.js';
