// Child processes for the bench: the SDK under test runs in its own process (its event loop,
// heap and RSS are then its own, not shared with the emulators that play Google and Microsoft).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const tsxLoader = import.meta.resolve('tsx');

/** Forks a TypeScript entry through tsx with the workspace `source` condition and an IPC channel. */
export function forkTs(entry: URL, args: string[] = [], options: { env?: NodeJS.ProcessEnv; exposeGc?: boolean; execArgv?: string[] } = {}): ChildProcess {
  const child = fork(fileURLToPath(entry), args, {
    execArgv: ['--conditions=source', '--import', tsxLoader, ...(options.exposeGc ? ['--expose-gc'] : []), ...(options.execArgv ?? [])],
    env: { ...process.env, ...(options.env ?? {}) },
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  // The bench's stdout carries only result JSON; anything a child prints goes to stderr.
  child.stdout?.pipe(process.stderr);
  return child;
}

/** Resolves when the child has exited: it gets `waitMs` to leave on its own, then SIGTERM, then SIGKILL. */
export function stopChild(child: ChildProcess, waitMs = 2_000, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const term = setTimeout(() => child.kill('SIGTERM'), waitMs);
    const kill = setTimeout(() => child.kill('SIGKILL'), waitMs + graceMs);
    child.once('exit', () => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve();
    });
  });
}
