// What every route needs: threadlink, the CRM, the demo (when running one) and who is asking.
import type { ProviderId, Threadlink, UserScope } from '@threadlink/core';
import type { AppConfig } from '../config.js';
import type { Crm } from '../crm.js';
import type { Demo } from '../demo.js';
import type { LiveEvents } from '../live-events.js';

export interface RouteContext {
  tl: Threadlink;
  crm: Crm;
  config: AppConfig;
  demo: Demo | null;
  live: LiveEvents;
  /** Providers this server has credentials (or emulators) for. */
  providers: ProviderId[];
  /**
   * The signed-in user. The example has no login: one configured user owns the page. A host
   * takes tenant and user from its session instead, and every read below is scoped by them.
   */
  scope: UserScope;
  /** Where browsers reach this app. */
  origin: string;
}
