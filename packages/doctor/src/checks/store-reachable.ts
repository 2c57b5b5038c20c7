import type { DoctorCheck } from '../check.js';
import { pass, skip } from '../report.js';

export const storeReachable: DoctorCheck = {
  id: 'store-reachable',
  area: 'general',
  title: 'Store is reachable',
  variables: ['DATABASE_URL or THREADLINK_DATA_DIR'],
  async run(context) {
    const opened = await context.store();
    if (!opened) return skip('No store configured for the doctor (DATABASE_URL or THREADLINK_DATA_DIR); memoryStore keeps nothing to check.');
    if (!opened.ok) return opened.outcome;
    return pass(`${opened.label} answers.`);
  },
};
