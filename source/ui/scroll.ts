/**
 * A scrolled window over a list of lines. When lines are hidden above or below,
 * the window's first or last row says so instead of showing a line: every line
 * still comes into view one step further on, and a reader always knows there is
 * more. Returns, for each row of the window, the index of the line it shows or
 * a marker.
 */
export type WindowRow = { line: number } | { marker: string };

export function scrollWindow(total: number, start: number, height: number): WindowRow[] {
  const h = Math.max(0, height);
  const first = Math.max(0, Math.min(start, Math.max(0, total - h)));
  const rows: WindowRow[] = [];
  for (let i = first; i < Math.min(total, first + h); i++) rows.push({ line: i });
  if (h < 3) return rows;
  if (first > 0) rows[0] = { marker: `↑ ${first + 1} more line${first + 1 === 1 ? "" : "s"} above` };
  const hiddenBelow = total - (first + h);
  if (hiddenBelow > 0) {
    const n = hiddenBelow + 1;
    rows[rows.length - 1] = { marker: `↓ ${n} more line${n === 1 ? "" : "s"} below` };
  }
  return rows;
}
