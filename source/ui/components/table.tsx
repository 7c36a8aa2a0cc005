import { Box, Text } from "ink";
import { memo, type ReactNode } from "react";
import { COLUMN_GAP, type Column, cellWidth, type FittedColumn, fitColumns } from "../../present/columns.js";
import { cell, clip, pad } from "../../present/text.js";
import { windowStart } from "../state/navigation.js";
import { type Theme, type Tone, useTheme } from "../theme.js";

export interface TableProps<Row> {
  columns: readonly Column<Row>[];
  /** All rows; only the visible window is mounted. */
  rows: readonly Row[];
  rowKey: (row: Row) => string;
  cursor: number;
  offset: number;
  /** Data rows that fit under the header. */
  height: number;
  width: number;
  marks?: ReadonlySet<string>;
  /** Shown instead of rows when there are none. */
  empty: ReactNode;
  /**
   * What a row's cells show besides the row object itself (its age, from the
   * clock): a row whose object, place and this text are unchanged is not
   * rendered again. Per row, so the clock re-renders only rows whose age moved.
   */
  volatile?: (row: Row) => string;
  /** The pane has the keys (default): its selected row is drawn as a bar, else only marked with ›. */
  focused?: boolean;
}

const PREFIX = 2;

/**
 * Cell widths remembered per row object, on the rows' own terms: a row whose object,
 * volatile text and table width are unchanged draws the same cells (TableRow skips it for
 * that), so it measures the same. Ten snapshots a second change few of the rows on screen;
 * the rest are not sanitized and measured again. Weak: rows that leave the snapshot go.
 */
const widthsByRow = new WeakMap<object, { key: string; widths: Map<string, number> }>();

function rememberedWidths<Row>(volatile: ((row: Row) => string) | undefined, width: number) {
  // This frame's entry of each row: its volatile text is worked out once, not once a column.
  const current = new Map<object, Map<string, number>>();
  const widthsOf = (row: object): Map<string, number> => {
    let widths = current.get(row);
    if (widths) return widths;
    const key = `${width}\u0000${volatile ? volatile(row as Row) : ""}`;
    let entry = widthsByRow.get(row);
    if (!entry || entry.key !== key) {
      entry = { key, widths: new Map() };
      widthsByRow.set(row, entry);
    }
    widths = entry.widths;
    current.set(row, widths);
    return widths;
  };
  return (column: Column<Row>, row: Row): number => {
    if (typeof row !== "object" || row === null) return cellWidth(column, row);
    const widths = widthsOf(row);
    let w = widths.get(column.id);
    if (w === undefined) {
      w = cellWidth(column, row);
      widths.set(column.id, w);
    }
    return w;
  };
}

interface RowProps<Row> {
  row: Row;
  fitted: FittedColumn<Row>[];
  /** The column widths as a string: equal layouts compare equal. */
  layout: string;
  selected: boolean;
  focused: boolean;
  marked: boolean;
  volatile: string;
  theme: Theme;
}

function TableRowView<Row>({ row, fitted, selected, focused, marked, theme }: RowProps<Row>) {
  const last = fitted.length - 1;
  // Adjacent cells of the same tone share one text node: Ink squashes, styles and
  // measures every node on every frame, and most cells have no tone at all.
  const runs: { tone: Tone | undefined; text: string }[] = [];
  let text = `${selected ? "›" : " "}${marked ? "+" : " "}`;
  let tone: Tone | undefined;
  fitted.forEach(({ column, width: w }, c) => {
    const cellTone = column.tone?.(row);
    // The last cell of a plain row is not padded to the edge: fewer cells for the
    // terminal (and Ink) to draw on every frame. The selected row's bar is.
    const value =
      c === last && !selected && column.align !== "right"
        ? clip(column.value(row), w)
        : cell(column.value(row), w, column.align);
    const gap = c > 0 ? " ".repeat(COLUMN_GAP) : "";
    if (cellTone === tone) {
      text += gap + value;
    } else {
      runs.push({ tone, text: text + gap });
      tone = cellTone;
      text = value;
    }
  });
  runs.push({ tone, text });
  return (
    <Text wrap="truncate-end" inverse={selected && focused}>
      {runs.map((run, i) =>
        run.tone === undefined ? (
          run.text
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: runs are positional
          <Text key={i} color={theme.color(run.tone)} dimColor={theme.dim(run.tone)}>
            {run.text}
          </Text>
        ),
      )}
    </Text>
  );
}

// Ten snapshots a second usually change none of the ~40 rows on screen: skip those.
const TableRow = memo(
  TableRowView,
  (a, b) =>
    a.row === b.row &&
    a.layout === b.layout &&
    a.selected === b.selected &&
    a.focused === b.focused &&
    a.marked === b.marked &&
    a.volatile === b.volatile &&
    a.theme === b.theme,
) as typeof TableRowView;

/** Drawn again only when the columns change, not with every snapshot. */
const TableHeader = memo(function TableHeader({ text }: { text: string }) {
  return (
    <Text bold wrap="truncate-end">
      {"  "}
      {text}
    </Text>
  );
});

/** A windowed table: header plus `height` rows around the cursor, cells padded by display width. */
export function Table<Row>({
  columns,
  rows,
  rowKey,
  cursor,
  offset,
  height,
  width,
  marks,
  empty,
  volatile,
  focused = true,
}: TableProps<Row>) {
  const theme = useTheme();
  const start = windowStart(cursor, offset, height, rows.length);
  const visible = rows.slice(start, start + height);
  const fitted = fitColumns(columns, visible, width - PREFIX, rememberedWidths(volatile, width));
  const layout = fitted.map(({ column, width: w }) => `${column.id}:${w}`).join(",");
  const header = fitted
    .map(({ column, width: w }) => pad(column.header, w, column.align))
    .join(" ".repeat(COLUMN_GAP))
    .trimEnd();
  return (
    <Box flexDirection="column" width={width}>
      <TableHeader text={header} />
      {visible.length === 0 ? (
        <Box paddingLeft={PREFIX}>{empty}</Box>
      ) : (
        visible.map((row, i) => {
          const id = rowKey(row);
          return (
            <TableRow
              key={id}
              row={row}
              fitted={fitted}
              layout={layout}
              selected={start + i === cursor}
              focused={focused}
              marked={marks?.has(id) ?? false}
              volatile={volatile ? volatile(row) : ""}
              theme={theme}
            />
          );
        })
      )}
    </Box>
  );
}
