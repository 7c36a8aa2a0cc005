import { sanitizeLine } from "../core/infra/sanitize.js";
import { displayWidth } from "./text.js";

/** A cell's meaning; each face maps it to its own colours. */
export type Tone = "ok" | "warn" | "error" | "accent" | "muted" | "info";

/**
 * A table column. Columns are dropped from the highest `drop` number first
 * when the screen is too narrow; `flex` columns take what is left.
 */
export interface Column<Row> {
  id: string;
  header: string;
  /** 0 = never dropped; higher numbers go first. */
  drop: number;
  value: (row: Row) => string;
  tone?: (row: Row) => Tone | undefined;
  align?: "left" | "right";
  /** Takes leftover width (up to its content; the lowest `drop` first); shrinks down to `min`. */
  flex?: boolean;
  min?: number;
  max?: number;
}

export interface FittedColumn<Row> {
  column: Column<Row>;
  width: number;
}

export const COLUMN_GAP = 1;

/** How wide a cell is on screen: its value, sanitized, by display width. */
export function cellWidth<Row>(column: Column<Row>, row: Row): number {
  return displayWidth(sanitizeLine(column.value(row)));
}

/**
 * Choose the columns that fit `width` and their widths, measured by display
 * width over the rows that will be shown (only the visible window is passed in).
 * Values are sanitized before they are measured; `measure` may remember widths.
 */
export function fitColumns<Row>(
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  width: number,
  measure: (column: Column<Row>, row: Row) => number = cellWidth,
): FittedColumn<Row>[] {
  const content = new Map<Column<Row>, number>();
  for (const column of columns) {
    let widest = displayWidth(column.header);
    for (const row of rows) widest = Math.max(widest, measure(column, row));
    content.set(column, widest);
  }
  const natural = (c: Column<Row>): number => {
    const want = content.get(c) ?? 1;
    if (c.flex) return Math.max(1, Math.min(c.min ?? 8, want));
    return Math.max(c.min ?? 1, Math.min(c.max ?? Number.POSITIVE_INFINITY, want));
  };

  const chosen = new Set<Column<Row>>();
  let used = 0;
  for (const column of [...columns].sort((a, b) => a.drop - b.drop)) {
    const need = natural(column) + (chosen.size > 0 ? COLUMN_GAP : 0);
    if (used + need > width && column.drop > 0) continue;
    chosen.add(column);
    used += need;
  }

  const widths = new Map<Column<Row>, number>();
  for (const column of chosen) widths.set(column, natural(column));
  let leftover = Math.max(0, width - used);
  // Flex columns grow to their content (at least their `min`, so a column does not
  // twitch as "9 ms" becomes "10 ms"), the most important first…
  const flexible = [...chosen].filter((c) => c.flex).sort((a, b) => a.drop - b.drop);
  for (const column of flexible) {
    const current = widths.get(column) ?? 0;
    const want = Math.max(content.get(column) ?? 0, column.min ?? 0);
    const grow = Math.min(leftover, Math.max(0, want - current));
    widths.set(column, current + grow);
    leftover -= grow;
  }
  // …then what is still free goes to the last flex column on screen, so rows reach
  // the edge without pushing the columns after a wide one far to the right.
  const last = columns.filter((c) => chosen.has(c) && c.flex).at(-1);
  if (last) widths.set(last, (widths.get(last) ?? 0) + leftover);
  return columns.filter((c) => chosen.has(c)).map((column) => ({ column, width: widths.get(column) ?? 1 }));
}
