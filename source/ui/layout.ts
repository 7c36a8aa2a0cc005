/** How the screen is split: one title row, the body, two status rows. */
export interface ScreenSize {
  columns: number;
  rows: number;
}

export const TITLE_ROWS = 1;
export const STATUS_ROWS = 2;
/** Smallest size we lay out for; smaller terminals get a cut-off 40×10 frame rather than a crash. */
export const MIN_SIZE: ScreenSize = { columns: 40, rows: 10 };

export function clampSize(size: ScreenSize): ScreenSize {
  return { columns: Math.max(MIN_SIZE.columns, size.columns), rows: Math.max(MIN_SIZE.rows, size.rows) };
}

export function bodyHeight(size: ScreenSize): number {
  return clampSize(size).rows - TITLE_ROWS - STATUS_ROWS;
}

/** Visible data rows of a table: the body less its header row. */
export function tablePageRows(size: ScreenSize): number {
  return Math.max(1, bodyHeight(size) - 1);
}

/** Rows under the nodes table that describe the selected node in full (none on a short screen). */
export function nodeInfoRows(size: ScreenSize): number {
  return bodyHeight(size) >= 12 ? 4 : 0;
}

/** Visible data rows of the nodes table: the body less its header and the selected node's description. */
export function nodePageRows(size: ScreenSize): number {
  return Math.max(1, tablePageRows(size) - nodeInfoRows(size));
}
