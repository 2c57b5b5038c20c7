// Pub/Sub resource names (cloud.google.com/pubsub/docs/pubsub-basics#resource_names).
export interface ResourceName {
  name: string;
  project: string;
  id: string;
}

export function parseTopicName(text: string | undefined): ResourceName | undefined {
  const match = /^projects\/([^/]+)\/topics\/([^/]+)$/.exec(text ?? '');
  return match ? { name: text!, project: match[1]!, id: match[2]! } : undefined;
}

export function parseSubscriptionName(text: string | undefined): ResourceName | undefined {
  const match = /^projects\/([^/]+)\/subscriptions\/([^/]+)$/.exec(text ?? '');
  return match ? { name: text!, project: match[1]!, id: match[2]! } : undefined;
}

/** Same endpoint for Pub/Sub's purposes: URL-normalised, a trailing slash ignored (threadlink's router accepts both). */
export function sameEndpoint(left: string, right: string): boolean {
  const normalise = (value: string): string => {
    try {
      return new URL(value).href.replace(/\/+$/, '');
    } catch {
      return value;
    }
  };
  return normalise(left) === normalise(right);
}

/** gcloud flags that set a push subscription's endpoint and authentication in one go. */
export function pushConfigFlags(input: { endpoint: string; serviceAccount?: string | undefined; audience?: string | undefined }): string {
  return [
    `--push-endpoint=${input.endpoint}`,
    `--push-auth-service-account=${input.serviceAccount ?? '<GOOGLE_PUSH_SERVICE_ACCOUNT>'}`,
    `--push-auth-token-audience=${input.audience ?? '<GOOGLE_PUSH_AUDIENCE>'}`,
  ].join(' ');
}
