// The push subscription Gmail's notifications travel through: the configured one
// (GOOGLE_PUBSUB_SUBSCRIPTION), else the topic's push subscription aimed at our endpoint, else
// its only push subscription. Shared by the endpoint and authentication checks (the client
// caches every GET, so both see one snapshot).
import type { DoctorContext } from '../context.js';
import { webhookUrl } from '../public-url.js';
import { fail, skip, type CheckOutcome } from '../report.js';
import { parseSubscriptionName, parseTopicName, pushConfigFlags, sameEndpoint } from './names.js';
import { explainPubSubFailure, type Subscription } from './pubsub.js';

export type FoundSubscription = { ok: true; subscription: Subscription; how: string } | { ok: false; outcome: CheckOutcome };

export async function findPushSubscription(context: DoctorContext): Promise<FoundSubscription> {
  const google = context.config.google ?? {};
  const topic = parseTopicName(google.pubsubTopic);
  if (!topic) return { ok: false, outcome: skip('Needs a valid GOOGLE_PUBSUB_TOPIC (see google.pubsub-topic).') };
  const access = await context.pubsub();
  if (!access.ok) return { ok: false, outcome: access.outcome };
  const client = access.client;
  const expected = context.publicUrl.ok ? webhookUrl(context.publicUrl.base, 'gmail') : undefined;
  const create = (name: string): string =>
    `gcloud pubsub subscriptions create ${name} --topic=${topic.id} --project=${topic.project} ${pushConfigFlags({ endpoint: expected ?? '<THREADLINK_PUBLIC_URL>/webhooks/gmail', serviceAccount: google.pushServiceAccount, audience: google.pushAudience })}`;

  if (google.pushSubscription) {
    const named = parseSubscriptionName(google.pushSubscription);
    if (!named) {
      return {
        ok: false,
        outcome: fail(
          `GOOGLE_PUBSUB_SUBSCRIPTION "${google.pushSubscription}" is not a subscription name.`,
          'Use the full name, projects/{project}/subscriptions/{name}, or unset it to let the doctor find the subscription through the topic.',
        ),
      };
    }
    const result = await client.subscription(named.name);
    if (!result.ok && result.status === 404) {
      return { ok: false, outcome: fail(`Subscription ${named.name} does not exist (404 NOT_FOUND).`, `Create the push subscription: ${create(named.id)}`) };
    }
    if (!result.ok) return { ok: false, outcome: explainPubSubFailure(result, `subscription ${named.name}`, client.baseUrl) };
    return { ok: true, subscription: result.value, how: 'GOOGLE_PUBSUB_SUBSCRIPTION' };
  }

  const listed = await client.topicSubscriptions(topic.name);
  if (!listed.ok && listed.status === 404) return { ok: false, outcome: skip(`Topic ${topic.name} does not exist (see google.pubsub-topic).`) };
  if (!listed.ok) return { ok: false, outcome: explainPubSubFailure(listed, `the subscriptions of ${topic.name}`, client.baseUrl) };
  const subscriptions: Subscription[] = [];
  for (const name of listed.value.subscriptions ?? []) {
    const result = await client.subscription(name);
    if (!result.ok) return { ok: false, outcome: explainPubSubFailure(result, `subscription ${name}`, client.baseUrl) };
    subscriptions.push(result.value);
  }
  const push = subscriptions.filter((subscription) => subscription.pushConfig?.pushEndpoint);
  const aimed = expected ? push.find((subscription) => sameEndpoint(subscription.pushConfig?.pushEndpoint ?? '', expected)) : undefined;
  if (aimed) return { ok: true, subscription: aimed, how: 'the topic’s push subscription to our endpoint' };
  if (push.length === 1) return { ok: true, subscription: push[0]!, how: 'the topic’s only push subscription' };
  if (push.length > 1) {
    return {
      ok: false,
      outcome: fail(
        `Topic ${topic.name} has ${push.length} push subscriptions and none pushes to ${expected ?? '{publicUrl}/webhooks/gmail'}: ${push.map((subscription) => `${subscription.name} → ${subscription.pushConfig?.pushEndpoint}`).join('; ')}.`,
        `Point one at threadlink (gcloud pubsub subscriptions modify-push-config NAME ${pushConfigFlags({ endpoint: expected ?? '<THREADLINK_PUBLIC_URL>/webhooks/gmail', serviceAccount: google.pushServiceAccount, audience: google.pushAudience })}) and set GOOGLE_PUBSUB_SUBSCRIPTION to its name.`,
      ),
    };
  }
  const pull = subscriptions.length;
  return {
    ok: false,
    outcome: fail(
      `Topic ${topic.name} has no push subscription${pull > 0 ? ` (only ${pull} pull subscription${pull === 1 ? '' : 's'}: ${subscriptions.map((subscription) => subscription.name).join(', ')})` : ''}, so Gmail's notifications are never delivered to threadlink.`,
      `Create one: ${create('threadlink-gmail-push')}`,
    ),
  };
}
