// The machine a run's figures came from; printed with every result file.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface MachineInfo {
  os: string;
  kernel: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  date: string;
  commit: string | null;
  postgres: 'DATABASE_URL' | 'PGlite (DATABASE_URL unset)';
  redis: 'REDIS_URL' | 'unset';
  /** 1/5/15-minute load averages when the run started: other work on the box skews every timing. */
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    commit = null;
  }
  return {
    os: `${os.type()} ${os.release()}`,
    kernel: os.version(),
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    date: new Date().toISOString(),
    commit,
    postgres: process.env.DATABASE_URL ? 'DATABASE_URL' : 'PGlite (DATABASE_URL unset)',
    redis: process.env.REDIS_URL ? 'REDIS_URL' : 'unset',
    loadAverage: os.loadavg().map((value) => Math.round(value * 100) / 100),
  };
}
