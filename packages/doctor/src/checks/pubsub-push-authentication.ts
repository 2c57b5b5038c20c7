// threadlink accepts a push only with an OIDC token whose `email` is the configured push service
// account and whose `aud` is the configured audience. Pub/Sub's audience defaults to the push
// endpoint URL when none is set (cloud.google.com/pubsub/docs/authenticate-push-subscriptions).
import type { DoctorCheck } from '../check.js';
import { findPushSubscription } from '../google/find-subscription.js';
import { parseSubscriptionName } from '../google/names.js';
import { fail, pass, skip } from '../report.js';

export const pubsubPushAuthentication: DoctorCheck = {
  id: 'google.push-authentication',
  area: 'google',
  title: "Push subscription's OIDC token matches pushServiceAccount and pushAudience",
  variables: ['GOOGLE_PUSH_AUDIENCE', 'GOOGLE_PUSH_SERVICE_ACCOUNT', 'GOOGLE_ACCESS_TOKEN or GOOGLE_APPLICATION_CREDENTIALS'],
  async run(context) {
    const found = await findPushSubscription(context);
    if (!found.ok) return found.outcome.status === 'fail' ? skip('No push subscription to inspect (see google.push-subscription).') : found.outcome;
    const { subscription } = found;
    const pushConfig = subscription.pushConfig ?? {};
    if (!pushConfig.pushEndpoint) return skip(`${subscription.name} is not a push subscription (see google.push-subscription).`);
    const google = context.config.google ?? {};
    const id = parseSubscriptionName(subscription.name)?.id ?? subscription.name;
    const oidc = pushConfig.oidcToken;
    const effectiveAudience = oidc?.audience || pushConfig.pushEndpoint;
    if (!oidc?.serviceAccountEmail) {
      return fail(
        `${subscription.name} pushes without authentication (no OIDC token), and threadlink refuses unauthenticated pushes with 401, so every notification is rejected and retried.`,
        `Enable authentication: gcloud pubsub subscriptions update ${id} --push-auth-service-account=${google.pushServiceAccount ?? '<service account>'} --push-auth-token-audience=${google.pushAudience ?? '<audience>'}`,
      );
    }
    const problems: string[] = [];
    const fixes: string[] = [];
    if (!google.pushServiceAccount) {
      problems.push('GOOGLE_PUSH_SERVICE_ACCOUNT is not set');
      fixes.push(`set GOOGLE_PUSH_SERVICE_ACCOUNT (pushServiceAccount) to ${oidc.serviceAccountEmail}`);
    } else if (oidc.serviceAccountEmail.toLowerCase() !== google.pushServiceAccount.toLowerCase()) {
      problems.push(`tokens are signed as ${oidc.serviceAccountEmail}, but pushServiceAccount is ${google.pushServiceAccount}`);
      fixes.push(
        `set GOOGLE_PUSH_SERVICE_ACCOUNT to ${oidc.serviceAccountEmail} or run \`gcloud pubsub subscriptions update ${id} --push-auth-service-account=${google.pushServiceAccount}\``,
      );
    }
    const audienceOrigin = oidc.audience ? 'set on the subscription' : "Pub/Sub's default, the push endpoint URL";
    if (!google.pushAudience) {
      problems.push('GOOGLE_PUSH_AUDIENCE is not set');
      fixes.push(`set GOOGLE_PUSH_AUDIENCE (pushAudience) to ${effectiveAudience}`);
    } else if (effectiveAudience !== google.pushAudience) {
      problems.push(`tokens carry aud "${effectiveAudience}" (${audienceOrigin}), but pushAudience is "${google.pushAudience}"`);
      fixes.push(
        `set GOOGLE_PUSH_AUDIENCE to "${effectiveAudience}" or run \`gcloud pubsub subscriptions update ${id} --push-auth-token-audience=${google.pushAudience}\``,
      );
    }
    if (problems.length > 0) {
      return fail(
        `${subscription.name}: ${problems.join('; ')} — threadlink rejects these pushes with 401.`,
        `${fixes.join('; ')}.`.replace(/^./, (first) => first.toUpperCase()),
      );
    }
    return pass(`Tokens are signed as ${oidc.serviceAccountEmail} for audience "${effectiveAudience}" (${audienceOrigin}).`);
  },
};
