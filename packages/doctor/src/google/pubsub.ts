// A read-only Cloud Pub/Sub REST client (v1): exactly the GETs the checks need, each made once
// per run and shared between checks. https://cloud.google.com/pubsub/docs/reference/rest
import { excerpt, probe } from '../http/probe.js';
import { fail, type CheckOutcome } from '../report.js';

interface GoogleApiError {
  code?: number;
  message?: string;
  status?: string;
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; status: number; error: GoogleApiError | undefined; message: string };

export interface Topic {
  name: string;
}

export interface IamPolicy {
  version?: number;
  etag?: string;
  bindings?: Array<{ role: string; members?: string[]; condition?: { expression?: string; title?: string } }>;
}

export interface Subscription {
  name: string;
  topic: string;
  pushConfig?: {
    pushEndpoint?: string;
    oidcToken?: { serviceAccountEmail?: string; audience?: string };
    noWrapper?: { writeMetadata?: boolean };
  };
  state?: string;
  detached?: boolean;
}

export class PubSubClient {
  private readonly cache = new Map<string, Promise<ApiResult<unknown>>>();

  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch,
    private readonly timeoutMs: number,
  ) {}

  topic(name: string): Promise<ApiResult<Topic>> {
    return this.get(name);
  }

  /** Pub/Sub maps getIamPolicy to GET (not POST as many Google APIs do). */
  topicPolicy(name: string): Promise<ApiResult<IamPolicy>> {
    return this.get(`${name}:getIamPolicy`);
  }

  topicSubscriptions(name: string): Promise<ApiResult<{ subscriptions?: string[] }>> {
    return this.get(`${name}/subscriptions`);
  }

  subscription(name: string): Promise<ApiResult<Subscription>> {
    return this.get(name);
  }

  private get<T>(path: string): Promise<ApiResult<T>> {
    let pending = this.cache.get(path);
    if (!pending) {
      pending = this.request(path);
      this.cache.set(path, pending);
    }
    return pending as Promise<ApiResult<T>>;
  }

  private async request(path: string): Promise<ApiResult<unknown>> {
    const result = await probe(
      this.fetchImpl,
      `${this.baseUrl.replace(/\/+$/, '')}/v1/${path}`,
      { headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' } },
      this.timeoutMs,
    );
    if (!result.ok) return { ok: false, status: 0, error: undefined, message: result.message };
    let body: unknown;
    try {
      body = JSON.parse(result.text);
    } catch {
      body = undefined;
    }
    if (result.status >= 200 && result.status < 300 && body !== undefined) return { ok: true, value: body };
    const error = (body as { error?: GoogleApiError } | undefined)?.error;
    return { ok: false, status: result.status, error, message: error?.message ?? excerpt(result.text) };
  }
}

/** Turns a failed read into a finding with a fix; 404 is the caller's business (it means something different per resource). */
export function explainPubSubFailure(result: Extract<ApiResult<unknown>, { ok: false }>, what: string, baseUrl: string): CheckOutcome {
  if (result.status === 0) {
    return fail(
      `Could not reach the Pub/Sub API at ${baseUrl} to read ${what}: ${result.message}.`,
      'Allow outbound HTTPS from this machine to pubsub.googleapis.com (or fix GOOGLE_PUBSUB_API_URL) and run the doctor again.',
    );
  }
  if (result.status === 401) {
    return fail(
      `Pub/Sub refused the doctor's Google Cloud credentials (401 UNAUTHENTICATED) while reading ${what}.`,
      'The access token is invalid or expired: set a fresh GOOGLE_ACCESS_TOKEN (`gcloud auth print-access-token`) or check GOOGLE_APPLICATION_CREDENTIALS.',
    );
  }
  if (result.status === 403 && /insufficient authentication scopes/i.test(result.message)) {
    return fail(
      `The doctor's access token lacks a Pub/Sub scope (403) while reading ${what}.`,
      'Use a token with the https://www.googleapis.com/auth/cloud-platform (or …/auth/pubsub) scope, e.g. from `gcloud auth print-access-token`.',
    );
  }
  if (result.status === 403 && /has not been used|is disabled|SERVICE_DISABLED/i.test(`${result.message} ${result.error?.status ?? ''}`)) {
    return fail(
      `The Cloud Pub/Sub API is not enabled for the project of ${what}.`,
      'Enable the Cloud Pub/Sub API (APIs & Services → Library → Cloud Pub/Sub API) in that project, wait a minute, and run the doctor again.',
    );
  }
  if (result.status === 403) {
    return fail(
      `The doctor's identity may not read ${what} (403 ${result.error?.status ?? 'PERMISSION_DENIED'}: ${result.message}).`,
      'Run the doctor as an identity with pubsub.topics.get, pubsub.topics.getIamPolicy and pubsub.subscriptions.get on the project (a project owner, or a custom role with those permissions).',
    );
  }
  return fail(
    `Pub/Sub answered ${result.status} while reading ${what}: ${result.message}.`,
    'Check the resource name for typos; if it is right, retry later and check status.cloud.google.com.',
  );
}
