#!/usr/bin/env node
// `threadlink-doctor` / `pnpm doctor`: reads the deployment's environment, runs every check,
// prints a pass/warn/fail/skip list with fixes (or --json), and exits 1 when a check failed.
// No top-level await: the same file also builds as CommonJS.
import { existsSync } from 'node:fs';
import { ENVIRONMENT_VARIABLES, doctorConfigFromEnv } from './config.js';
import { environmentWithFile } from './env-file.js';
import { formatReport } from './format.js';
import { runDoctor } from './run.js';

const USAGE = `Usage: threadlink-doctor [--env-file PATH] [--json]

Checks a threadlink deployment's configuration, read from the environment the app runs with,
and prints the fix for every problem. Exit code 1 when any check fails.

  --env-file PATH   read variables from this file too (default: ./.env when it exists);
                    variables already set in the environment win over the file
  --json            print the report as JSON
  --help            show this help

Environment:
${ENVIRONMENT_VARIABLES.map(([name, meaning]) => `  ${name}\n      ${meaning}`).join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let envFile: string | undefined;
  const unknown: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--json') continue;
    if (argument === '--env-file' || argument.startsWith('--env-file=')) {
      envFile = argument === '--env-file' ? argv[++index] : argument.slice('--env-file='.length);
      if (!envFile) {
        process.stderr.write(`--env-file needs a path\n\n${USAGE}`);
        return 2;
      }
      continue;
    }
    unknown.push(argument);
  }
  if (unknown.length > 0) {
    process.stderr.write(`Unknown argument${unknown.length === 1 ? '' : 's'}: ${unknown.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  if (envFile !== undefined && !existsSync(envFile)) {
    process.stderr.write(`threadlink-doctor: no such env file: ${envFile}\n`);
    return 2;
  }
  const file = envFile ?? (existsSync('.env') ? '.env' : undefined);
  const environment = file ? environmentWithFile(file, process.env) : process.env;
  if (file && !argv.includes('--json')) process.stdout.write(`Reading ${file} (variables set in the environment win).\n`);
  const report = await runDoctor(doctorConfigFromEnv(environment));
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
