// Each Pub/Sub mistake the doctor claims to find, built in the emulator's Pub/Sub admin state
// (a fresh topic and subscription per test) and read back over its REST API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../src/index.js';
import { PUSH_AUDIENCE, resultOf, startDeployment, uniqueId, type Deployment, type HealthyConfig } from './support/deployment.js';

const GMAIL_PUBLISHER = 'serviceAccount:gmail-api-push@system.gserviceaccount.com';
const PROJECT = 'threadlink-emulator';

let deployment: Deployment;
beforeAll(async () => {
  deployment = await startDeployment();
});
afterAll(() => deployment?.close());

interface Setup {
  topic: string;
  topicId: string;
  subscription: string;
  subscriptionId: string;
  config: HealthyConfig;
}

/** A correct topic + grant + push subscription of this test's own, and the config pointing at it. */
function correctSetup(): Setup {
  const pubsub = deployment.google.pubsub;
  const topicId = uniqueId('topic');
  const subscriptionId = uniqueId('sub');
  const topic = `projects/${PROJECT}/topics/${topicId}`;
  const subscription = `projects/${PROJECT}/subscriptions/${subscriptionId}`;
  pubsub.createTopic(topic);
  pubsub.setIamPolicy(topic, { bindings: [{ role: 'roles/pubsub.publisher', members: [GMAIL_PUBLISHER] }] });
  pubsub.createPushSubscription({
    name: subscription,
    topic,
    pushEndpoint: `${deployment.publicUrl}/webhooks/gmail`,
    oidcToken: { serviceAccountEmail: deployment.google.providerOptions.pushServiceAccount, audience: PUSH_AUDIENCE },
  });
  const config = deployment.config({ store: false });
  config.google.pubsubTopic = topic;
  return { topic, topicId, subscription, subscriptionId, config };
}

const GOOGLE_CHECKS = ['google.pubsub-topic', 'google.publisher-grant', 'google.push-subscription', 'google.push-authentication'];

async function googleStatuses(config: HealthyConfig) {
  const report = await runDoctor(config);
  return { report, statuses: GOOGLE_CHECKS.map((id) => resultOf(report, id).status) };
}

describe('the per-test setup is itself correct', () => {
  it('passes every Pub/Sub check', async () => {
    const { statuses } = await googleStatuses(correctSetup().config);
    expect(statuses).toEqual(['pass', 'pass', 'pass', 'pass']);
  });
});

describe('topic', () => {
  it('finds a missing topic and says how to create it', async () => {
    const config = deployment.config({ store: false });
    config.google.pubsubTopic = `projects/${PROJECT}/topics/never-created`;
    const { report, statuses } = await googleStatuses(config);
    expect(statuses).toEqual(['fail', 'skip', 'skip', 'skip']);
    const topic = resultOf(report, 'google.pubsub-topic');
    expect(topic.detail).toBe(
      `Topic projects/${PROJECT}/topics/never-created does not exist (404 NOT_FOUND), so users.watch fails and no notification is ever published.`,
    );
    expect(topic.fix).toBe(
      `Create it with \`gcloud pubsub topics create never-created --project=${PROJECT}\`, then grant Gmail publish rights on it (see google.publisher-grant).`,
    );
    expect(report.ok).toBe(false);
  });

  it('rejects a bare topic id where the full resource name is needed', async () => {
    const config = deployment.config({ store: false });
    config.google.pubsubTopic = 'gmail';
    const report = await runDoctor(config);
    expect(resultOf(report, 'google.pubsub-topic')).toMatchObject({
      status: 'fail',
      detail: 'GOOGLE_PUBSUB_TOPIC "gmail" is not a topic name.',
      fix: 'Use the full resource name from the topic’s page, e.g. projects/acme-mail/topics/gmail-push, not just the topic id.',
    });
  });
});

describe('publisher grant', () => {
  it('finds a topic that does not let Gmail publish', async () => {
    const setup = correctSetup();
    deployment.google.pubsub.setIamPolicy(setup.topic, { bindings: [{ role: 'roles/pubsub.subscriber', members: [GMAIL_PUBLISHER] }] });
    const { report, statuses } = await googleStatuses(setup.config);
    expect(statuses).toEqual(['pass', 'fail', 'pass', 'pass']);
    const grant = resultOf(report, 'google.publisher-grant');
    expect(grant.detail).toBe(
      `The topic's IAM policy does not grant roles/pubsub.publisher to ${GMAIL_PUBLISHER}, so users.watch fails with "User not authorized to perform this action".`,
    );
    expect(grant.fix).toBe(
      `Grant it: gcloud pubsub topics add-iam-policy-binding ${setup.topicId} --project=${PROJECT} --member=${GMAIL_PUBLISHER} --role=roles/pubsub.publisher`,
    );
  });

  it('points at a look-alike member (user: instead of serviceAccount:)', async () => {
    const setup = correctSetup();
    deployment.google.pubsub.setIamPolicy(setup.topic, {
      bindings: [{ role: 'roles/pubsub.publisher', members: ['user:gmail-api-push@system.gserviceaccount.com'] }],
    });
    const report = await runDoctor(setup.config);
    expect(resultOf(report, 'google.publisher-grant').detail).toContain(
      '(it lists "user:gmail-api-push@system.gserviceaccount.com", which is not that identity)',
    );
  });

  it('warns when Gmail publishes through a much broader role', async () => {
    const setup = correctSetup();
    deployment.google.pubsub.setIamPolicy(setup.topic, { bindings: [{ role: 'roles/pubsub.admin', members: [GMAIL_PUBLISHER] }] });
    const report = await runDoctor(setup.config);
    expect(resultOf(report, 'google.publisher-grant')).toMatchObject({
      status: 'warn',
      detail: 'Gmail may publish through roles/pubsub.admin, which grants far more than publishing.',
    });
    expect(report.ok).toBe(true);
  });
});

describe('push subscription', () => {
  it('finds a push endpoint that is not threadlink’s and gives the full modify-push-config command', async () => {
    const setup = correctSetup();
    const wrong = `${deployment.publicUrl}/webhooks/gmial`;
    deployment.google.pubsub.modifyPushConfig(setup.subscription, {
      pushEndpoint: wrong,
      oidcToken: { serviceAccountEmail: deployment.google.providerOptions.pushServiceAccount, audience: PUSH_AUDIENCE },
    });
    const { report, statuses } = await googleStatuses(setup.config);
    expect(statuses).toEqual(['pass', 'pass', 'fail', 'pass']);
    const push = resultOf(report, 'google.push-subscription');
    expect(push.detail).toBe(`${setup.subscription} pushes to ${wrong}, but threadlink listens at ${deployment.publicUrl}/webhooks/gmail.`);
    expect(push.fix).toBe(
      `Repoint it (modify-push-config replaces the whole push config, so repeat the auth flags): gcloud pubsub subscriptions modify-push-config ${setup.subscriptionId} --push-endpoint=${deployment.publicUrl}/webhooks/gmail --push-auth-service-account=${deployment.google.providerOptions.pushServiceAccount} --push-auth-token-audience=${PUSH_AUDIENCE}`,
    );
  });

  it('finds a topic with only a pull subscription', async () => {
    const setup = correctSetup();
    deployment.google.pubsub.deleteSubscription(setup.subscription);
    const pull = `projects/${PROJECT}/subscriptions/${uniqueId('pull')}`;
    deployment.google.pubsub.createPullSubscription({ name: pull, topic: setup.topic });
    const { report, statuses } = await googleStatuses(setup.config);
    expect(statuses).toEqual(['pass', 'pass', 'fail', 'skip']);
    const push = resultOf(report, 'google.push-subscription');
    expect(push.detail).toBe(
      `Topic ${setup.topic} has no push subscription (only 1 pull subscription: ${pull}), so Gmail's notifications are never delivered to threadlink.`,
    );
    expect(push.fix).toContain(
      `gcloud pubsub subscriptions create threadlink-gmail-push --topic=${setup.topicId} --project=${PROJECT} --push-endpoint=${deployment.publicUrl}/webhooks/gmail`,
    );
  });

  it('finds a configured subscription that does not exist', async () => {
    const setup = correctSetup();
    setup.config.google.pushSubscription = `projects/${PROJECT}/subscriptions/typo-sub`;
    const { report, statuses } = await googleStatuses(setup.config);
    expect(statuses).toEqual(['pass', 'pass', 'fail', 'skip']);
    expect(resultOf(report, 'google.push-subscription').detail).toBe(`Subscription projects/${PROJECT}/subscriptions/typo-sub does not exist (404 NOT_FOUND).`);
  });

  it('finds a subscription orphaned by deleting and re-creating its topic', async () => {
    const setup = correctSetup();
    deployment.google.pubsub.deleteTopic(setup.topic);
    deployment.google.pubsub.createTopic(setup.topic);
    deployment.google.pubsub.setIamPolicy(setup.topic, { bindings: [{ role: 'roles/pubsub.publisher', members: [GMAIL_PUBLISHER] }] });
    setup.config.google.pushSubscription = setup.subscription;
    const report = await runDoctor(setup.config);
    expect(resultOf(report, 'google.push-subscription')).toMatchObject({
      status: 'fail',
      detail: `${setup.subscription} belongs to a deleted topic (_deleted-topic_): the topic was deleted (and maybe re-created), and this subscription receives nothing.`,
    });
  });
});

describe('push authentication', () => {
  it('finds a subscription whose token audience is not the configured one', async () => {
    const setup = correctSetup();
    deployment.google.pubsub.modifyPushConfig(setup.subscription, {
      pushEndpoint: `${deployment.publicUrl}/webhooks/gmail`,
      oidcToken: { serviceAccountEmail: deployment.google.providerOptions.pushServiceAccount, audience: 'https://wrong.example/audience' },
    });
    const { report, statuses } = await googleStatuses(setup.config);
    expect(statuses).toEqual(['pass', 'pass', 'pass', 'fail']);
    const auth = resultOf(report, 'google.push-authentication');
    expect(auth.detail).toBe(
      `${setup.subscription}: tokens carry aud "https://wrong.example/audience" (set on the subscription), but pushAudience is "${PUSH_AUDIENCE}" — threadlink rejects these pushes with 401.`,
    );
    expect(auth.fix).toBe(
      `Set GOOGLE_PUSH_AUDIENCE to "https://wrong.example/audience" or run \`gcloud pubsub subscriptions update ${setup.subscriptionId} --push-auth-token-audience=${PUSH_AUDIENCE}\`.`,
    );
  });

  it('explains that an unset audience defaults to the endpoint URL', async () => {
    const setup = correctSetup();
    deployment.google.pubsub.modifyPushConfig(setup.subscription, {
      pushEndpoint: `${deployment.publicUrl}/webhooks/gmail`,
      oidcToken: { serviceAccountEmail: deployment.google.providerOptions.pushServiceAccount },
    });
    const report = await runDoctor(setup.config);
    expect(resultOf(report, 'google.push-authentication').detail).toContain(
      `tokens carry aud "${deployment.publicUrl}/webhooks/gmail" (Pub/Sub's default, the push endpoint URL)`,
    );
  });

  it('finds a push subscription without OIDC authentication', async () => {
    const setup = correctSetup();
    deployment.google.pubsub.modifyPushConfig(setup.subscription, { pushEndpoint: `${deployment.publicUrl}/webhooks/gmail` });
    const report = await runDoctor(setup.config);
    expect(resultOf(report, 'google.push-authentication')).toMatchObject({
      status: 'fail',
      detail: `${setup.subscription} pushes without authentication (no OIDC token), and threadlink refuses unauthenticated pushes with 401, so every notification is rejected and retried.`,
      fix: `Enable authentication: gcloud pubsub subscriptions update ${setup.subscriptionId} --push-auth-service-account=${deployment.google.providerOptions.pushServiceAccount} --push-auth-token-audience=${PUSH_AUDIENCE}`,
    });
  });

  it('finds tokens signed by another service account', async () => {
    const setup = correctSetup();
    deployment.google.pubsub.modifyPushConfig(setup.subscription, {
      pushEndpoint: `${deployment.publicUrl}/webhooks/gmail`,
      oidcToken: { serviceAccountEmail: 'compute@developer.gserviceaccount.com', audience: PUSH_AUDIENCE },
    });
    const report = await runDoctor(setup.config);
    expect(resultOf(report, 'google.push-authentication').detail).toBe(
      `${setup.subscription}: tokens are signed as compute@developer.gserviceaccount.com, but pushServiceAccount is ${deployment.google.providerOptions.pushServiceAccount} — threadlink rejects these pushes with 401.`,
    );
  });
});

describe("the doctor's own Google Cloud credentials", () => {
  it('skips the Pub/Sub checks, saying why, when it has none', async () => {
    const config = deployment.config({ store: false });
    delete config.google.accessToken;
    const report = await runDoctor(config);
    expect(resultOf(report, 'google.pubsub-topic')).toMatchObject({
      status: 'skip',
      detail: 'No Google Cloud credentials for the doctor (GOOGLE_ACCESS_TOKEN or GOOGLE_APPLICATION_CREDENTIALS), so Pub/Sub was not inspected.',
    });
    expect(resultOf(report, 'google.push-authentication').status).toBe('skip');
  });

  it('reports an invalid or expired token', async () => {
    const config = deployment.config({ store: false });
    config.google.accessToken = 'ya29.expired';
    const report = await runDoctor(config);
    expect(resultOf(report, 'google.pubsub-topic')).toMatchObject({
      status: 'fail',
      detail: "Pub/Sub refused the doctor's Google Cloud credentials (401 UNAUTHENTICATED) while reading topic projects/threadlink-emulator/topics/gmail.",
      fix: 'The access token is invalid or expired: set a fresh GOOGLE_ACCESS_TOKEN (`gcloud auth print-access-token`) or check GOOGLE_APPLICATION_CREDENTIALS.',
    });
  });

  it('reports a token without a Pub/Sub scope', async () => {
    const config = deployment.config({ store: false });
    const { access_token } = await deployment.google.issueTokens({ email: 'ops@acme.example', scopes: ['https://www.googleapis.com/auth/gmail.readonly'] });
    config.google.accessToken = access_token;
    const report = await runDoctor(config);
    expect(resultOf(report, 'google.pubsub-topic')).toMatchObject({
      status: 'fail',
      detail: "The doctor's access token lacks a Pub/Sub scope (403) while reading topic projects/threadlink-emulator/topics/gmail.",
    });
  });

  it('reports an unusable GOOGLE_APPLICATION_CREDENTIALS file without contacting Google', async () => {
    const config = deployment.config({ store: false });
    delete config.google.accessToken;
    config.google.credentialsFile = '/nonexistent/threadlink-doctor-key.json';
    const report = await runDoctor(config);
    expect(resultOf(report, 'google.pubsub-topic')).toMatchObject({
      status: 'fail',
      detail: 'GOOGLE_APPLICATION_CREDENTIALS points at /nonexistent/threadlink-doctor-key.json, which cannot be read (ENOENT).',
    });
    config.google.credentialsFile = new URL(import.meta.url).pathname;
    expect(resultOf(await runDoctor(config), 'google.pubsub-topic').detail).toBe(
      `GOOGLE_APPLICATION_CREDENTIALS (${config.google.credentialsFile}) is not JSON.`,
    );
    // A JSON file of another kind (here: a package manifest, whose "type" is "module").
    config.google.credentialsFile = new URL('../package.json', import.meta.url).pathname;
    expect(resultOf(await runDoctor(config), 'google.pubsub-topic').detail).toBe(
      `GOOGLE_APPLICATION_CREDENTIALS (${config.google.credentialsFile}) is not a Google credentials file (its "type" is "module").`,
    );
  });
});
