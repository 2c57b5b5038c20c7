import type { DoctorCheck } from '../check.js';
import { fail, pass } from '../report.js';

export const providersConfigured: DoctorCheck = {
  id: 'providers-configured',
  area: 'general',
  title: 'A mail provider is configured',
  variables: ['GOOGLE_CLIENT_ID', 'MICROSOFT_CLIENT_ID'],
  async run({ config }) {
    const configured = [config.google ? 'Gmail' : null, config.microsoft ? 'Outlook' : null].filter((name): name is string => name !== null);
    if (configured.length === 0) {
      return fail(
        'Neither Gmail nor Outlook is configured (no GOOGLE_CLIENT_ID/GOOGLE_PUBSUB_TOPIC… and no MICROSOFT_CLIENT_ID… variables).',
        'Run the doctor with the same environment as the app, with the GOOGLE_* variables for Gmail and/or the MICROSOFT_* ones for Outlook.',
      );
    }
    return pass(`${configured.join(' and ')} configured.`);
  },
};
