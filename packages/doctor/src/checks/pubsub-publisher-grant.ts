// Gmail publishes as gmail-api-push@system.gserviceaccount.com; without publish rights on the
// topic, users.watch fails with "Error sending test message to Cloud PubSub … User not authorized
// to perform this action." (developers.google.com/workspace/gmail/api/guides/push#grant_publish_rights_on_your_topic)
import type { DoctorCheck } from '../check.js';
import { parseTopicName } from '../google/names.js';
import { explainPubSubFailure } from '../google/pubsub.js';
import { fail, pass, skip, warn } from '../report.js';

const GMAIL_PUBLISHER = 'serviceAccount:gmail-api-push@system.gserviceaccount.com';
const PUBLISHER_ROLE = 'roles/pubsub.publisher';
/** Predefined roles that include pubsub.topics.publish. */
const BROADER_ROLES = ['roles/pubsub.editor', 'roles/pubsub.admin', 'roles/editor', 'roles/owner'];

export const pubsubPublisherGrant: DoctorCheck = {
  id: 'google.publisher-grant',
  area: 'google',
  title: 'Topic grants Gmail the Pub/Sub Publisher role',
  variables: ['GOOGLE_PUBSUB_TOPIC', 'GOOGLE_ACCESS_TOKEN or GOOGLE_APPLICATION_CREDENTIALS'],
  async run(context) {
    if (context.result('google.pubsub-topic')?.status !== 'pass') return skip('Needs an existing topic (see google.pubsub-topic).');
    const topic = parseTopicName(context.config.google?.pubsubTopic)!;
    const access = await context.pubsub();
    if (!access.ok) return access.outcome;
    const result = await access.client.topicPolicy(topic.name);
    if (!result.ok) return explainPubSubFailure(result, `the IAM policy of ${topic.name}`, access.client.baseUrl);
    const grant = `gcloud pubsub topics add-iam-policy-binding ${topic.id} --project=${topic.project} --member=${GMAIL_PUBLISHER} --role=${PUBLISHER_ROLE}`;
    const bindings = result.value.bindings ?? [];
    const granting = bindings.filter((binding) => (binding.members ?? []).includes(GMAIL_PUBLISHER));
    const exact = granting.find((binding) => binding.role === PUBLISHER_ROLE && !binding.condition);
    if (exact) return pass(`${PUBLISHER_ROLE} is granted to ${GMAIL_PUBLISHER}.`);
    const conditional = granting.find((binding) => binding.role === PUBLISHER_ROLE || BROADER_ROLES.includes(binding.role));
    if (conditional?.condition) {
      return warn(
        `Gmail's publisher grant is conditional (${conditional.condition.title ?? conditional.condition.expression ?? 'condition'}); publishes outside the condition are refused.`,
        `Grant ${PUBLISHER_ROLE} without a condition: ${grant}`,
      );
    }
    if (conditional) {
      return warn(
        `Gmail may publish through ${conditional.role}, which grants far more than publishing.`,
        `Grant ${PUBLISHER_ROLE} instead and remove ${conditional.role} from ${GMAIL_PUBLISHER}: ${grant}`,
      );
    }
    const lookalike = bindings.flatMap((binding) => binding.members ?? []).find((member) => member.includes('gmail-api-push') && member !== GMAIL_PUBLISHER);
    return fail(
      `The topic's IAM policy does not grant ${PUBLISHER_ROLE} to ${GMAIL_PUBLISHER}${lookalike ? ` (it lists "${lookalike}", which is not that identity)` : ''}, so users.watch fails with "User not authorized to perform this action".`,
      `Grant it: ${grant}`,
    );
  },
};
