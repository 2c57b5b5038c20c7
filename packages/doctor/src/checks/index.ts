// The checks in the order they run and print: general first (URL, keys, store), then each
// provider. Later checks read earlier results (e.g. the publisher grant needs the topic).
import type { DoctorCheck } from '../check.js';
import { gmailWebhookRoute } from './gmail-webhook-route.js';
import { googleDelegation } from './google-delegation.js';
import { googleOAuthClient } from './google-oauth-client.js';
import { googleScopes } from './google-scopes.js';
import { microsoftApp } from './microsoft-app.js';
import { microsoftOrgApp } from './microsoft-org-app.js';
import { oauthRedirectUri } from './oauth-redirect-uri.js';
import { outlookLifecycleUrl } from './outlook-lifecycle-url.js';
import { outlookNotificationUrl } from './outlook-notification-url.js';
import { providersConfigured } from './providers-configured.js';
import { publicUrlCheck } from './public-url.js';
import { pubsubPublisherGrant } from './pubsub-publisher-grant.js';
import { pubsubPushAuthentication } from './pubsub-push-authentication.js';
import { pubsubPushSubscription } from './pubsub-push-subscription.js';
import { pubsubTopic } from './pubsub-topic.js';
import { sealingKeys } from './sealing-keys.js';
import { storeMigrated } from './store-migrated.js';
import { storeReachable } from './store-reachable.js';

export const CHECKS: readonly DoctorCheck[] = [
  providersConfigured,
  publicUrlCheck,
  oauthRedirectUri,
  sealingKeys,
  storeReachable,
  storeMigrated,
  googleOAuthClient,
  googleScopes,
  pubsubTopic,
  pubsubPublisherGrant,
  pubsubPushSubscription,
  pubsubPushAuthentication,
  gmailWebhookRoute,
  googleDelegation,
  microsoftApp,
  outlookNotificationUrl,
  outlookLifecycleUrl,
  microsoftOrgApp,
];
