// runStoreConformance: the one suite every MetadataStore backend must pass (the Auth.js adapter
// pattern). It registers vitest blocks; `raw(store).dump()` exposes the physically stored rows,
// so atomicity, purge and the privacy canary are checked on what was really written.
import { afterEach, beforeEach, describe } from 'vitest';
import type { MetadataStore } from '@threadlink/core/store';
import { connectionCases } from './cases/connections.js';
import { coordinationCases } from './cases/coordination.js';
import { labelCases } from './cases/labels.js';
import { linkCases } from './cases/links.js';
import { offboardingCases } from './cases/offboarding.js';
import { organizationCases } from './cases/organizations.js';
import { policyCases } from './cases/policies.js';
import { participantCases } from './cases/participants.js';
import { privacyCases } from './cases/privacy.js';
import { queryCases } from './cases/queries.js';
import { syncCases } from './cases/sync.js';
import { syncRoundTripCases } from './cases/sync-round-trips.js';
import { tenancyCases } from './cases/tenancy.js';
import { timelineCases } from './cases/timeline.js';
import type { ConformanceContext } from './context.js';
import type { StoreRawAccess } from './raw.js';

export interface StoreConformanceOptions<Store extends MetadataStore = MetadataStore> {
  /** Shown in the suite title, e.g. "memory" or "postgres (PGlite)". */
  name: string;
  /** A fresh, initialised, empty store for each test (the suite closes it afterwards). */
  makeStore: () => Store | Promise<Store>;
  /** Physical access: every stored row per table/collection, indexes and side tables included. */
  raw: (store: Store) => StoreRawAccess;
}

export function runStoreConformance<Store extends MetadataStore>(options: StoreConformanceOptions<Store>): void {
  describe(`MetadataStore conformance: ${options.name}`, () => {
    let current: { store: Store; raw: StoreRawAccess } | undefined;
    const context: ConformanceContext = {
      get store() {
        if (!current) throw new Error('The store is only available inside a test');
        return current.store;
      },
      get raw() {
        if (!current) throw new Error('The raw rows are only available inside a test');
        return current.raw;
      },
    };

    beforeEach(async () => {
      const store = await options.makeStore();
      current = { store, raw: options.raw(store) };
    });

    afterEach(async () => {
      const finished = current;
      current = undefined;
      await finished?.store.close();
    });

    syncCases(context);
    syncRoundTripCases(context);
    linkCases(context);
    timelineCases(context);
    queryCases(context);
    participantCases(context);
    tenancyCases(context);
    connectionCases(context);
    coordinationCases(context);
    labelCases(context);
    offboardingCases(context);
    privacyCases(context);
    policyCases(context);
    organizationCases(context);
  });
}

export type { ConformanceContext } from './context.js';
export { canonicalRow, rowsMentioning, snapshot, stringsIn, type StoreRawAccess } from './raw.js';
export {
  FIXTURE_EPOCH,
  makeConnection,
  makeLink,
  makeManualLink,
  makeManualUnlink,
  makeMessage,
  makeRecord,
  uniqueId,
} from './fixtures.js';
