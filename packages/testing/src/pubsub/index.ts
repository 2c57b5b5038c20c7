// Cloud Pub/Sub push delivery (envelope, OIDC token, ack/redelivery), used by the Gmail emulator.
export { PushSubscription } from './push.js';
export type { PushAttempt, PushFaults, PushLog, PushRetryPolicy, PushSubscriptionOptions } from './push.js';
