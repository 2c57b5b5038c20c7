// Pub/Sub must push (not wait to be pulled) to {publicUrl}/webhooks/gmail, from a live
// subscription on the configured topic, with the standard JSON envelope threadlink parses.
import type { DoctorCheck } from '../check.js';
import { findPushSubscription } from '../google/find-subscription.js';
import { parseSubscriptionName, pushConfigFlags, sameEndpoint } from '../google/names.js';
import { webhookUrl } from '../public-url.js';
import { fail, pass, skip } from '../report.js';

export const pubsubPushSubscription: DoctorCheck = {
  id: 'google.push-subscription',
  area: 'google',
  title: 'Push subscription delivers to {publicUrl}/webhooks/gmail',
  variables: ['GOOGLE_PUBSUB_TOPIC', 'THREADLINK_PUBLIC_URL', 'GOOGLE_ACCESS_TOKEN or GOOGLE_APPLICATION_CREDENTIALS'],
  async run(context) {
    if (!context.publicUrl.ok) return skip('Needs a valid THREADLINK_PUBLIC_URL (see public-url).');
    const found = await findPushSubscription(context);
    if (!found.ok) return found.outcome;
    const { subscription } = found;
    const google = context.config.google ?? {};
    const expected = webhookUrl(context.publicUrl.base, 'gmail');
    const id = parseSubscriptionName(subscription.name)?.id ?? subscription.name;
    const flags = pushConfigFlags({ endpoint: expected, serviceAccount: google.pushServiceAccount, audience: google.pushAudience });
    if (subscription.topic === '_deleted-topic_') {
      return fail(
        `${subscription.name} belongs to a deleted topic (_deleted-topic_): the topic was deleted (and maybe re-created), and this subscription receives nothing.`,
        `Delete it and create a new push subscription on ${google.pubsubTopic}: gcloud pubsub subscriptions delete ${id} && gcloud pubsub subscriptions create ${id} --topic=${google.pubsubTopic} ${flags}`,
      );
    }
    if (google.pubsubTopic && subscription.topic !== google.pubsubTopic) {
      return fail(
        `${subscription.name} is attached to ${subscription.topic}, not to GOOGLE_PUBSUB_TOPIC ${google.pubsubTopic}.`,
        'Point GOOGLE_PUBSUB_SUBSCRIPTION at a push subscription of the topic Gmail publishes to (or fix GOOGLE_PUBSUB_TOPIC).',
      );
    }
    const endpoint = subscription.pushConfig?.pushEndpoint;
    if (!endpoint) {
      return fail(
        `${subscription.name} is a pull subscription: nothing is pushed to threadlink.`,
        `Make it a push subscription: gcloud pubsub subscriptions modify-push-config ${id} ${flags}`,
      );
    }
    if (!sameEndpoint(endpoint, expected)) {
      return fail(
        `${subscription.name} pushes to ${endpoint}, but threadlink listens at ${expected}.`,
        `Repoint it (modify-push-config replaces the whole push config, so repeat the auth flags): gcloud pubsub subscriptions modify-push-config ${id} ${flags}`,
      );
    }
    if (subscription.pushConfig?.noWrapper) {
      return fail(
        `${subscription.name} has payload unwrapping enabled; threadlink needs Pub/Sub's JSON envelope (message.data, subscription).`,
        `Disable "Enable payload unwrapping": gcloud pubsub subscriptions modify-push-config ${id} ${flags}`,
      );
    }
    if (subscription.detached || (subscription.state && subscription.state !== 'ACTIVE')) {
      return fail(
        `${subscription.name} is ${subscription.detached ? 'detached' : `in state ${subscription.state}`}, so it delivers nothing.`,
        `Re-create it on ${google.pubsubTopic}: gcloud pubsub subscriptions create <new-name> --topic=${google.pubsubTopic} ${flags}`,
      );
    }
    return pass(`${subscription.name} (${found.how}) pushes to ${endpoint}.`);
  },
};
