import type { DoctorCheck } from '../check.js';
import { parseTopicName } from '../google/names.js';
import { explainPubSubFailure } from '../google/pubsub.js';
import { fail, pass } from '../report.js';

export const pubsubTopic: DoctorCheck = {
  id: 'google.pubsub-topic',
  area: 'google',
  title: 'Pub/Sub topic exists',
  variables: ['GOOGLE_PUBSUB_TOPIC', 'GOOGLE_ACCESS_TOKEN or GOOGLE_APPLICATION_CREDENTIALS'],
  async run(context) {
    const configured = context.config.google?.pubsubTopic;
    if (!configured)
      return fail('GOOGLE_PUBSUB_TOPIC is not set.', 'Set it to the full topic name, projects/{project}/topics/{topic} (gmailProvider’s pubsubTopic).');
    const topic = parseTopicName(configured);
    if (!topic) {
      return fail(
        `GOOGLE_PUBSUB_TOPIC "${configured}" is not a topic name.`,
        'Use the full resource name from the topic’s page, e.g. projects/acme-mail/topics/gmail-push, not just the topic id.',
      );
    }
    const access = await context.pubsub();
    if (!access.ok) return access.outcome;
    const result = await access.client.topic(topic.name);
    if (result.ok) return pass(`${topic.name} exists (read with ${access.source}).`);
    if (result.status === 404) {
      return fail(
        `Topic ${topic.name} does not exist (404 NOT_FOUND), so users.watch fails and no notification is ever published.`,
        `Create it with \`gcloud pubsub topics create ${topic.id} --project=${topic.project}\`, then grant Gmail publish rights on it (see google.publisher-grant).`,
      );
    }
    return explainPubSubFailure(result, `topic ${topic.name}`, access.client.baseUrl);
  },
};
