/**
 * Display width of text in a terminal, so that columns line up when node names are Chinese (as
 * bk-sops names often are) or carry emoji: text is measured by grapheme cluster (what the
 * terminal draws as one character), and East Asian wide and fullwidth characters and emoji take
 * two cells. Also what must never reach a terminal raw: control characters are shown escaped.
 */

// [from, to] code point ranges of wide characters (Unicode East Asian Width W and F, the common blocks).
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f200, 0x1f2ff],
  [0x20000, 0x3fffd],
];

const isWide = (cp: number): boolean => WIDE.some(([from, to]) => cp >= from && cp <= to);

/** Emoji drawn as pictures: emoji presentation by default, or asked for with VS16 (U+FE0F). */
const EMOJI = /\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F/u;
/** A cluster that is only combining marks or format characters (ZWJ, zero-width space): no cell. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]+$/u;
// Control characters: C0, DEL and C1.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

// ANSI colour sequences take no cells.
const ANSI = /\x1b\[[0-9;]*m/g;
const ANSI_SPLIT = /(\x1b\[[0-9;]*m)/;

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

const graphemes = (text: string): string[] => Array.from(segmenter.segment(text), (s) => s.segment);

/** Cells one grapheme cluster takes. */
function clusterWidth(g: string): number {
  const cp = g.codePointAt(0)!;
  if (CONTROL.test(g[0])) return 0;
  if (EMOJI.test(g) || isWide(cp)) return 2;
  return ZERO_WIDTH.test(g) ? 0 : 1;
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const g of graphemes(text.replace(ANSI, ''))) width += clusterWidth(g);
  return width;
}

export const padEnd = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - displayWidth(text)));

/**
 * Cuts text to at most `width` cells, marking the cut with an ellipsis. Colour sequences are
 * kept and cost nothing; a cut text that carried any ends with a reset, so no colour leaks.
 */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  let coloured = false;
  for (const [k, part] of text.split(ANSI_SPLIT).entries()) {
    if (k % 2 === 1) {
      out += part;
      coloured = true;
      continue;
    }
    for (const g of graphemes(part)) {
      const w = clusterWidth(g);
      if (used + w > width - 1) return `${out}…${coloured ? '\x1b[0m' : ''}`;
      out += g;
      used += w;
    }
  }
  return `${out}…${coloured ? '\x1b[0m' : ''}`;
}

const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['\t', '\\t'],
  ['\n', '\\n'],
  ['\r', '\\r'],
]);

/**
 * Text as it may be drawn: tabs, newlines and every other control character written as escapes
 * (`\t`, `\x1b`), so data from a server can neither shift the columns nor drive the terminal.
 */
export const escapeControls = (text: string): string =>
  text.replace(CONTROLS, (c) => ESCAPES.get(c) ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
