// A threadlink host as a real child process, for the scale-out and deploy tests (two workers on one
// BullMQ queue, SIGTERM under load): the parent starts a TypeScript script with tsx, hands it a JSON
// config in an environment variable and reads its reports over the IPC channel; the child reads
// its config and reports with `childHostConfig`. Node only; nothing here is used by the emulators.
import { type ChildProcess, spawn } from 'node:child_process';

/** What every report carries: a `type` ('ready' once the host serves). */
interface HostReportShape {
  type: string;
}

export interface ChildHost<Report extends HostReportShape, Order = never> {
  readonly id: string;
  readonly child: ChildProcess;
  /** Every report received so far, in order. */
  readonly reports: Report[];
  readonly stderr: string[];
  /** Settles on 'close' (after the IPC channel is drained, so every report is in). */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Still running (no exit code, no signal). */
  readonly running: boolean;
  /** An order over the IPC channel (the host's own vocabulary: 'stop', 'hold'…). */
  send(order: Order): void;
  /** Resolves once the reports satisfy `done`; rejects when the host exits first or time runs out. */
  until(what: string, done: (reports: Report[]) => boolean, timeoutMs: number): Promise<void>;
  /** SIGKILL (when still running) and wait for the exit. */
  kill(): Promise<void>;
}

export interface StartChildHostOptions {
  id: string;
  /** Absolute path of the TypeScript entry. */
  script: string;
  /** Where `--import tsx` resolves from (the repository root: tsx lives in its node_modules). */
  cwd: string;
  /** The environment variable the config travels in (read by `childHostConfig`). */
  envName: string;
  config: unknown;
  /** How long the host may take to report 'ready' (tsx on the workspace sources takes seconds). Default 45 s. */
  readyTimeoutMs?: number;
}

/** Starts the host and resolves once it reports `{ type: 'ready' }`. */
export async function startChildHost<Report extends HostReportShape, Order = never>(options: StartChildHostOptions): Promise<ChildHost<Report, Order>> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', options.script], {
    cwd: options.cwd,
    env: { ...process.env, [options.envName]: JSON.stringify(options.config) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const reports: Report[] = [];
  const stderr: string[] = [];
  const listeners = new Set<() => void>();
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  child.on('message', (message: Report) => {
    reports.push(message);
    for (const listener of listeners) listener();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      for (const listener of listeners) listener();
      resolve({ code, signal });
    }),
  );
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const tail = (): string => stderr.join('').slice(-2000);
  const host: ChildHost<Report, Order> = {
    id: options.id,
    child,
    reports,
    stderr,
    exit,
    get running() {
      return running();
    },
    send: (order) => void child.send(order as Parameters<ChildProcess['send']>[0]),
    until: (what, done, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (done(reports)) finish();
          else if (!running()) finish(new Error(`host ${options.id} exited before ${what}: ${tail()}`));
        };
        const timer = setTimeout(() => finish(new Error(`host ${options.id}: no ${what} within ${timeoutMs} ms; stderr: ${tail()}`)), timeoutMs);
        const finish = (error?: Error): void => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        listeners.add(check);
        check();
      }),
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exit;
    },
  };
  try {
    await host.until('ready', (seen) => seen.some((report) => report.type === 'ready'), options.readyTimeoutMs ?? 45_000);
  } catch (error) {
    // Never leave a half-started host behind (it would pull jobs from a shared queue).
    await host.kill();
    throw error;
  }
  return host;
}

/**
 * The child's side: its config (JSON in `envName`) and a `report` over the IPC channel. Exits 2
 * with `usage` when not started by `startChildHost`, and 1 when the parent goes away (an orphan
 * must not keep pulling jobs from a shared queue).
 */
export function childHostConfig<Config, Report>(envName: string, usage: string): { config: Config; report: (message: Report) => void } {
  const text = process.env[envName];
  if (!text || !process.send) {
    console.error(usage);
    process.exit(2);
  }
  process.on('disconnect', () => process.exit(1));
  return {
    config: JSON.parse(text) as Config,
    // The parent may already be gone (test torn down); a report nobody reads is not an error.
    report: (message) => {
      if (process.connected) process.send?.(message);
    },
  };
}
