import { Box, Text } from "ink";
import { buildHelpLines } from "../help-lines.js";
import type { Keymap } from "../keymap.js";
import { useTheme } from "../theme.js";

export interface HelpOverlayProps {
  keymap: Keymap;
  readonly: boolean;
  scroll: number;
  width: number;
  height: number;
}

/** The key reference, generated from the same keymap the input handler uses. */
export function HelpOverlay({ keymap, readonly, scroll, width, height }: HelpOverlayProps) {
  const theme = useTheme();
  const lines = buildHelpLines(keymap, readonly, width);
  const start = Math.min(scroll, Math.max(0, lines.length - height));
  return (
    <Box flexDirection="column" width={width} height={height}>
      {lines.slice(start, start + height).map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
        <Text key={start + i} wrap="truncate-end">
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
      ))}
    </Box>
  );
}
