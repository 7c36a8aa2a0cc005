import { oneLine, type SafeText } from "./safe-text.js";
import { displayWidth, pad, truncate } from "./text.js";

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
 * A plain-text table aligned by display width; cells are sanitized text (SafeText). With `width` (a
 * terminal's), it fits: the flexible column (a reason, a description) is cut to a comfortable
 * width first, then the least useful columns are left out, then the flexible one is cut
 * further (to 12). A terminal narrower than the columns that are always kept still wraps.
 */
export function renderTable(columns: Column[], rows: SafeText[][], options: { width?: number } = {}): string {
  const cells = rows.map((row) => row.map((cell, i) => truncate(oneLine(cell), columns[i]?.max ?? 60)));
  let widths = columns.map((c, i) =>
    Math.max(displayWidth(c.header), ...cells.map((r) => displayWidth(r[i] ?? ""))),
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
  // pad() and truncate() also cut the flexible column to the width it was given.
  const line = (values: string[]) =>
    shown
      .map((i, n) => (n === shown.length - 1 ? truncate : pad)(values[i] ?? "", widths[i] ?? 0))
      .join(" ".repeat(GAP))
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
}
