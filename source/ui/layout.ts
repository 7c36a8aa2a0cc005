/** How the screen is split: one title row, the body, two status rows. */
export interface ScreenSize {
  columns: number;
  rows: number;
}

export const TITLE_ROWS = 1;
export const STATUS_ROWS = 2;
/** Smallest size we lay out for; smaller terminals get a cut-off 40×10 frame rather than a crash. */
export const MIN_SIZE: ScreenSize = { columns: 40, rows: 10 };
/** From this width the selected task's reply gets a pane beside the tasks… */
export const REPLY_SIDE_COLUMNS = 120;
/** …and from this height (narrower screens) one under them. */
export const REPLY_BELOW_ROWS = 40;

export function clampSize(size: ScreenSize): ScreenSize {
  return { columns: Math.max(MIN_SIZE.columns, size.columns), rows: Math.max(MIN_SIZE.rows, size.rows) };
}

export function bodyHeight(size: ScreenSize): number {
  return clampSize(size).rows - TITLE_ROWS - STATUS_ROWS;
}

/**
 * The home screen's panes, top to bottom: the nodes table (a header, then as many
 * rows as nodes, capped), the selected node in full, then the tasks (a title line
 * with the throughput, the federation's usage when it has some, a header, rows)
 * filling the rest; the selected task's reply beside or under the tasks when the
 * terminal has room for it.
 */
export interface HomeLayout {
  /** Data rows of the nodes table (the header is one more). */
  nodeRows: number;
  /** Rows under the nodes table for the selected node (0: none). */
  infoRows: number;
  /** Height of the tasks pane: its title line, header and data rows. */
  tasksHeight: number;
  tasksWidth: number;
  /** Data rows of the tasks table. */
  taskRows: number;
  /** The federation's usage gets a line under the tasks' title (there is usage, and room). */
  usageRow: boolean;
  reply: { at: "side" | "below"; width: number; height: number } | null;
}

/** Lines of a pane's own besides its rows: the tasks' title line and their table header. */
const TASKS_CHROME = 2;
/** The tasks keep at least this many rows before the reply takes a share. */
const MIN_TASK_ROWS = 3;

export function homeLayout(size: ScreenSize, nodeCount: number, usage = false): HomeLayout {
  const { columns, rows } = clampSize(size);
  const body = bodyHeight(size);
  const infoRows = body >= 18 ? 4 : 0;
  // Nodes take what they need, up to two fifths of what the node info leaves.
  const nodeCap = Math.max(1, Math.floor((body - infoRows) * 0.4));
  const nodeRows = Math.max(1, Math.min(nodeCount, nodeCap));
  const tasksHeight = Math.max(TASKS_CHROME + 1, body - 1 - nodeRows - infoRows);
  // The usage line, when there is usage, unless it would leave the tasks too few rows.
  const rowsOf = (height: number) => {
    const usageRow = usage && height - TASKS_CHROME - 1 >= MIN_TASK_ROWS;
    return { usageRow, taskRows: height - TASKS_CHROME - (usageRow ? 1 : 0) };
  };
  if (columns >= REPLY_SIDE_COLUMNS) {
    const width = Math.min(100, Math.floor(columns * 0.35));
    return {
      nodeRows,
      infoRows,
      tasksHeight,
      tasksWidth: columns - width,
      ...rowsOf(tasksHeight),
      reply: { at: "side", width, height: tasksHeight },
    };
  }
  const below = Math.floor(tasksHeight * 0.4);
  if (rows >= REPLY_BELOW_ROWS && tasksHeight - below - TASKS_CHROME >= MIN_TASK_ROWS)
    return {
      nodeRows,
      infoRows,
      tasksHeight: tasksHeight - below,
      tasksWidth: columns,
      ...rowsOf(tasksHeight - below),
      reply: { at: "below", width: columns, height: below },
    };
  return { nodeRows, infoRows, tasksHeight, tasksWidth: columns, ...rowsOf(tasksHeight), reply: null };
}
