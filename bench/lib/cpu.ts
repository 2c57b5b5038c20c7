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

/**
 * CPU milliseconds used so far by every process whose command name matches, and by their ended
 * children (Linux /proc; null elsewhere). Used to charge the database server's work to the messages
 * that caused it. A server's connection processes come and go (a pool closes idle connections): the
 * CPU of one that ended is in its parent's cutime/cstime once reaped (PostgreSQL's postmaster reaps
 * its backends), so the total only grows; live processes alone made a window's figure negative.
 */
export async function processesCpuMs(name: RegExp): Promise<number | null> {
  const { readdir, readFile } = await import('node:fs/promises');
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return null;
  }
  // USER_HZ is 100 on every mainstream Linux build.
  const tick = 10;
  let total = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const command = stat.slice(stat.indexOf('(') + 1, close);
      if (!name.test(command)) continue;
      const fields = stat.slice(close + 2).split(' ');
      // After "pid (comm) ": state is field 0, utime 11, stime 12, cutime 13, cstime 14 (stat fields 14–17).
      total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * tick;
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}
