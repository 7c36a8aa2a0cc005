import type { TaskView } from "../core/domain/federation-types.js";
import { count } from "../core/domain/plural.js";
import { FINAL_STATES } from "../core/domain/schema.js";
import { clockOf, localStamp, zoneOf } from "./clock.js";
import type { Tone } from "./columns.js";
import { type SafeText, safe, safeLine } from "./safe-text.js";
import { displayWidth, formatAge, formatElapsed, wrapLines } from "./text.js";
import { taskUsageText } from "./usage-text.js";
import { EMPTY_CELL, taskStateTone } from "./vocabulary.js";

/** One line of a task's detail, sanitized and no wider than the width asked for. */
export interface DetailLine {
  text: SafeText;
  tone?: Tone;
  bold?: boolean;
}

export interface TaskDetailOptions {
  width: number;
  now: number;
  /** A cancel was asked for and the task has not stopped yet. */
  cancelRequested?: boolean;
  /** Why a pending task is not moving (the waiting hint), under Note. */
  note?: string | undefined;
}

/** Labels are this wide: their values line up, and wrap under themselves. */
const LABEL = 10;

/**
 * "2026-02-27 20:37:05 UTC+08:00 (3m ago)": when, in the local zone, and how long ago. In
 * less than `room` columns (a narrow pane), the time of day and the age, "20:37:05 (3m ago)".
 */
export function whenText(iso: string | undefined, now: number, room = Number.MAX_SAFE_INTEGER): string {
  if (!iso) return EMPTY_CELL;
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return `${iso} (age unknown)`;
  const ago = `(${formatAge(iso, now)} ago)`;
  const full = `${localStamp(new Date(at), { seconds: true })} ${ago}`;
  return displayWidth(full) <= room ? full : `${clockOf(iso, now, { seconds: true })} ${ago}`;
}

/**
 * Everything about one task, as lines: what `tasks show` prints and the control center's
 * task view shows, in the same words, order and time formats. The facts first (label, value),
 * then the request, the history, an error and the reply, which comes last so that a view
 * that follows the end keeps the streaming text in sight.
 */
export function taskDetailLines(task: TaskView, options: TaskDetailOptions): DetailLine[] {
  const { width, now } = options;
  const lines: DetailLine[] = [];
  const fact = (label: string, value: string, style: Omit<DetailLine, "text"> = {}) => {
    for (const [i, line] of wrapLines(value, Math.max(1, width - LABEL)).entries())
      lines.push({ text: safe`${safeLine((i === 0 ? label : "").padEnd(LABEL))}${line}`, ...style });
  };
  const section = (title: string) => {
    lines.push({ text: safe`` });
    lines.push({ text: safeLine(title), bold: true, tone: "accent" });
  };
  const indented = (text: string | undefined, tone?: Tone) => {
    for (const line of wrapLines(text, Math.max(1, width - 2)))
      lines.push({ text: safe`  ${line}`, ...(tone ? { tone } : {}) });
  };

  fact("Task", task.id, { bold: true });
  const cancelling = options.cancelRequested && task.state !== "cancelled" ? " (cancel requested)" : "";
  fact("State", `${task.state}${cancelling}`, { tone: taskStateTone(task.state) });
  fact("Priority", task.priority);
  fact("Attempt", `${task.attempt} of ${task.maxAttempts}`);
  const target = task.target === task.node ? task.node : `${task.target} → ${task.node}`;
  fact("Target", `${target} via ${task.route.transport}`);
  // The reason is the router's, about the node it chose: named when the task has moved since.
  fact(
    "Reason",
    task.route.node === task.node ? task.route.reason : `${task.route.node}: ${task.route.reason}`,
  );
  if (options.note) fact("Note", options.note, { tone: "warn" });
  const room = width - LABEL;
  fact("Created", whenText(task.createdAt, now, room));
  if (task.startedAt) fact("Started", whenText(task.startedAt, now, room));
  if (task.finishedAt) fact("Finished", whenText(task.finishedAt, now, room));
  if (task.durationMs !== undefined) fact("Took", formatElapsed(task.durationMs));
  if (task.state === "completed" || task.usage) fact("Tokens", taskUsageText(task));

  section("Request");
  indented(task.text);

  section(`History (${count(task.history.length, "event")}, times in ${zoneOf(new Date(now))})`);
  // Time, event and detail; a long detail wraps under the event, not off the screen.
  for (const event of task.history) {
    const at = clockOf(event.at, now, { seconds: true }) ?? "";
    const head = `  ${at.padEnd(8)}  `;
    const text = event.detail ? `${event.event}  ${event.detail}` : event.event;
    for (const [i, line] of wrapLines(text, Math.max(1, width - head.length)).entries())
      lines.push({ text: safe`${safeLine(i === 0 ? head : " ".repeat(head.length))}${line}`, tone: "muted" });
  }

  if (task.error) {
    section("Error");
    indented(`${task.error.kind}: ${task.error.message}`, "error");
    if (task.error.hint) indented(`fix: ${task.error.hint}`);
  }

  const running = !FINAL_STATES.includes(task.state);
  section(
    task.reply
      ? running
        ? "Reply (streaming…)"
        : "Reply"
      : running
        ? "Reply (waiting for the node…)"
        : "Reply (none)",
  );
  if (task.reply) indented(task.reply);
  return lines;
}
