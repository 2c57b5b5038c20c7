// The human report: one line per check, grouped by area, with the fix under every fail and warn.
import type { CheckArea, CheckStatus, DoctorReport } from './report.js';

const AREA_TITLES: Record<CheckArea, string> = { general: 'General', google: 'Google (Gmail)', microsoft: 'Microsoft (Outlook)' };
const LABELS: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };
const COLORS: Record<CheckStatus, string> = { pass: '\u001b[32m', warn: '\u001b[33m', fail: '\u001b[31m', skip: '\u001b[90m' };

export function formatReport(report: DoctorReport, options: { color?: boolean } = {}): string {
  const paint = (status: CheckStatus, text: string): string => (options.color ? `${COLORS[status]}${text}\u001b[0m` : text);
  const lines: string[] = [];
  const { pass, warn, fail, skip } = report.counts;
  lines.push(`threadlink doctor: ${pass} passed, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed, ${skip} skipped`);
  for (const area of ['general', 'google', 'microsoft'] as const) {
    const checks = report.checks.filter((check) => check.area === area);
    if (checks.length === 0) continue;
    lines.push('', AREA_TITLES[area]);
    for (const check of checks) {
      lines.push(`  ${paint(check.status, LABELS[check.status])}  ${check.title} [${check.id}]`);
      lines.push(`        ${check.detail}`);
      if (check.fix) lines.push(`        ${paint(check.status, 'Fix:')} ${check.fix}`);
      // A newcomer's first run is mostly skips and fails for settings not made yet: name them.
      if ((check.status === 'fail' || check.status === 'skip') && check.variables.length > 0) lines.push(`        Needs: ${check.variables.join(', ')}`);
    }
  }
  lines.push('', report.ok ? 'No check failed.' : `${fail} check${fail === 1 ? '' : 's'} failed: apply the fixes above and run the doctor again.`);
  return `${lines.join('\n')}\n`;
}
