import { Text } from "ink";
import { ScrolledRows } from "../../components/scrolled-rows.js";
import type { Keymap } from "../../keymap.js";
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
  const renderLine = (index: number, key: number) => {
    const line = lines[index] ?? [];
    return (
      <Text key={key} wrap="truncate-end">
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
  };
  return (
    <ScrolledRows count={lines.length} start={scroll} width={width} height={height} renderLine={renderLine} />
  );
}
