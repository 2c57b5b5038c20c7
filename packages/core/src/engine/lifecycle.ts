// Running threadlink in a process: the worker (unless this is a web-only instance) and the timer
// that runs maintain(), both stopped together.
import type { MaintenanceReport } from '../api.js';
import type { CoreContext } from '../context.js';

/** How often start() runs maintain() unless `maintenanceIntervalMs` says otherwise. */
const DEFAULT_MAINTENANCE_INTERVAL_MS = 60_000;
/** How long stop() lets running jobs finish unless `shutdownGraceMs` says otherwise. */
const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export function createLifecycle(context: CoreContext, maintain: () => Promise<MaintenanceReport>) {
  const { config, engine, logger, queue } = context;
  let maintenanceTimer: ReturnType<typeof setInterval> | undefined;
  return {
    async start(): Promise<void> {
      await context.init();
      if (config.runWorker ?? true) engine.start();
      const interval = config.maintenanceIntervalMs ?? DEFAULT_MAINTENANCE_INTERVAL_MS;
      if (interval > 0 && !maintenanceTimer) {
        maintenanceTimer = setInterval(() => void maintain().catch((error) => logger.error('maintenance failed', { error })), interval);
        maintenanceTimer.unref?.();
      }
    },
    async stop(): Promise<void> {
      if (maintenanceTimer) clearInterval(maintenanceTimer);
      maintenanceTimer = undefined;
      await engine.stop(config.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
    },
    idle: (): Promise<void> => queue.idle(),
  };
}
