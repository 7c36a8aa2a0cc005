/**
 * Cursor and scroll position of a windowed table. The selected row is kept by
 * id, so it stays put when rows are added above it; the index is the fallback
 * when the selected row disappears.
 */
export interface TableCursor {
  cursor: number;
  offset: number;
  selectedId: string | null;
}

export const EMPTY_CURSOR: TableCursor = { cursor: 0, offset: 0, selectedId: null };

export type Move = "up" | "down" | "top" | "bottom" | "pageUp" | "pageDown";

/**
 * The rows' ids, in order: plain ids, or the rows themselves (no 10 000-id array
 * built for every snapshot just to find the cursor's row).
 */
export type RowIds = readonly string[] | readonly { readonly id: string }[];

function idAt(rows: RowIds, index: number): string | null {
  const row = rows[index];
  if (row === undefined) return null;
  return typeof row === "string" ? row : row.id;
}

function indexOfId(rows: RowIds, id: string): number {
  for (let i = 0; i < rows.length; i++) if (idAt(rows, i) === id) return i;
  return -1;
}

function clamp(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, value));
}

/** Where the cursor is in `ids` now: by id if still there, else the old index clamped. */
export function locate(table: TableCursor, ids: RowIds): number {
  if (ids.length === 0) return 0;
  if (table.selectedId !== null) {
    // Usually still where it was: look there first.
    if (idAt(ids, table.cursor) === table.selectedId) return table.cursor;
    const at = indexOfId(ids, table.selectedId);
    if (at >= 0) return at;
  }
  return clamp(table.cursor, 0, ids.length - 1);
}

/** First visible row so that `cursor` is inside a window of `height` rows, moving the window as little as possible. */
export function windowStart(cursor: number, offset: number, height: number, total: number): number {
  const h = Math.max(1, height);
  let start = offset;
  if (cursor < start) start = cursor;
  if (cursor >= start + h) start = cursor - h + 1;
  return clamp(start, 0, Math.max(0, total - h));
}

/** Keep the cursor on its row after the rows changed (new snapshot, new filter, resize). */
export function settle(table: TableCursor, ids: RowIds, height: number): TableCursor {
  const cursor = locate(table, ids);
  const selectedId = idAt(ids, cursor);
  // Rows that arrive above the selected one move the window with it, so the rows on
  // screen stay where they are instead of sliding down one line per new task. At the
  // top of the table the window stays put: new tasks appear there, in view.
  const anchored =
    table.offset > 0 && selectedId !== null && selectedId === table.selectedId
      ? table.offset + (cursor - table.cursor)
      : table.offset;
  const offset = windowStart(cursor, anchored, height, ids.length);
  if (cursor === table.cursor && offset === table.offset && selectedId === table.selectedId) return table;
  return { cursor, offset, selectedId };
}

export function move(table: TableCursor, how: Move, ids: RowIds, height: number): TableCursor {
  if (ids.length === 0) return EMPTY_CURSOR;
  const current = locate(table, ids);
  const page = Math.max(1, height - 1);
  const last = ids.length - 1;
  const target = {
    up: current - 1,
    down: current + 1,
    top: 0,
    bottom: last,
    pageUp: current - page,
    pageDown: current + page,
  }[how];
  const cursor = clamp(target, 0, last);
  let offset = table.offset;
  if (how === "pageDown" || how === "pageUp")
    offset = clamp(offset + (cursor - current), 0, Math.max(0, ids.length - height));
  return { cursor, offset: windowStart(cursor, offset, height, ids.length), selectedId: idAt(ids, cursor) };
}

/**
 * Scrolling a text (the detail view, the reply pane): where a move takes the first visible
 * line, given the last one it can be (`max`) and a page of `page` lines. Following the end
 * stops on a move up and starts again at the end.
 */
export function scrollLines(
  view: { scroll: number; follow: boolean },
  how: Move,
  max: number,
  page: number,
): { scroll: number; follow: boolean } {
  const current = view.follow ? max : Math.min(view.scroll, max);
  const target = {
    up: current - 1,
    down: current + 1,
    top: 0,
    bottom: max,
    pageUp: current - page,
    pageDown: current + page,
  }[how];
  const scroll = clamp(target, 0, max);
  return { scroll, follow: scroll >= max && how !== "up" && how !== "pageUp" };
}
