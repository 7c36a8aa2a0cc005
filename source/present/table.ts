import { COLUMN_GAP, type Column, fitColumns } from "./columns.js";
import { safeLine } from "./safe-text.js";
import { pad, truncate } from "./text.js";

/**
 * The plain-text form of a table the control center draws from the same columns: the columns
 * that fit `width` (fitColumns drops the least useful first and shares out the rest), every
 * cell sanitized, aligned by display width, trailing blanks cut. No line is wider than `width`.
 */
export function renderColumns<Row>(
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  width: number,
): string {
  const fitted = fitColumns(columns, rows, width);
  const line = (text: (column: Column<Row>) => string) =>
    fitted
      .map(({ column, width: w }, i) =>
        i === fitted.length - 1 && column.align !== "right"
          ? truncate(text(column), w)
          : pad(text(column), w, column.align),
      )
      .join(" ".repeat(COLUMN_GAP))
      .trimEnd();
  return [
    line((c) => c.header),
    ...rows.map((row) => line((c) => safeLine(c.value(row)).replace(/\s+/g, " "))),
  ].join("\n");
}
