// What checks share during one run: the resolved config, earlier results (for dependencies),
// and lazily opened resources (the Pub/Sub client, the store), each created once and released
// by the runner.
import type { ResolvedDoctorConfig } from './config.js';
import { googleCloudToken } from './google/credentials.js';
import { PubSubClient } from './google/pubsub.js';
import { parsePublicUrl, type ParsedPublicUrl } from './public-url.js';
import type { CheckOutcome, CheckResult } from './report.js';
import { openStore, type OpenedStore } from './store/open.js';

type PubSubAccess = { ok: true; client: PubSubClient; source: string } | { ok: false; outcome: CheckOutcome };

export interface DoctorContext {
  readonly config: ResolvedDoctorConfig;
  readonly publicUrl: ParsedPublicUrl;
  /** The result of a check that already ran. */
  result(id: string): CheckResult | undefined;
  /** The Pub/Sub client (Gmail configured and the doctor has Google Cloud credentials). */
  pubsub(): Promise<PubSubAccess>;
  /** The store opened without init() (the first call connects). */
  store(): Promise<OpenedStore | undefined>;
}

export interface OwnedContext extends DoctorContext {
  record(result: CheckResult): void;
  close(): Promise<void>;
}

const DEFAULT_PUBSUB_API_URL = 'https://pubsub.googleapis.com';

export function createContext(config: ResolvedDoctorConfig): OwnedContext {
  const results = new Map<string, CheckResult>();
  let pubsub: Promise<PubSubAccess> | undefined;
  let store: Promise<OpenedStore | undefined> | undefined;
  return {
    config,
    publicUrl: parsePublicUrl(config.publicUrl),
    result: (id) => results.get(id),
    record: (result) => {
      results.set(result.id, result);
    },
    pubsub: () =>
      (pubsub ??= (async (): Promise<PubSubAccess> => {
        const google = config.google ?? {};
        const token = await googleCloudToken(google);
        if (!token.ok) return token;
        const client = new PubSubClient(google.pubsubApiUrl ?? DEFAULT_PUBSUB_API_URL, token.token, config.fetch, config.timeouts.requestMs);
        return { ok: true, client, source: token.source };
      })()),
    store: () => (store ??= config.store ? openStore(config.store, config.timeouts.storeMs) : Promise.resolve(undefined)),
    close: async () => {
      const opened = await store;
      if (opened?.ok) await opened.store.close().catch(() => undefined);
    },
  };
}
