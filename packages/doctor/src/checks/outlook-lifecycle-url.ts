// lifecycleNotificationUrl is validated exactly like the notification URL when a subscription is
// created; without it, reauthorizationRequired / subscriptionRemoved / missed events are lost.
import type { DoctorCheck } from '../check.js';
import { validationHandshake } from '../http/validation-handshake.js';
import { webhookUrl } from '../public-url.js';
import { skip } from '../report.js';

export const outlookLifecycleUrl: DoctorCheck = {
  id: 'microsoft.lifecycle-url',
  area: 'microsoft',
  title: 'Lifecycle URL answers Graph’s validation handshake',
  variables: ['THREADLINK_PUBLIC_URL'],
  async run(context) {
    if (!context.publicUrl.ok) return skip('Needs a valid THREADLINK_PUBLIC_URL (see public-url).');
    return validationHandshake(context.config.fetch, webhookUrl(context.publicUrl.base, 'outlook', 'lifecycle'), context.config.timeouts.validationMs);
  },
};
