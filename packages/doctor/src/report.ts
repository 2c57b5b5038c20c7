// The doctor's vocabulary: each check ends in pass, warn, fail or skip, and every fail or warn
// carries the fix in one or two sentences, so the report is a to-do list rather than a log.
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export type CheckArea = 'general' | 'google' | 'microsoft';

export interface CheckOutcome {
  status: CheckStatus;
  /** What the doctor found (never a secret). */
  detail: string;
  /** What to change, in one or two sentences. Present on every fail and warn. */
  fix?: string;
}

export interface CheckResult extends CheckOutcome {
  id: string;
  area: CheckArea;
  title: string;
  /** The environment variables the check reads (see DoctorCheck.variables). */
  variables: readonly string[];
  durationMs: number;
}

export interface DoctorReport {
  /** False when any check failed (warnings and skips do not fail a run). */
  ok: boolean;
  counts: Record<CheckStatus, number>;
  checks: CheckResult[];
  /** ISO timestamp of the run. */
  checkedAt: string;
}

export const pass = (detail: string): CheckOutcome => ({ status: 'pass', detail });
export const skip = (detail: string): CheckOutcome => ({ status: 'skip', detail });
export const fail = (detail: string, fix: string): CheckOutcome => ({ status: 'fail', detail, fix });
export const warn = (detail: string, fix: string): CheckOutcome => ({ status: 'warn', detail, fix });
