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
}

/** A plain-text table aligned by display width; every cell is sanitized. */
export function renderTable(columns: Column[], rows: string[][]): string {
  const cells = rows.map((row) =>
    row.map((cell, i) => truncateToWidth(sanitizeLine(cell), columns[i]?.max ?? 60)),
  );
  const widths = columns.map((c, i) =>
    Math.max(textWidth(c.header), ...cells.map((r) => textWidth(r[i] ?? ""))),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : padToWidth(v, widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
}
