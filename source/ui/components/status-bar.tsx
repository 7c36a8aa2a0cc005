import { Box, Text } from "ink";
import type { Snapshot } from "../../core/federation-types.js";
import { TASK_STATES } from "../../core/schema.js";
import { type Action, displayKey, type Keymap } from "../keymap.js";
import type { Confirm, LineInput, Message } from "../state/app-state.js";
import { parseFilter } from "../state/filter.js";
import { suggestCommands } from "../state/palette.js";
import { clip, displayWidth, formatAge, truncate } from "../text.js";
import { useTheme } from "../theme.js";

const SHORT_STATE: Record<string, string> = {
  pending: "pending",
  claimed: "claimed",
  running: "running",
  completed: "done",
  failed: "failed",
  cancelled: "cancelled",
};

/** First status line: task counts, freshness, where the blackboard is. */
export function SummaryLine({ snapshot, now, width }: { snapshot: Snapshot; now: number; width: number }) {
  const theme = useTheme();
  const counts = TASK_STATES.filter((s) => (snapshot.counts[s] ?? 0) > 0).map(
    (s) => `${snapshot.counts[s]} ${SHORT_STATE[s]}`,
  );
  const problems =
    snapshot.problems.length > 0
      ? ` · ${snapshot.problems.length} problem${snapshot.problems.length === 1 ? "" : "s"}`
      : "";
  const head = `${counts.length > 0 ? counts.join(" · ") : "no tasks"}${problems} · updated ${formatAge(snapshot.updatedAt, now)} ago`;
  const room = Math.max(0, width - displayWidth(head) - 4);
  const where = room > 8 ? ` · ${clip(`board ${snapshot.blackboardLocation}`, room)}` : "";
  const failed = (snapshot.counts.failed ?? 0) > 0 || snapshot.problems.length > 0;
  return (
    <Text wrap="truncate-end">
      {" "}
      <Text color={failed ? theme.color("error") : undefined}>{truncate(head, width - 1)}</Text>
      <Text dimColor>{where}</Text>
    </Text>
  );
}

export interface BottomLineProps {
  input: LineInput | null;
  confirm: Confirm | null;
  message: Message | null;
  lastError: string | undefined;
  keymap: Keymap;
  readonly: boolean;
  width: number;
}

function FieldLine({
  prefix,
  text,
  caret,
  suffix,
  width,
}: {
  prefix: string;
  text: string;
  caret: number;
  suffix: string;
  width: number;
}) {
  const theme = useTheme();
  const chars = [...clip(text, Number.MAX_SAFE_INTEGER)];
  const room = Math.max(1, width - displayWidth(prefix) - 2);
  let start = 0;
  while (start < caret && displayWidth(chars.slice(start, caret).join("")) > room - 1) start++;
  const before = chars.slice(start, caret).join("");
  const after = chars.slice(caret + 1).join("");
  const tail = Math.max(0, room - displayWidth(before) - 1);
  return (
    <Text wrap="truncate-end">
      <Text bold color={theme.color("accent")}>
        {prefix}
      </Text>
      {before}
      <Text inverse>{chars[caret] ?? " "}</Text>
      {truncate(after, tail)}
      <Text dimColor>{suffix ? `  ${suffix}` : ""}</Text>
    </Text>
  );
}

const HINT_ACTIONS: Action[] = ["help", "palette", "filter", "dispatch", "open", "back", "quit"];
const HINT_WORDS: Partial<Record<Action, string>> = {
  help: "help",
  palette: "command",
  filter: "filter",
  dispatch: "dispatch",
  open: "open",
  back: "back",
  quit: "quit",
};

/** Second status line: the open prompt (filter, palette, y/n), else the latest message or error, else key hints. */
export function BottomLine({ input, confirm, message, lastError, keymap, readonly, width }: BottomLineProps) {
  const theme = useTheme();
  if (confirm) {
    return (
      <Text wrap="truncate-end" bold color={theme.color("warn")}>
        {" "}
        {clip(confirm.prompt, width - 12)} <Text inverse>y/n</Text>
      </Text>
    );
  }
  if (input?.kind === "filter") {
    const errors = parseFilter(input.field.text).errors;
    return (
      <FieldLine
        prefix="/"
        text={input.field.text}
        caret={input.field.caret}
        suffix={errors.length > 0 ? (errors[0] ?? "") : "Enter keep · Esc undo"}
        width={width}
      />
    );
  }
  if (input?.kind === "palette") {
    const names = suggestCommands(input.field.text).map((c) => c.name);
    return (
      <FieldLine
        prefix=":"
        text={input.field.text}
        caret={input.field.caret}
        suffix={names.length > 0 ? names.join(" ") : "no such command"}
        width={width}
      />
    );
  }
  if (message) {
    return (
      <Text wrap="truncate-end" color={theme.color(message.tone === "error" ? "error" : "info")}>
        {" "}
        {clip(message.text, width - 1)}
      </Text>
    );
  }
  if (lastError) {
    return (
      <Text wrap="truncate-end" color={theme.color("error")}>
        {" ! "}
        {clip(lastError, width - 3)}
      </Text>
    );
  }
  const hints = HINT_ACTIONS.filter((a) => !(readonly && a === "dispatch"))
    .map((a) => {
      const key = keymap.bindings[a][0];
      return key === undefined ? null : `${displayKey(key)} ${HINT_WORDS[a]}`;
    })
    .filter((h): h is string => h !== null);
  return (
    <Text wrap="truncate-end" dimColor>
      {" "}
      {truncate(hints.join("  "), width - 1)}
    </Text>
  );
}

export function StatusBar(props: BottomLineProps & { snapshot: Snapshot; now: number }) {
  return (
    <Box flexDirection="column" width={props.width}>
      <SummaryLine snapshot={props.snapshot} now={props.now} width={props.width} />
      <BottomLine {...props} />
    </Box>
  );
}
