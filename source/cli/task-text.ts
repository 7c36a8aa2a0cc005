import { ageSince, formatElapsed } from "../core/domain/durations.js";
import type { TaskView } from "../core/domain/federation-types.js";
import { type Safe, type SafeText, safe, safeLine } from "../present/safe-text.js";
import { timelineOf } from "../present/timeline.js";
import { taskUsageText } from "../present/usage-text.js";

function indent(text: SafeText): SafeText {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n") as SafeText;
}

/** `tasks show`: everything about one task, from its sanitized view. */
export function renderTaskText(
  v: Safe<TaskView>,
  options: { now: number; cancelRequested: boolean; note?: SafeText },
): string {
  const age = ageSince(v.createdAt, options.now);
  const lines: SafeText[] = [
    safe`Task      ${v.id}`,
    safeLine(
      `State     ${v.state}${options.cancelRequested && v.state !== "cancelled" ? " (cancel requested)" : ""}`,
    ),
    safe`Priority  ${v.priority}`,
    safe`Target    ${v.target} → ${v.node} via ${v.route.transport}`,
    safe`Route     ${v.route.reason}`,
    safe`Attempt   ${v.attempt} of ${v.maxAttempts}`,
    ...(options.note ? [safe`Note      ${options.note}`] : []),
    safe`Created   ${v.createdAt} (${safeLine(age === undefined ? "age unknown" : `${age} ago`)})`,
    ...(v.startedAt ? [safe`Started   ${v.startedAt}`] : []),
    ...(v.finishedAt
      ? [
          safe`Finished  ${v.finishedAt}${v.durationMs !== undefined ? safeLine(` (${formatElapsed(v.durationMs)})`) : safe``}`,
        ]
      : []),
    ...(v.state === "completed" || v.usage ? [safeLine(`Tokens    ${taskUsageText(v)}`)] : []),
    safe``,
    safe`Request:`,
    indent(v.text),
    safe``,
    safe`History:`,
    // timelineOf returns the view's own (sanitized) strings and code-written ones.
    ...timelineOf(v).map((h) => safeLine(`  ${h.at}  ${h.event}${h.detail ? `: ${h.detail}` : ""}`)),
  ];
  if (v.reply !== undefined)
    lines.push(safe``, v.state === "running" ? safe`Reply so far:` : safe`Reply:`, indent(v.reply));
  if (v.error)
    lines.push(
      safe``,
      safe`Error: ${v.error.message}`,
      ...(v.error.hint ? [safe`  fix: ${v.error.hint}`] : []),
    );
  return lines.join("\n");
}
