// `pnpm demo`: starts the example. Demo mode (no credentials) runs the Gmail and Outlook
// emulators in-process; set the variables in README.md to talk to Google and Microsoft.
import { createApp } from './app.js';
import { type AppConfig, ConfigError, loadConfig } from './config.js';

let config: AppConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

for (const warning of config.warnings) process.stderr.write(`${warning}\n`);

// Signal handlers go in before anything starts, so Ctrl-C during start-up also closes what has
// started (createApp closes its own parts when it fails) and the process exits 0: `pnpm demo` then
// ends quietly instead of with ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL.
const starting = createApp(config);
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  starting
    .then((started) => started.close())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`Stopping failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const app = await starting;
const storage =
  config.storage.kind === 'pglite' ? `PGlite in ${config.storage.dataDir}` : config.storage.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : 'memory';
process.stdout.write(
  [
    '',
    `  threadlink CRM example (${config.mode} mode) — open ${app.url}`,
    config.mode === 'demo'
      ? `  Emulated mailboxes: Gmail ${app.demo?.mailboxes.gmail}, Outlook ${app.demo?.mailboxes.outlook}`
      : `  Webhooks and OAuth callback under ${config.publicUrl}/threadlink`,
    `  Storage: ${storage}`,
    '  Press Ctrl-C to stop.',
    '',
    '',
  ].join('\n'),
);
