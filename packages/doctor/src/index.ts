// @threadlink/doctor — checks a threadlink deployment's configuration (Pub/Sub topic, grant and
// push subscription; Graph validation handshake; redirect URI; sealing keys; store) and says
// how to fix each problem. `runDoctor(config)` for code, `threadlink-doctor` for people.
export { runDoctor } from './run.js';
export {
  doctorConfigFromEnv,
  parseSealingKeyList,
  ENVIRONMENT_VARIABLES,
  type DoctorConfig,
  type GoogleSettings,
  type MicrosoftSettings,
  type StoreSettings,
} from './config.js';
export { formatReport } from './format.js';
export { CHECKS } from './checks/index.js';
export type { DoctorCheck } from './check.js';
export type { DoctorContext } from './context.js';
export type { CheckArea, CheckOutcome, CheckResult, CheckStatus, DoctorReport } from './report.js';
