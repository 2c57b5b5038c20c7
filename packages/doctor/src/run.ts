import type { DoctorCheck } from './check.js';
import { CHECKS } from './checks/index.js';
import { resolveDoctorConfig, type DoctorConfig } from './config.js';
import { createContext } from './context.js';
import { fail, skip, type CheckOutcome, type CheckResult, type CheckStatus, type DoctorReport } from './report.js';

const NOT_CONFIGURED: Record<string, string> = {
  google: 'Gmail is not configured (no GOOGLE_* variables).',
  microsoft: 'Outlook is not configured (no MICROSOFT_* variables).',
};

/**
 * Runs every check against the host's configuration and returns the report; it never throws
 * for a finding (only for a config object of the wrong shape). Read-only: it opens the store
 * without migrating it, reads Pub/Sub with GETs, and sends the webhooks only requests that
 * threadlink answers without side effects (an unauthenticated push, a validation handshake).
 */
export async function runDoctor(input: DoctorConfig, options: { checks?: readonly DoctorCheck[] } = {}): Promise<DoctorReport> {
  const config = resolveDoctorConfig(input);
  const context = createContext(config);
  const checks: CheckResult[] = [];
  try {
    for (const check of options.checks ?? CHECKS) {
      const started = performance.now();
      let outcome: CheckOutcome;
      if ((check.area === 'google' && !config.google) || (check.area === 'microsoft' && !config.microsoft)) {
        outcome = skip(NOT_CONFIGURED[check.area]!);
      } else {
        try {
          outcome = await check.run(context);
        } catch (error) {
          outcome = fail(
            `The check itself failed: ${(error as Error).message}`,
            'Unexpected: run the doctor again; if it repeats, report it with the --json output (it contains no secrets).',
          );
        }
      }
      const result: CheckResult = {
        id: check.id,
        area: check.area,
        title: check.title,
        variables: check.variables,
        ...outcome,
        durationMs: Math.round(performance.now() - started),
      };
      context.record(result);
      checks.push(result);
    }
  } finally {
    await context.close();
  }
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) counts[check.status] += 1;
  return { ok: counts.fail === 0, counts, checks, checkedAt: new Date().toISOString() };
}
