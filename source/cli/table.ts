import { sanitizeLine } from "../core/sanitize.js";
import { textWidth } from "../core/text-width.js";

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Cut to a display width (CJK and emoji count double), adding … when cut. */
export function truncateToWidth(text: string, width: number): string {
  if (width <= 0) return "";
  // Printable ASCII is one column per character: no need to measure.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
  if (textWidth(text) <= width) return text;
  // Whole graphemes: "❤️" or a family emoji is one picture of several code points, drawn 2 wide.
  let out = "";
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = textWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}

export function padToWidth(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - textWidth(text)));
}

export interface Column {
  header: string;
  /** Upper bound for this column's width. */
  max?: number;
  /** Left out when the table does not fit its width: 1 goes first, then 2… (none: always kept). */
  dropOrder?: number;
  /** Given the width the others leave, down to 12 columns, once dropping is not enough. */
  flexible?: boolean;
}

const GAP = 2;
const MIN_FLEXIBLE = 12;
const PREFERRED_FLEXIBLE = 40;

/**
 * A plain-text table aligned by display width; every cell is sanitized. With `width` (a
 * terminal's), it fits: the flexible column (a reason, a description) is cut to a comfortable
 * width first, then the least useful columns are left out, then the flexible one is cut
 * further (to 12). A terminal narrower than the columns that are always kept still wraps.
 */
export function renderTable(columns: Column[], rows: string[][], options: { width?: number } = {}): string {
  const cells = rows.map((row) =>
    row.map((cell, i) => truncateToWidth(sanitizeLine(cell), columns[i]?.max ?? 60)),
  );
  let widths = columns.map((c, i) =>
    Math.max(textWidth(c.header), ...cells.map((r) => textWidth(r[i] ?? ""))),
  );
  let shown = columns.map((_, i) => i);
  const total = () => shown.reduce((sum, i) => sum + (widths[i] ?? 0), 0) + GAP * (shown.length - 1);
  if (options.width !== undefined) {
    const width = options.width;
    const flex = shown.find((i) => columns[i]?.flexible);
    // Cut the flexible column to the width it is to have at most, first to a comfortable
    // PREFERRED_FLEXIBLE (one long reason must not push every other column out), later further.
    const shrinkFlexible = (floor: number) => {
      if (flex === undefined || total() <= width) return;
      const room = Math.max(floor, (widths[flex] ?? 0) - (total() - width));
      widths = widths.map((w, i) => (i === flex ? Math.min(w, room) : w));
    };
    shrinkFlexible(PREFERRED_FLEXIBLE);
    const droppable = shown
      .filter((i) => columns[i]?.dropOrder !== undefined)
      .sort((a, b) => (columns[a]?.dropOrder ?? 0) - (columns[b]?.dropOrder ?? 0));
    for (const i of droppable) {
      if (total() <= width) break;
      shown = shown.filter((j) => j !== i);
    }
    shrinkFlexible(MIN_FLEXIBLE);
  }
  const line = (values: string[]) =>
    shown
      .map((i, n) => {
        const v =
          i === shown.find((j) => columns[j]?.flexible)
            ? truncateToWidth(values[i] ?? "", widths[i] ?? 0)
            : (values[i] ?? "");
        return n === shown.length - 1 ? v : padToWidth(v, widths[i] ?? 0);
      })
      .join(" ".repeat(GAP))
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
}
