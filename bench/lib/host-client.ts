// The bench side of an SDK host process: spawn, wait until ready, answer its consent requests
// on the emulators, and typed calls into it.
import type { ChildProcess } from 'node:child_process';
import type { GmailEmulator, GraphEmulator } from '@threadlink/testing';
import type { ConnectionTimeline, ConnectResult, HostConfig, HostStats, MemorySnapshot, OrgConnectInput, OrgConnectResult } from '../host/protocol.js';
import { forkTs, stopChild } from './fork.js';
import { rpcOver, type Rpc } from './rpc.js';

export interface Emulators {
  google?: GmailEmulator;
  microsoft?: GraphEmulator;
}

export interface Host {
  readonly label: string;
  readonly publicUrl: string;
  readonly rpc: Rpc;
  readonly child: ChildProcess;
  connect(provider: 'gmail' | 'outlook', email: string): Promise<ConnectResult>;
  /** `tl.org.connect.direct` for a whole org, timed to the last mailbox live (Microsoft: admin consent through `authorize`). */
  connectOrg(input: OrgConnectInput): Promise<OrgConnectResult>;
  idle(): Promise<void>;
  arm(connectionId: string): Promise<void>;
  /** The armed sample; `spans` is the time inside each SDK telemetry span during it (ms). */
  collect(timeoutMs?: number): Promise<{ pushAt: number; matchedAt: number; pushToMatchedMs: number; spans: Record<string, number> }>;
  waitSynced(providerMessageId: string, timeoutMs?: number): Promise<number>;
  timeline(connectionId: string): Promise<ConnectionTimeline | null>;
  resetStats(): Promise<void>;
  stats(): Promise<HostStats>;
  counts(): Promise<{ matched: number; synced: number; notifications: number; syncErrors: Record<string, number> }>;
  memory(gc?: boolean): Promise<MemorySnapshot>;
  /** Outgoing HTTP requests the host made to an origin (e.g. an emulator's url) so far. */
  outgoing(origin: string): Promise<number>;
  /** The latest request lines (method, path with query) the host sent to an origin, oldest first. */
  recentRequests(origin: string): Promise<Array<{ method: string; path: string }>>;
  operate(operation: 'sync' | 'resync' | 'renew' | 'maintain', connectionId?: string): Promise<unknown>;
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

const hostEntry = new URL('../host/host.ts', import.meta.url);

export async function startHost(config: HostConfig, emulators: Emulators): Promise<Host> {
  // BENCH_HOST_PROFILE=<dir> writes a V8 CPU profile per host process (where does the SDK spend CPU?).
  const profileDir = process.env.BENCH_HOST_PROFILE;
  const child = forkTs(hostEntry, [], { exposeGc: true, ...(profileDir ? { execArgv: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}) });
  const rpc = rpcOver(child);
  const ready = new Promise<void>((resolve, reject) => {
    rpc.on('ready', () => resolve());
    child.once('exit', (code) => reject(new Error(`host ${config.label} exited during start (${code})`)));
  });
  rpc.serve({
    authorize: async ({ provider, url, email }: { provider: 'gmail' | 'outlook'; url: string; email: string }) => {
      const emulator = provider === 'gmail' ? emulators.google : emulators.microsoft;
      if (!emulator) throw new Error(`no ${provider} emulator`);
      return emulator.authorize(url, { email });
    },
  });
  await ready;
  const { publicUrl } = await rpc.call<{ publicUrl: string }>('start', config);
  let stopped = false;
  return {
    label: config.label,
    publicUrl,
    rpc,
    child,
    connect: (provider, email) => rpc.call('connect', { provider, email }),
    connectOrg: (input) => rpc.call('connectOrg', input),
    idle: async () => void (await rpc.call('idle')),
    arm: async (connectionId) => void (await rpc.call('arm', { connectionId })),
    collect: (timeoutMs = 10_000) => rpc.call('collect', { timeoutMs }),
    waitSynced: (providerMessageId, timeoutMs = 10_000) => rpc.call('waitSynced', { providerMessageId, timeoutMs }),
    timeline: (connectionId) => rpc.call('timeline', { connectionId }),
    resetStats: async () => void (await rpc.call('resetStats')),
    stats: () => rpc.call('stats'),
    counts: () => rpc.call('counts'),
    memory: (gc = true) => rpc.call('memory', { gc }),
    async recentRequests(origin) {
      const wanted = new URL(origin).host;
      const all = await rpc.call<Array<{ origin: string; method: string; path: string }>>('recentRequests');
      return all.filter((entry) => entry.origin.endsWith(`//${wanted}`)).map(({ method, path }) => ({ method, path }));
    },
    async outgoing(origin) {
      const counts = await rpc.call<Record<string, number>>('outgoing');
      const wanted = new URL(origin).host;
      return Object.entries(counts).reduce((sum, [key, count]) => (key.endsWith(`//${wanted}`) ? sum + count : sum), 0);
    },
    operate: (operation, connectionId) => rpc.call('operate', { operation, ...(connectionId ? { connectionId } : {}) }),
    startWorker: async () => void (await rpc.call('startWorker')),
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await Promise.race([rpc.call('stop'), new Promise((resolve) => setTimeout(resolve, 5_000))]);
      } catch {
        // Already gone.
      }
      await stopChild(child);
    },
  };
}
