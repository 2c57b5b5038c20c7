// Child processes for the bench: the SDK under test runs in its own process (its event loop,
// heap and RSS are then its own, not shared with the emulators that play Google and Microsoft).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const tsxLoader = import.meta.resolve('tsx');

/** Forks a TypeScript entry through tsx with the workspace `source` condition and an IPC channel. */
export function forkTs(entry: URL, args: string[] = [], options: { env?: NodeJS.ProcessEnv; exposeGc?: boolean } = {}): ChildProcess {
  const child = fork(fileURLToPath(entry), args, {
    execArgv: ['--conditions=source', '--import', tsxLoader, ...(options.exposeGc ? ['--expose-gc'] : [])],
    env: { ...process.env, ...(options.env ?? {}) },
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  // The bench's stdout carries only result JSON; anything a child prints goes to stderr.
  child.stdout?.pipe(process.stderr);
  return child;
}

/** Resolves when the child exits; kills it (SIGTERM, then SIGKILL) when asked to stop first. */
export function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
