import { Box, Text } from "ink";
import { memo } from "react";
import type { Snapshot } from "../../core/domain/federation-types.js";
import { TASK_STATES, type TaskState } from "../../core/domain/schema.js";
import { forInvocation } from "../../present/invocation.js";
import { latestEvent } from "../../present/log-lines.js";
import type { SafeText } from "../../present/safe-text.js";
import { clip, clipMiddle, displayWidth, formatAge, truncate, wrapLines } from "../../present/text.js";
import { parseFilter } from "../features/filter/query.js";
import { ACTIONS, type Action, type ActionSpec, displayKey, type Keymap } from "../keymap.js";
import { SCREENS, type ScreenName } from "../screens.js";
import type { Confirm, LineInput, Message } from "../state/app-state.js";
import { suggestCommands } from "../state/palette.js";
import { useTheme } from "../theme.js";

/** First status line: task counts, freshness, where the blackboard is. */
export function SummaryLine({ snapshot, now, width }: { snapshot: Snapshot; now: number; width: number }) {
  const theme = useTheme();
  const counts = TASK_STATES.filter((s) => (snapshot.counts[s] ?? 0) > 0).map(
    (s) => `${snapshot.counts[s]} ${s}`,
  );
  const problems =
    snapshot.problems.length > 0
      ? ` · ${snapshot.problems.length} problem${snapshot.problems.length === 1 ? "" : "s"}`
      : "";
  const head = `${counts.length > 0 ? counts.join(" · ") : "no tasks"}${problems} · updated ${formatAge(snapshot.updatedAt, now)} ago`;
  const room = Math.max(0, width - displayWidth(head) - 4);
  // A path cut at its end loses the part that tells boards apart: cut it in the middle.
  // The latest fleet event, while it is recent, says more than where the board is.
  const event = latestEvent(snapshot.events, now);
  const where =
    room > 16
      ? event
        ? ` · ${truncate(event.text, room - 3)}`
        : ` · board ${clipMiddle(snapshot.blackboardLocation, room - 6)}`
      : "";
  const failed = (snapshot.counts.failed ?? 0) > 0 || snapshot.problems.length > 0;
  return (
    <Text wrap="truncate-end">
      {" "}
      <Text color={failed ? theme.color("error") : undefined}>{truncate(head, width - 1)}</Text>
      <Text dimColor={!event} color={event?.bad ? theme.color("warn") : undefined}>
        {where}
      </Text>
    </Text>
  );
}

/** What the screen shows, for the key hints: each screen offers what works there (see `SCREENS`). */
export type HintContext = ScreenName;

export interface BottomLineProps {
  /** Default "nodes". */
  context?: HintContext;
  /** The states of the marked tasks (the tasks table offers the bulk actions that apply to them). */
  marks?: readonly TaskState[];
  /** The tasks table was reached from a node (Esc goes back there). */
  drilled?: boolean;
  /** The table on screen has no rows ("filtered": a filter hides them all): no hints for keys that act on a row. */
  empty?: false | "none" | "filtered";
  /** The state of the task the row keys act on: retry and cancel are offered only where they apply. */
  task?: TaskState | undefined;
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

const NO_MARKS: readonly TaskState[] = [];

/** The hint line's words: only keys that are bound, and nothing a read-only session refuses. */
export function keyHints(
  context: HintContext,
  keymap: Keymap,
  readonly: boolean,
  marks: readonly TaskState[] = [],
  drilled = false,
  empty: false | "none" | "filtered" = false,
  task?: TaskState,
): string[] {
  const key = (action: Action): string | null => {
    const spec: ActionSpec = ACTIONS[action];
    if (readonly && spec.mutating) return null;
    const first = keymap.bindings[action][0];
    return first === undefined ? null : displayKey(first);
  };
  return SCREENS[context].hints({ marks, drilled, empty, task }).flatMap((hint) => {
    if (typeof hint === "string") return [hint];
    if (hint.length === 2) {
      const k = key(hint[0]);
      return k ? [`${k} ${hint[1]}`] : [];
    }
    const [a, b, ...rest] = hint;
    const word = rest.at(-1) ?? "";
    const joiner = rest.length > 1 ? ` ${rest[0]} ` : "/";
    const keys = [key(a), key(b)].filter((k): k is string => k !== null);
    return keys.length > 0 ? [`${keys.join(joiner)} ${word}`] : [];
  });
}

/**
 * Hints that fit the width: the first (help) and the last (quit) always stay,
 * a stranger looks for those two; the least useful ones before quit go first.
 */
export function fitHints(hints: string[], width: number): string[] {
  const kept = [...hints];
  while (kept.length > 2 && displayWidth(kept.join("  ")) > width) kept.splice(kept.length - 2, 1);
  return kept;
}

/** Second status line: the open prompt (filter, palette, y/n), else the key hints (a message never hides them). */
export function BottomLine({
  context = "nodes",
  marks = NO_MARKS,
  drilled = false,
  empty = false,
  task,
  input,
  confirm,
  keymap,
  readonly,
  width,
}: BottomLineProps) {
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
  if (input?.kind === "migrateTarget") {
    return (
      <FieldLine
        prefix={`Migrate ${clip(input.node, 24)} to `}
        text={input.field.text}
        caret={input.field.caret}
        suffix={input.error ?? "user@host[:port] [--remote-port N] · Enter shows the plan · Esc cancel"}
        width={width}
      />
    );
  }
  if (input?.kind === "palette") {
    const names = suggestCommands(input.field.text, readonly).map((c) => c.name);
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
  const hints = fitHints(keyHints(context, keymap, readonly, marks, drilled, empty, task), width - 1);
  return (
    <Text wrap="truncate-end" dimColor>
      {" "}
      {truncate(hints.join("  "), width - 1)}
    </Text>
  );
}

/**
 * A message as lines of the status bar, after a space: at most `most` lines, broken between
 * words, the last cut with "…" when the rest does not fit. Its commands are named the way the
 * user runs the CLI.
 */
export function messageLines(message: Message, width: number, most: number): SafeText[] {
  const lines = wrapLines(forInvocation(message.text), Math.max(1, width - 1));
  if (lines.length <= most) return lines;
  const kept = lines.slice(0, most);
  kept[most - 1] = truncate(`${kept[most - 1]} ${lines[most]}`, width - 1) as SafeText;
  return kept;
}

/** First status line (two for a message that needs them): the latest message, else the latest error, else the summary. */
export function MessageLine({
  message,
  lastError,
  snapshot,
  now,
  width,
  messageRows = 1,
}: Pick<BottomLineProps, "message" | "lastError" | "width"> & {
  snapshot: Snapshot;
  now: number;
  messageRows?: number;
}) {
  const theme = useTheme();
  if (message) {
    const color = theme.color(message.tone === "error" ? "error" : "info");
    return (
      <Box flexDirection="column">
        {messageLines(message, width, messageRows).map((line, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
          <Text key={i} wrap="truncate-end" color={color}>
            {" "}
            {line}
          </Text>
        ))}
      </Box>
    );
  }
  if (lastError) {
    return (
      <Text wrap="truncate-end" color={theme.color("error")}>
        {" ! "}
        {clip(forInvocation(lastError), width - 3)}
      </Text>
    );
  }
  return <SummaryLine snapshot={snapshot} now={now} width={width} />;
}

/**
 * Two lines: what happened (a message, an error, else the summary), then the prompt or the key
 * hints. A message that needs two lines takes one more (`messageRows`; the body gives it up).
 */
export function StatusBar(
  props: BottomLineProps & { snapshot: Snapshot; now: number; messageRows?: number },
) {
  const { snapshot: _snapshot, now: _now, messageRows: _rows, ...hints } = props;
  return (
    <Box flexDirection="column" width={props.width}>
      <MessageLine {...props} />
      <Hints {...hints} />
    </Box>
  );
}

// The hints change with a key, not with the ten snapshots a second: not drawn again for those.
const Hints = memo(BottomLine);
