// What the bench tells the SDK host process, and what the host reports back.
import type { EngineOptions } from '@threadlink/core';

export type StoreSpec = { kind: 'memory' } | { kind: 'pglite' } | { kind: 'postgres'; url: string; schema: string; poolMax?: number };

export interface CrmSpec {
  /** Clients client{i}.example with a domain and one contact person@client{i}.example each. */
  companies: number;
  /** Projects PRJ-{10000+i}. */
  projects: number;
}

export interface HostConfig {
  label: string;
  /** Serializable provider options (the emulators' providerOptions plus overrides). */
  gmail?: Record<string, unknown>;
  outlook?: Record<string, unknown>;
  store: StoreSpec;
  queue?: { kind: 'bullmq'; url: string; name: string };
  runWorker: boolean;
  engine?: Partial<EngineOptions>;
  crm: CrmSpec;
  /** Hosts sharing a store must share the key that seals the tokens in it. */
  sealingKey?: string;
}

export interface ConnectResult {
  connectionId: string;
  accountEmail: string;
  /** ms from the OAuth callback reaching the host to the callback's answer (exchange + subscribe). */
  callbackMs: number;
  /** ms from the OAuth callback to `connection.live`. */
  liveMs: number;
  subscription: { renewAt: number; expiresAt: number; items: number } | null;
  connectedAt: number;
}

export interface ConnectionTimeline {
  callbackAt: number;
  liveAt: number | null;
  /** First push after live, and the first message it synced. */
  firstPushAt: number | null;
  firstSyncedAt: number | null;
  backfillDoneAt: number | null;
}

export interface HostStats {
  label: string;
  matched: number;
  synced: number;
  notifications: number;
  syncErrors: Record<string, number>;
  /** push arrival → message.matched, ms, one per matched message (streaming attribution). */
  latencies: number[];
  /** epoch ms of each message.matched. */
  matchedTimes: number[];
  eventLoopDelay: { p50: number; p99: number; max: number; mean: number };
  memory: { rssPeak: number; rssNow: number; heapUsedNow: number; heapUsedPeak: number };
  cpu: { userMs: number; systemMs: number; wallMs: number };
}

export interface MemorySnapshot {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** Connecting a whole org as the host does it (tenant t1): Google direct, Microsoft by admin consent. */
export interface OrgConnectInput {
  provider: 'gmail' | 'outlook';
  directoryId: string;
  adminEmail: string;
  /** Google: the service account key JSON; Microsoft: unused (admin consent, as `adminEmail`). */
  credentials: unknown;
  selection: { all?: boolean; mailboxes?: string[]; shared?: string[]; groups?: string[] };
  /** How many mailboxes the selection holds: the connect is done when that many are live. */
  expected: number;
  /** How long to wait for every mailbox to be live. */
  timeoutMs: number;
}

export interface OrgConnectResult {
  orgId: string;
  /** Forbidden or not found. */
  problems: number;
  /** Mailboxes the org's health counts live once the host is idle. */
  live: number;
  /** ms from the call to `connect.direct` returning (Microsoft: to the admin-consent callback answered). */
  connectMs: number;
  firstLiveMs: number;
  /** ms from the call to the last mailbox's `connection.live`. */
  allLiveMs: number;
  /** ms from the call to the host being idle (back-fills done). */
  idleMs: number;
}
