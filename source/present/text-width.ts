import { createRequire } from "node:module";

/**
 * Columns a string takes in a terminal, without loading string-width for the usual case.
 *
 * string-width is exact (graphemes, emoji, Hangul jamo) but its import and first call
 * cost ~90 ms, a third of a one-shot `clawos status`. Text made only of ASCII, Latin
 * letters, punctuation such as "—·…→", box drawing and CJK needs none of that: each of
 * those characters is one or two columns by itself. Anything else (emoji, combining
 * marks, zero-width characters, jamo) goes to string-width, loaded on first need.
 * test/unit/present/text-width.test.ts checks every character of the fast ranges against string-width.
 */
const load = createRequire(import.meta.url);
let exact: ((text: string) => number) | undefined;

function exactWidth(text: string): number {
  // require() of an ES module: synchronous on the Node versions package.json accepts.
  exact ??= (load("string-width") as { default: (text: string) => number }).default;
  return exact(text);
}

/** Inclusive ranges of code units that are one column wide whatever surrounds them. */
const NARROW: readonly (readonly [number, number])[] = [
  // (printable ASCII is checked first, in simpleCharWidth)
  [0xa1, 0xac],
  [0xae, 0x2ff], // Latin-1 and Latin Extended, spacing modifiers (not the soft hyphen)
  [0x2010, 0x2027], // dashes, quotes, bullets, "…"
  [0x2030, 0x205e],
  [0x2190, 0x21ff], // arrows
  [0x2500, 0x259f], // box drawing and blocks
];

/** The same for two columns: CJK blocks, without their unassigned gaps and combining marks. */
const WIDE: readonly (readonly [number, number])[] = [
  [0x2e80, 0x2e99],
  [0x2e9b, 0x2ef3],
  [0x2f00, 0x2fd5],
  [0x2ff0, 0x3029],
  [0x3030, 0x303e],
  [0x3041, 0x3096],
  [0x309b, 0x30ff],
  [0x3105, 0x312f],
  [0x3131, 0x3163],
  [0x3165, 0x318e],
  [0x3190, 0x31e5],
  [0x31ef, 0x321e],
  [0x3220, 0x3247],
  [0x3250, 0x4dbf],
  [0x4e00, 0xa48c],
  [0xa490, 0xa4c6],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff01, 0xff60],
  [0xffe0, 0xffe6],
];

const inRanges = (c: number, ranges: readonly (readonly [number, number])[]) =>
  ranges.some(([from, to]) => c >= from && c <= to);

/** 1 or 2 for a UTF-16 code unit whose width never depends on its neighbours; undefined otherwise. */
export function simpleCharWidth(c: number): 1 | 2 | undefined {
  if (c >= 0x20 && c <= 0x7e) return 1;
  if (inRanges(c, NARROW)) return 1;
  if (inRanges(c, WIDE)) return 2;
  return undefined;
}

/**
 * Whether each UTF-16 code unit of `text` is a grapheme by itself, so the text can be cut
 * anywhere without `Intl.Segmenter` (whose first use loads ICU's break rules: ~23 ms of CPU
 * for a one-shot command showing one CJK description). True of text made only of the ranges
 * above: none is a combining mark, joiner, control, surrogate, prepended or spacing mark,
 * conjoining jamo or regional indicator, the characters that join their neighbours
 * (text-width.test.ts segments every one of them among the others).
 */
export function isSimpleText(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (simpleCharWidth(text.charCodeAt(i)) === undefined) return false;
  return true;
}

export function textWidth(text: string): number {
  let width = 0;
  for (let i = 0; i < text.length; i++) {
    const w = simpleCharWidth(text.charCodeAt(i));
    if (w === undefined) return exactWidth(text);
    width += w;
  }
  return width;
}
