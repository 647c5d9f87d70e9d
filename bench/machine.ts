/** The machine line every results table is printed with: ratios travel, absolute figures do not. */
import os from 'node:os';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memory: string;
  readonly node: string;
  readonly os: string;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memory: `${Math.round(os.totalmem() / 1024 ** 3)} GiB`,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

export const machineLine = (m: Machine): string => `${m.cpu}, ${m.cores} cores, ${m.memory} RAM, Node.js ${m.node}, ${m.os}`;
