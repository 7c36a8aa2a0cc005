/**
 * string-width with a memory, for Ink and the packages it measures with (their imports
 * of string-width are pointed here: load-tui.ts, and the bundle's esbuild plugin). Our
 * own text helpers measure with core/text-width.ts, which avoids loading string-width.
 *
 * Ink measures every text node of every frame from scratch: `widestLine` on the whole
 * row, then each character of the output grid, with a cache that lives one frame. For a
 * row with any non-ASCII character (CJK text, "→", "›", "…") string-width segments the
 * row into graphemes and runs emoji regexes over each: with 10 000 tasks updating 10×/s
 * that was a large share of every frame, for rows that had not changed. The widths of
 * recent strings are kept here, bounded (recent-cache.ts), so a long session's memory
 * does not grow with what it has shown.
 */
import stringWidth, { type Options } from "string-width";
import { simpleCharWidth } from "../present/text-width.js";
import { RecentCache } from "./recent-cache.js";

// Printable ASCII is one column a character: no lookup needed.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
// A screen's rows and the distinct characters on it: ~250 strings a frame at 120×40.
const widths = new RecentCache<string, number>(512);
/** Longer strings are measured without being kept (a wrapped reply, a whole screen). */
const MAX_CACHED_LENGTH = 1024;

export default function cachedStringWidth(text: string, options?: Options): number {
  // Options change the answer (wrap-ansi counts escape codes): not cached.
  if (options !== undefined || typeof text !== "string" || text.length > MAX_CACHED_LENGTH)
    return stringWidth(text, options);
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let width = widths.get(text);
  if (width === undefined) {
    width = simpleWidth(text) ?? stringWidth(text);
    widths.set(text, width);
  }
  return width;
}

/**
 * The width of text made only of characters whose width never depends on their neighbours
 * (ASCII, Latin, punctuation, arrows, box drawing, CJK: text-width.ts), by adding them up;
 * undefined for anything else. string-width segments every string into graphemes first: for
 * a changed row of CJK text that was most of what a frame allocated in Ink's measuring.
 * Not text-width's textWidth: its fallback imports string-width, which the control center
 * points back here.
 */
function simpleWidth(text: string): number | undefined {
  let width = 0;
  for (let i = 0; i < text.length; i++) {
    const w = simpleCharWidth(text.charCodeAt(i));
    if (w === undefined) return undefined;
    width += w;
  }
  return width;
}
