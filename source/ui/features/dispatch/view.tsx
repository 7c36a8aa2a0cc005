import { Box, Text } from "ink";
import type { NodeView } from "../../../core/domain/federation-types.js";
import { PRIORITIES } from "../../../core/domain/schema.js";
import { clip, displayWidth, truncate } from "../../../present/text.js";
import { useTheme } from "../../theme.js";
import type { DispatchFormState } from "./form.js";

export interface DispatchFormProps {
  form: DispatchFormState;
  width: number;
  /** The node the target names (none for "any"): warned about when it cannot take the task now. */
  targetNode?: NodeView;
}

/** Why a task sent to `node` now would wait, or undefined when the node can take it. */
export function targetWarning(node: NodeView | undefined): string | undefined {
  if (!node || node.status === "online") return undefined;
  return `${node.id} is ${node.status}: the task waits in its inbox (${node.reason})`;
}

/** The visible part of a one-line field: keeps the caret on screen, shows it as an inverse cell. */
function FieldText({
  text,
  caret,
  width,
  focused,
}: {
  text: string;
  caret: number;
  width: number;
  focused: boolean;
}) {
  const chars = [...clip(text, Number.MAX_SAFE_INTEGER)];
  const at = Math.min(caret, chars.length);
  let start = 0;
  while (start < at && displayWidth(chars.slice(start, at).join("")) > width - 2) start++;
  const before = chars.slice(start, at).join("");
  const under = chars[at] ?? " ";
  const after = truncate(
    chars.slice(at + 1).join(""),
    Math.max(0, width - 1 - displayWidth(before) - displayWidth(under)),
  );
  if (!focused) return <Text>{truncate(chars.join(""), width) || " "}</Text>;
  return (
    <Text>
      {before}
      <Text inverse>{under}</Text>
      {after}
    </Text>
  );
}

function Choice({
  options,
  current,
  focused,
}: {
  options: readonly string[];
  current: string;
  focused: boolean;
}) {
  return (
    <Text wrap="truncate-end">
      {options.map((option, i) => (
        <Text key={option} inverse={focused && option === current} bold={option === current}>
          {i > 0 ? " " : ""}
          {option === current ? `[${clip(option, 30)}]` : ` ${clip(option, 30)} `}
        </Text>
      ))}
    </Text>
  );
}

/** Text, target and priority; Enter sends, Esc goes back. Validation shows under the form. */
export function DispatchForm({ form, width, targetNode }: DispatchFormProps) {
  const warning = targetWarning(targetNode);
  const theme = useTheme();
  const label = (name: string, field: DispatchFormState["focus"]) => (
    <Text bold={form.focus === field} color={form.focus === field ? theme.color("accent") : undefined}>
      {form.focus === field ? "› " : "  "}
      {name.padEnd(10)}
    </Text>
  );
  const fieldWidth = Math.max(10, width - 13);
  return (
    <Box flexDirection="column" width={width} paddingTop={1}>
      <Text bold> Dispatch a task</Text>
      <Text> </Text>
      <Box>
        {label("Text", "text")}
        <FieldText
          text={form.text.text}
          caret={form.text.caret}
          width={fieldWidth}
          focused={form.focus === "text"}
        />
      </Box>
      <Box>
        {label("Target", "target")}
        <Choice options={form.targets} current={form.target} focused={form.focus === "target"} />
      </Box>
      {warning ? (
        <Text color={theme.color("warn")} wrap="truncate-end">
          {"            "}
          {clip(warning, Math.max(10, width - 13))}
        </Text>
      ) : null}
      <Box>
        {label("Priority", "priority")}
        <Choice options={PRIORITIES} current={form.priority} focused={form.focus === "priority"} />
      </Box>
      <Text> </Text>
      {form.error ? (
        <Text color={theme.color("error")} bold wrap="wrap">
          {"  "}
          {clip(form.error, width * 3)}
        </Text>
      ) : form.submitting ? (
        <Text color={theme.color("info")}>{"  "}Sending…</Text>
      ) : (
        <Text dimColor wrap="truncate-end">
          {"  "}Enter send · Tab next field · ← → change · 0–3 priority · Esc back
        </Text>
      )}
    </Box>
  );
}
