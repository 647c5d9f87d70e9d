/**
 * Self time by function from a .cpuprofile (what Chrome's "Bottom-Up" view shows), or by source
 * line with --lines (from V8's position ticks; exact on compiled JS, see profile.ts).
 *
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile> [top] [--lines]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly positionTicks?: readonly { readonly line: number; readonly ticks: number }[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const args = process.argv.slice(2);
const lines = args.includes('--lines');
const [file, topArg = '25'] = args.filter((a) => a !== '--lines');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const short = (url: string) => url.replace(/^.*\/(src|bench|node_modules)\//, '$1/');
const self = new Map<string, number>();
let total = 0;

if (lines) {
  for (const n of profile.nodes) {
    for (const t of n.positionTicks ?? []) {
      const key = `${short(n.callFrame.url)}:${t.line} ${n.callFrame.functionName || '(anonymous)'}`;
      self.set(key, (self.get(key) ?? 0) + t.ticks);
      total += t.ticks;
    }
  }
  // Ticks without a position (the garbage collector, natives) as one figure, for scale.
  const positioned = total;
  const all = profile.samples.length;
  self.set('(no position: GC, natives, idle)', all - positioned);
  total = all;
} else {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, k) => {
    const dt = profile.timeDeltas[k] ?? 0;
    const f = byId.get(id)!.callFrame;
    const where = f.url ? `${short(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
}
const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg));
const unit = lines ? 'ticks' : 'ms';
for (const [key, v] of top) {
  const shown = lines ? v : v / 1e3;
  console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${shown.toFixed(0).padStart(6)} ${unit}  ${key}`);
}
