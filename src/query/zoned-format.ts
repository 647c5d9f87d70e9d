/**
 * `YYYY-MM-DD HH:mm:ss +0800` in one time zone, seconds truncated (SPEC §3.2). A status answer
 * formats two timestamps per node and most of them fall on few distinct seconds (nodes of one
 * flow start and finish together), so the text of each second is kept in a small direct-mapped
 * memo: one array read and one compare on a hit.
 */
import { localTimeText } from './time-text.js';
import { ZoneOffsets } from './zone-offset.js';

const SLOTS = 4096;
const SLOT_MASK = SLOTS - 1;

export class ZonedTimeFormat {
  private readonly offsets: ZoneOffsets;
  private readonly memoSecond = new Float64Array(SLOTS).fill(Number.NaN);
  private readonly memoText: string[] = new Array<string>(SLOTS).fill('');

  constructor(readonly zone: string) {
    this.offsets = new ZoneOffsets(zone);
  }

  /** The local time of the instant `ms`. */
  format(ms: number): string {
    const second = Math.floor(ms / 1000);
    // `&` keeps the low bits of any integer, negative ones included: always a slot.
    const slot = second & SLOT_MASK;
    if (this.memoSecond[slot] === second) return this.memoText[slot];
    const text = localTimeText(second, this.offsets.secondsAt(second * 1000));
    this.memoSecond[slot] = second;
    this.memoText[slot] = text;
    return text;
  }
}
