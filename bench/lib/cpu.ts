// Whole-machine CPU use over an interval (all processes: the SDK, PostgreSQL, Redis, the emulators
// and anything else running), to tell "the SDK is slow" from "the box is full".
import os from 'node:os';

export interface CpuWindow {
  /** Busy share of all cores, 0..1. */
  stop(): number;
}

function totals(): { busy: number; all: number } {
  let busy = 0;
  let all = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, irq, idle } = cpu.times;
    busy += user + nice + sys + irq;
    all += user + nice + sys + irq + idle;
  }
  return { busy, all };
}

export function machineCpu(): CpuWindow {
  const start = totals();
  return {
    stop() {
      const end = totals();
      const all = end.all - start.all;
      return all > 0 ? Math.round(((end.busy - start.busy) / all) * 100) / 100 : Number.NaN;
    },
  };
}
