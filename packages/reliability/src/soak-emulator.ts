// The parent's handle on the soak's provider process (`soak-emulator-process.ts`): one promise per
// order, matched to its answer by id. Answers are taken off the host's report list as they come,
// so a 30-minute run keeps nothing of them in the sampled process.
import { fileURLToPath } from 'node:url';
import { type ChildHost, type GmailEmulator, startChildHost } from '@threadlink/testing';
import type { Cleanups } from './infra-setup.js';

export interface SoakEmulatorConfig {
  /** Mailboxes `soak0@acme.test` … `soak<n-1>@acme.test`, added at start. */
  mailboxes: number;
  pushEndpoint: string;
  seed: number;
}

/** Orders and what each answers. */
type SoakEmulatorCall =
  | { method: 'authorize'; url: string; email: string } // → the OAuth callback URL (the emulator's consent screen)
  | { method: 'mail'; ratePerSecond: number; durationMs: number } // → messages sent, once the run is over
  | { method: 'sent' } // → messages sent so far
  | { method: 'flush' } // → null once every pending push is delivered
  | { method: 'expectedCounts' } // → { [email]: messages the adapter should hold }
  | { method: 'expectedIds'; email: string }; // → their ids

export type SoakEmulatorOrder = SoakEmulatorCall & { id: number };

export type SoakEmulatorReport = { type: 'ready'; providerOptions: Record<string, unknown> } | { type: 'answer'; id: number; value?: unknown; error?: string };

export const soakMailbox = (index: number): string => `soak${index}@acme.test`;

export interface SoakEmulator {
  readonly providerOptions: GmailEmulator['providerOptions'];
  /** The emulator's consent screen approves for `email`; resolves to the OAuth callback URL. */
  authorize(url: string, email: string): Promise<string>;
  /** Delivers `ratePerSecond` messages to random mailboxes each second for `durationMs`; resolves to the total sent. */
  mail(ratePerSecond: number, durationMs: number): Promise<number>;
  sent(): Promise<number>;
  flushNotifications(): Promise<void>;
  /** Per mailbox, the messages the adapter should hold (trash, drafts and chats left out). */
  expectedCounts(): Promise<Record<string, number>>;
  expectedIds(email: string): Promise<string[]>;
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const script = fileURLToPath(new URL('./soak-emulator-process.ts', import.meta.url));

export async function startSoakEmulator(config: SoakEmulatorConfig, cleanups: Cleanups): Promise<SoakEmulator> {
  const host: ChildHost<SoakEmulatorReport, SoakEmulatorOrder> = await startChildHost({
    id: 'soak-emulator',
    script,
    cwd: repoRoot,
    envName: 'THREADLINK_SOAK_EMULATOR',
    config,
    // 10,000 mailboxes are added before 'ready'.
    readyTimeoutMs: 120_000,
  });
  cleanups.push(async () => {
    if (host.running) host.child.kill('SIGTERM');
    await Promise.race([host.exit, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    await host.kill();
  });
  const ready = host.reports.find((report): report is Extract<SoakEmulatorReport, { type: 'ready' }> => report.type === 'ready')!;
  host.reports.length = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  host.child.on('message', (report: SoakEmulatorReport) => {
    if (report.type !== 'answer') return;
    host.reports.length = 0;
    const waiter = pending.get(report.id);
    pending.delete(report.id);
    if (report.error !== undefined) waiter?.reject(new Error(`soak emulator: ${report.error}`));
    else waiter?.resolve(report.value);
  });
  void host.exit.then(({ code, signal }) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`soak emulator exited (${code ?? signal}): ${host.stderr.join('').slice(-2000)}`));
    pending.clear();
  });
  let nextId = 0;
  const call = <T>(order: SoakEmulatorCall): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      nextId += 1;
      pending.set(nextId, { resolve: resolve as (value: unknown) => void, reject });
      host.send({ ...order, id: nextId });
    });
  return {
    providerOptions: ready.providerOptions as unknown as GmailEmulator['providerOptions'],
    authorize: (url, email) => call({ method: 'authorize', url, email }),
    mail: (ratePerSecond, durationMs) => call({ method: 'mail', ratePerSecond, durationMs }),
    sent: () => call({ method: 'sent' }),
    flushNotifications: () => call({ method: 'flush' }),
    expectedCounts: () => call({ method: 'expectedCounts' }),
    expectedIds: (email) => call({ method: 'expectedIds', email }),
  };
}
