import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { scrollWindow } from "../scroll.js";

export interface ScrolledRowsProps {
  count: number;
  start: number;
  width: number;
  height: number;
  /** One visible line, by its index in the whole list. */
  renderLine: (index: number, key: number) => ReactNode;
}

/** A window of `height` lines from `start`; hidden lines above or below are announced in their place. */
export function ScrolledRows({ count, start, width, height, renderLine }: ScrolledRowsProps) {
  return (
    <Box flexDirection="column" width={width} height={height}>
      {scrollWindow(count, start, height).map((row, i) =>
        "marker" in row ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
          <Text key={i} wrap="truncate-end" dimColor>
            {row.marker}
          </Text>
        ) : (
          renderLine(row.line, i)
        ),
      )}
    </Box>
  );
}
