import { sanitizeLine } from "../core/sanitize.js";
import { textWidth } from "../core/text-width.js";

/** Cut to a display width (CJK and emoji count double), adding … when cut. */
export function truncateToWidth(text: string, width: number): string {
  if (width <= 0) return "";
  // Printable ASCII is one column per character: no need to measure.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
  if (textWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const ch of text) {
    const w = textWidth(ch);
    if (used + w > width - 1) break;
    out += ch;
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

/**
 * A plain-text table aligned by display width; every cell is sanitized. With `width` (a
 * terminal's), it fits: the least useful columns are left out first, then the flexible one
 * (a reason, a description) is cut shorter, so rows never wrap.
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
    const droppable = shown
      .filter((i) => columns[i]?.dropOrder !== undefined)
      .sort((a, b) => (columns[a]?.dropOrder ?? 0) - (columns[b]?.dropOrder ?? 0));
    for (const i of droppable) {
      if (total() <= options.width) break;
      shown = shown.filter((j) => j !== i);
    }
    const flex = shown.find((i) => columns[i]?.flexible);
    if (flex !== undefined && total() > options.width) {
      const room = Math.max(MIN_FLEXIBLE, (widths[flex] ?? 0) - (total() - options.width));
      widths = widths.map((w, i) => (i === flex ? Math.min(w, room) : w));
    }
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
