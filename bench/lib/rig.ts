// Provider emulators + one SDK host wired together: the building block of most scenarios.
import type { EngineOptions } from '@threadlink/core';
import type { GmailEmulator, GraphEmulator, RequestLog } from '@threadlink/testing';
import type { CrmSpec, StoreSpec } from '../host/protocol.js';
import { dropSchema } from './database.js';
import { startHost, type Host } from './host-client.js';
import { gmailOptions, outlookOptions, pushTo, startGoogle, startMicrosoft } from './providers.js';

export type ProviderName = 'gmail' | 'outlook';

export interface Rig {
  google?: GmailEmulator;
  microsoft?: GraphEmulator;
  host: Host;
  store: StoreSpec;
  addMailbox(provider: ProviderName, email: string): void;
  /** A message from a CRM client to the mailbox; returns the id the SDK stores (providerMessageId). */
  deliver(provider: ProviderName, input: { to: string; from: string; subject: string; date?: Date; text?: string }): Promise<string>;
  /** The emulator's request log (quota units and calls per mailbox). */
  log(provider: ProviderName): RequestLog;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

export const DEFAULT_CRM: CrmSpec = { companies: 1_000, projects: 1_000 };

export interface RigOptions {
  providers: ProviderName[];
  label: string;
  latencyMs: number;
  store: StoreSpec;
  engine?: Partial<EngineOptions>;
  crm?: CrmSpec;
  /** Gmail's one push per second per user; the emulator default is Gmail's 1,000 ms. */
  notificationIntervalMs?: number;
  quotaUnitsPerSecond?: number;
  /** The Google Workspace domain the Gmail emulator administers (organization scenarios). */
  workspaceDomain?: string;
  gmail?: Record<string, unknown>;
  outlook?: Record<string, unknown>;
}

export async function startRig(options: RigOptions): Promise<Rig> {
  const crm = options.crm ?? DEFAULT_CRM;
  const google = options.providers.includes('gmail')
    ? await startGoogle({
        latencyMs: options.latencyMs,
        ...(options.notificationIntervalMs === undefined ? {} : { notificationIntervalMs: options.notificationIntervalMs }),
        ...(options.quotaUnitsPerSecond === undefined ? {} : { quotaUnitsPerSecond: options.quotaUnitsPerSecond }),
        ...(options.workspaceDomain === undefined ? {} : { workspaceDomain: options.workspaceDomain }),
      })
    : undefined;
  const microsoft = options.providers.includes('outlook') ? await startMicrosoft({ latencyMs: options.latencyMs }) : undefined;
  const host = await startHost(
    {
      label: options.label,
      ...(google ? { gmail: gmailOptions(google, options.gmail) } : {}),
      ...(microsoft ? { outlook: outlookOptions(microsoft, options.outlook) } : {}),
      store: options.store,
      runWorker: true,
      crm,
      ...(options.engine ? { engine: options.engine } : {}),
    },
    { ...(google ? { google } : {}), ...(microsoft ? { microsoft } : {}) },
  );
  if (google) pushTo(google, host);
  const need = <T>(value: T | undefined, provider: ProviderName): T => {
    if (!value) throw new Error(`this rig has no ${provider} emulator`);
    return value;
  };
  return {
    ...(google ? { google } : {}),
    ...(microsoft ? { microsoft } : {}),
    host,
    store: options.store,
    addMailbox(provider, email) {
      if (provider === 'gmail') need(google, provider).addMailbox({ email });
      else need(microsoft, provider).addMailbox({ email });
    },
    async deliver(provider, input) {
      const text = input.text ?? 'Hello from the bench.';
      if (provider === 'gmail') return (await need(google, provider).deliver({ ...input, text })).id;
      const delivered = await need(microsoft, provider).deliver({ ...input, text });
      // The adapter asks for immutable ids (Prefer: IdType="ImmutableId"), so that is what it stores.
      return delivered.immutableId;
    },
    log: (provider) => (provider === 'gmail' ? need(google, provider).log : need(microsoft, provider).log),
    setLatency(ms) {
      if (google) google.faults.latencyMs = ms;
      if (microsoft) microsoft.faults.latencyMs = ms;
    },
    async close() {
      await host.stop();
      await Promise.all([google?.close(), microsoft?.close()]);
      await dropSchema(options.store);
    },
  };
}

/** A CRM client's address that the host's resolver knows (client{i}.example has a record). */
export function clientAddress(index: number, companies = DEFAULT_CRM.companies): string {
  return `person@client${index % companies}.example`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A rig started on first use and closed only if it was started. */
export function once(start: () => Promise<Rig>): (() => Promise<Rig>) & { close(): Promise<void> } {
  let started: Promise<Rig> | undefined;
  const get = (() => (started ??= start())) as (() => Promise<Rig>) & { close(): Promise<void> };
  get.close = async () => {
    if (started) await (await started.catch(() => null))?.close();
  };
  return get;
}
