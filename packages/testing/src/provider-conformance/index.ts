// runProviderConformance: the one suite every MailProvider adapter must pass, as runStoreConformance
// is for stores. It drives the adapter the way a host does — createThreadlink's public API, the
// emulator's pushes arriving at `tl.handler` over HTTP — and controls the provider only through a
// ProviderConformanceDriver, so an adapter for a third provider passes the same cases by shipping
// a driver for its emulator.
import { afterEach, describe } from 'vitest';
import type { MailProvider } from '@threadlink/core/provider';
import type { MetadataStore } from '@threadlink/core';
import { backfillCases } from './cases/backfill.js';
import { liveSyncCases } from './cases/live-sync.js';
import { recoveryCases } from './cases/recovery.js';
import { sendAndBodyCases } from './cases/send-and-body.js';
import type { ProviderConformanceContext } from './context.js';
import type { ProviderConformanceDriver } from './driver.js';
import { openWorld, type ProviderWorld } from './world.js';

export interface ProviderConformanceOptions<Driver extends ProviderConformanceDriver = ProviderConformanceDriver> {
  /** Shown in the suite title, e.g. "gmail". */
  name: string;
  /** A fresh emulator behind its driver, for each test (the suite closes it). */
  emulator: () => Promise<Driver>;
  /** The adapter under test, configured for that emulator (short retry waits recommended). */
  makeProvider: (driver: Driver) => MailProvider;
  /** A fresh, empty store for each test (the suite closes it), e.g. `() => memoryStore()`. */
  makeStore: () => MetadataStore | Promise<MetadataStore>;
}

export function runProviderConformance<Driver extends ProviderConformanceDriver>(options: ProviderConformanceOptions<Driver>): void {
  describe(`MailProvider conformance: ${options.name}`, () => {
    let world: ProviderWorld | undefined;
    const context: ProviderConformanceContext = {
      async open(worldOptions) {
        if (world) throw new Error('open() was already called in this test');
        const driver = await options.emulator();
        try {
          world = await openWorld(driver, options.makeProvider, options.makeStore, worldOptions);
        } catch (error) {
          await driver.close();
          throw error;
        }
        return world;
      },
    };

    afterEach(async () => {
      const finished = world;
      world = undefined;
      await finished?.close();
    });

    liveSyncCases(context);
    recoveryCases(context);
    backfillCases(context);
    sendAndBodyCases(context);
  });
}

export type { ConformanceMail, ConformanceOrganization, ProviderConformanceDriver } from './driver.js';
