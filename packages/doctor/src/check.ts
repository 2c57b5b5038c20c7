import type { DoctorContext } from './context.js';
import type { CheckArea, CheckOutcome } from './report.js';

/** One diagnosis: an id for --json consumers, a title for people, and the function that decides. */
export interface DoctorCheck {
  id: string;
  area: CheckArea;
  title: string;
  /** The environment variables (as `threadlink-doctor` reads them) this check needs; printed with a fail or skip. */
  variables: readonly string[];
  run(context: DoctorContext): Promise<CheckOutcome>;
}
