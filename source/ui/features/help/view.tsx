import { Box, Text } from "ink";
import type { Keymap } from "../../keymap.js";
import { scrollWindow } from "../../scroll.js";
import { useTheme } from "../../theme.js";
import { buildHelpLines } from "./lines.js";

export interface HelpOverlayProps {
  keymap: Keymap;
  readonly: boolean;
  scroll: number;
  width: number;
  height: number;
}

/** The key reference, generated from the same keymap the input handler uses. Scrolls when it does not fit. */
export function HelpOverlay({ keymap, readonly, scroll, width, height }: HelpOverlayProps) {
  const theme = useTheme();
  const lines = buildHelpLines(keymap, readonly, width);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {scrollWindow(lines.length, scroll, height).map((row, i) => {
        if ("marker" in row) {
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
            <Text key={i} wrap="truncate-end" dimColor>
              {row.marker}
            </Text>
          );
        }
        const line = lines[row.line] ?? [];
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
          <Text key={i} wrap="truncate-end">
            {line.length === 0
              ? " "
              : line.map((segment, j) => (
                  <Text
                    // biome-ignore lint/suspicious/noArrayIndexKey: segments are positional
                    key={j}
                    bold={segment.bold ?? false}
                    color={theme.color(segment.tone)}
                    dimColor={theme.dim(segment.tone)}
                  >
                    {segment.text}
                  </Text>
                ))}
          </Text>
        );
      })}
    </Box>
  );
}
