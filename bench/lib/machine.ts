// machine.ts describes the machine a benchmark ran on, so every result
// carries its context (and a hint of how noisy it was).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** MachineInfo is what the report header shows. */
export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  totalRamGiB: number;
  loadAvg: [number, number, number];
  node: string;
  kernel: string;
  prometheus: string;
}

/** machineInfo collects the machine description. */
export function machineInfo(prometheusBin: string): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    // keep os.cpus()'s answer
  }
  let prometheus = 'not installed';
  try {
    prometheus = execFileSync(prometheusBin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim();
  } catch {
    // left as not installed
  }
  const la = os.loadavg();
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpuModel,
    totalRamGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAvg: [la[0]!, la[1]!, la[2]!],
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    prometheus,
  };
}

/** describeMachine renders MachineInfo as markdown lines. */
export function describeMachine(m: MachineInfo): string {
  return [
    `- date: ${m.date}`,
    `- machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.totalRamGiB} GiB RAM, ${m.kernel}`,
    `- load average at start: ${m.loadAvg.map((x) => x.toFixed(2)).join(' ')}`,
    `- node ${m.node}; reference: ${m.prometheus}`,
  ].join('\n');
}
