import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { COLUMN_GAP, type Column, fitColumns } from "../columns.js";
import { windowStart } from "../state/navigation.js";
import { cell, pad } from "../text.js";
import { useTheme } from "../theme.js";

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
}

const PREFIX = 2;

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
}: TableProps<Row>) {
  const theme = useTheme();
  const start = windowStart(cursor, offset, height, rows.length);
  const visible = rows.slice(start, start + height);
  const fitted = fitColumns(columns, visible, width - PREFIX);
  const header = fitted
    .map(({ column, width: w }) => pad(column.header, w, column.align))
    .join(" ".repeat(COLUMN_GAP));
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate-end">
        {"  "}
        {header}
      </Text>
      {visible.length === 0 ? (
        <Box paddingLeft={PREFIX}>{empty}</Box>
      ) : (
        visible.map((row, i) => {
          const selected = start + i === cursor;
          const id = rowKey(row);
          const marked = marks?.has(id) ?? false;
          return (
            <Text key={id} wrap="truncate-end" inverse={selected}>
              {selected ? "›" : " "}
              {marked ? "+" : " "}
              {fitted.map(({ column, width: w }, c) => {
                const tone = column.tone?.(row);
                return (
                  <Text key={column.id} color={theme.color(tone)} dimColor={theme.dim(tone)}>
                    {c > 0 ? " ".repeat(COLUMN_GAP) : ""}
                    {cell(column.value(row), w, column.align)}
                  </Text>
                );
              })}
            </Text>
          );
        })
      )}
    </Box>
  );
}
