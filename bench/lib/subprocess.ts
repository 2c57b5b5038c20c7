// Runs another package's benchmark script (reused as is, never copied) and returns the JSON
// object it prints.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const tsxLoader = import.meta.resolve('tsx');
const root = fileURLToPath(new URL('../../', import.meta.url));

function runJsonScript<T>(scriptFromRoot: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--conditions=source', '--import', tsxLoader, scriptFromRoot, ...args],
      { cwd: root, env: { ...process.env, ...(options.env ?? {}) }, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${scriptFromRoot} failed: ${error.message}\n${stderr}`));
        // The script prints one JSON object (possibly pretty-printed); take the outermost braces.
        const start = stdout.indexOf('{');
        const end = stdout.lastIndexOf('}');
        if (start < 0 || end < start) return reject(new Error(`${scriptFromRoot} printed no JSON: ${stdout.slice(0, 200)}`));
        try {
          resolve(JSON.parse(stdout.slice(start, end + 1)) as T);
        } catch (parseError) {
          reject(new Error(`${scriptFromRoot} printed invalid JSON: ${(parseError as Error).message}`));
        }
      },
    );
  });
}

export interface UpsertsBench {
  backend: 'postgres' | 'pglite';
  messages: number;
  batchSize: number;
  insertMessagesPerSecond: number;
  updateMessagesPerSecond: number;
}

/** packages/storage-postgres/bench/upserts.ts: applySync messages/s in batches. */
export function upsertsBench(backend: 'postgres' | 'pglite', messages: number, batch: number): Promise<UpsertsBench> {
  return runJsonScript<UpsertsBench>('packages/storage-postgres/bench/upserts.ts', [
    '--backend',
    backend,
    '--messages',
    String(messages),
    '--batch',
    String(batch),
  ]);
}

export interface MatcherBench {
  records: number;
  messages: number;
  pageSize: number;
  matchMany: { messagesPerSecond: number; totalMs: number; linksPerMessage: number; resolverCallsPerPage: number };
  match: { messages: number; messagesPerSecond: number; totalMs: number; resolverCallsPerMessage: number };
}

/** bench/matcher.ts: matchMany / match messages/s against an in-memory CRM. */
export function matcherBench(messages: number, records: number): Promise<MatcherBench> {
  return runJsonScript<MatcherBench>('bench/matcher.ts', ['--messages', String(messages), '--records', String(records)]);
}
