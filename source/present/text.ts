import { type SafeText, safeBlock, safeLine } from "./safe-text.js";
import { isSimpleText, textWidth } from "./text-width.js";

/**
 * Display-width aware text helpers. Everything that reaches the terminal from
 * a snapshot goes through `cell`/`clip` (one line) or `wrapLines` (multi-line): they
 * sanitize first and return SafeText, the only text the detail view's lines take.
 */

// Made on first need: creating a segmenter loads ICU's break rules, tens of ms at start-up for
// a one-shot command whose text is nearly always ASCII.
let graphemes: Intl.Segmenter | undefined;

// Printable ASCII is one column a character: most cells are, and string-width's
// general path (grapheme and emoji regexes) was a visible share of every frame.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

// The same cells are measured frame after frame (a table redraws ~10 times a
// second): remember the widths of recent non-ASCII strings. Bounded: cleared
// when full, so a long session's memory does not grow with what it has shown.
const widths = new Map<string, number>();
const WIDTH_CACHE_SIZE = 4096;

export function displayWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let width = widths.get(text);
  if (width === undefined) {
    width = textWidth(text);
    if (widths.size >= WIDTH_CACHE_SIZE) widths.clear();
    widths.set(text, width);
  }
  return width;
}

function* eachGrapheme(text: string): Generator<string> {
  // Each printable ASCII character is a grapheme of its own, and so is each of isSimpleText's.
  if (PRINTABLE_ASCII.test(text) || isSimpleText(text)) {
    yield* text;
    return;
  }
  graphemes ??= new Intl.Segmenter("en", { granularity: "grapheme" });
  for (const { segment } of graphemes.segment(text)) yield segment;
}

/** Cut `text` (already one clean line) to at most `width` columns; adds "…" when cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return "";
  if (displayWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const g of eachGrapheme(text)) {
    const w = displayWidth(g);
    if (used + w > width - 1) break;
    out += g;
    used += w;
  }
  return `${out}…`;
}

/** Pad (or cut) a clean line to exactly `width` columns. */
export function pad(text: string, width: number, align: "left" | "right" = "left"): string {
  const cut = truncate(text, width);
  const gap = Math.max(0, width - displayWidth(cut));
  return align === "right" ? " ".repeat(gap) + cut : cut + " ".repeat(gap);
}

/** Untrusted text → one sanitized line of exactly `width` columns. */
export function cell(text: string | undefined, width: number, align: "left" | "right" = "left"): SafeText {
  return pad(safeLine(text), width, align) as SafeText;
}

/** Untrusted text → one sanitized line cut to `width` (not padded). */
export function clip(text: string | undefined, width: number): SafeText {
  return truncate(safeLine(text), width) as SafeText;
}

/**
 * Untrusted text → one sanitized line cut to `width` in its middle
 * ("~/.openclaw/…/federation"): for paths, whose start and end both matter.
 */
export function clipMiddle(text: string | undefined, width: number): SafeText {
  const clean = safeLine(text);
  if (width <= 0) return "" as SafeText;
  if (displayWidth(clean) <= width) return clean;
  const all = [...eachGrapheme(clean)];
  const headRoom = Math.ceil((width - 1) / 2);
  let head = "";
  let used = 0;
  for (const g of all) {
    const w = displayWidth(g);
    if (used + w > headRoom) break;
    head += g;
    used += w;
  }
  let tail = "";
  for (const g of all.reverse()) {
    const w = displayWidth(g);
    if (used + 1 + w > width) break;
    tail = g + tail;
    used += w;
  }
  return `${head}…${tail}` as SafeText;
}

/** Hard-split one word that is wider than the line, filling the current line first. */
function splitWord(word: string, width: number, firstRoom: number): string[] {
  const parts: string[] = [];
  let part = "";
  let used = 0;
  let room = firstRoom;
  for (const g of eachGrapheme(word)) {
    const w = displayWidth(g);
    if (used + w > room) {
      parts.push(part);
      part = "";
      used = 0;
      room = width;
    }
    part += g;
    used += w;
  }
  parts.push(part);
  return parts;
}

/** Untrusted, possibly multi-line text → sanitized lines no wider than `width`. */
export function wrapLines(text: string | undefined, width: number): SafeText[] {
  const w = Math.max(1, width);
  const out: SafeText[] = [];
  const push = (line: string) => out.push(line.trimEnd() as SafeText);
  for (const paragraph of safeBlock(text).split(/\r?\n|\r/)) {
    let line = "";
    let used = 0;
    for (const token of paragraph.split(/(\s+)/)) {
      if (token === "") continue;
      const tw = displayWidth(token);
      if (/^\s+$/.test(token)) {
        if (used > 0 && used + tw <= w) {
          line += token;
          used += tw;
        }
        continue;
      }
      if (used + tw <= w) {
        line += token;
        used += tw;
        continue;
      }
      if (tw <= w) {
        push(line);
        line = token;
        used = tw;
        continue;
      }
      const parts = splitWord(token, w, w - used);
      const first = parts.shift() ?? "";
      line += first;
      for (const part of parts) {
        push(line);
        line = part;
      }
      used = displayWidth(line);
    }
    push(line);
  }
  return out;
}

/** "4s", "12m", "3h", "2d"; clock skew never shows a negative age. */
export function formatAge(fromIso: string | undefined, now: number): string {
  if (!fromIso) return "—";
  const then = Date.parse(fromIso);
  if (Number.isNaN(then)) return "?";
  return formatDuration(Math.max(0, now - then));
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** Precise duration for the detail view: "850 ms", "4.2 s", "3 min 5 s" (shared with the CLI). */
export { formatElapsed } from "../core/domain/durations.js";
