#!/usr/bin/env node
// `threadlink-doctor` / `pnpm doctor`: reads the deployment's environment, runs every check,
// prints a pass/warn/fail/skip list with fixes (or --json), and exits 1 when a check failed.
// No top-level await: the same file also builds as CommonJS.
import { ENVIRONMENT_VARIABLES, doctorConfigFromEnv } from './config.js';
import { formatReport } from './format.js';
import { runDoctor } from './run.js';

const USAGE = `Usage: threadlink-doctor [--json]

Checks a threadlink deployment's configuration, read from the environment the app runs with,
and prints the fix for every problem. Exit code 1 when any check fails.

  --json   print the report as JSON
  --help   show this help

Environment:
${ENVIRONMENT_VARIABLES.map(([name, meaning]) => `  ${name}\n      ${meaning}`).join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((argument) => argument !== '--json' && argument !== '--help' && argument !== '-h');
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (unknown.length > 0) {
    process.stderr.write(`Unknown argument${unknown.length === 1 ? '' : 's'}: ${unknown.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const report = await runDoctor(doctorConfigFromEnv(process.env));
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(formatReport(report, { color: process.stdout.isTTY === true && !process.env.NO_COLOR }));
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`threadlink-doctor: ${(error as Error).message}\n`);
    process.exitCode = 2;
  },
);
