import type { DispatchOutcome, NodeView, TaskView } from "../core/domain/federation-types.js";
import { FINAL_STATES } from "../core/domain/schema.js";
import { waitingHint } from "../core/federation/waiting.js";
import { type SafeText, safe, safeLine } from "../present/safe-text.js";
import { clip, formatAge, formatElapsed, wrapLines } from "../present/text.js";
import { timelineOf } from "../present/timeline.js";
import type { Tone } from "./theme.js";

/** One screen line of the task detail view, sanitized (clip, wrapLines) and cut to width. */
export interface DetailLine {
  text: SafeText;
  tone?: Tone;
  bold?: boolean;
}

function when(iso: string | undefined, now: number): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return clip(iso, 30);
  return `${new Date(t).toISOString().replace("T", " ").slice(0, 19)}Z (${formatAge(iso, now)} ago)`;
}

function section(lines: DetailLine[], title: SafeText): void {
  lines.push({ text: safe`` });
  lines.push({ text: title, bold: true, tone: "accent" });
}

function indented(lines: DetailLine[], text: string | undefined, width: number, tone?: Tone): void {
  for (const line of wrapLines(text, Math.max(1, width - 2)))
    lines.push({ text: safe`  ${line}`, ...(tone ? { tone } : {}) });
}

/**
 * Everything the detail view shows, as lines: the reducer uses the count to
 * clamp scrolling and the component renders a window of them. The reply comes
 * last so that "follow" keeps the streaming text in view.
 */
export function buildDetailLines(
  task: TaskView | undefined,
  width: number,
  now: number,
  pending?: { id: string; outcome?: DispatchOutcome },
  node?: NodeView,
): DetailLine[] {
  const lines: DetailLine[] = [];
  if (!task) {
    const id = pending?.id ?? "?";
    lines.push({ text: clip(`Task ${id}`, width), bold: true });
    lines.push({ text: safe`Waiting for the task to appear in the federation…`, tone: "muted" });
    const decision = pending?.outcome?.decision;
    if (decision) {
      const routed = decision.node
        ? `Routed to ${decision.node}: ${decision.reason}`
        : `Not routed yet: ${decision.reason}`;
      for (const line of wrapLines(routed, width)) lines.push({ text: line });
    }
    return lines;
  }
  const running = !FINAL_STATES.includes(task.state);
  lines.push({
    text: clip(
      `${task.id} · ${task.state} · ${task.priority} · attempt ${task.attempt}/${task.maxAttempts}`,
      width,
    ),
    bold: true,
    tone: task.state === "failed" ? "error" : task.state === "completed" ? "ok" : "accent",
  });
  const target = task.target === task.node ? task.node : `${task.target} → ${task.node}`;
  lines.push({ text: clip(`Target    ${target} via ${task.route.transport}`, width) });
  for (const [i, line] of wrapLines(
    `${task.route.node}: ${task.route.reason}`,
    Math.max(1, width - 10),
  ).entries()) {
    lines.push({ text: i === 0 ? safe`Routing   ${line}` : safe`          ${line}` });
  }
  lines.push({ text: clip(`Created   ${when(task.createdAt, now)}`, width) });
  if (task.startedAt) lines.push({ text: clip(`Started   ${when(task.startedAt, now)}`, width) });
  if (task.finishedAt) lines.push({ text: clip(`Finished  ${when(task.finishedAt, now)}`, width) });
  if (task.durationMs !== undefined)
    lines.push({ text: clip(`Took      ${formatElapsed(task.durationMs)}`, width) });

  section(lines, safe`Request`);
  indented(lines, task.text, width);

  const timeline = timelineOf(task);
  if (timeline.length > 0) {
    section(lines, safe`History (${timeline.length})`);
    // Time, event and detail; long details wrap under the event, not off the screen.
    for (const event of timeline) {
      const at = Number.isNaN(Date.parse(event.at))
        ? ""
        : new Date(Date.parse(event.at)).toISOString().slice(11, 19);
      const head = safeLine(`  ${at.padEnd(8)}  `);
      const under = safeLine(" ".repeat(head.length));
      const text = event.detail ? `${event.event}  ${event.detail}` : event.event;
      for (const [i, line] of wrapLines(text, Math.max(1, width - head.length)).entries())
        lines.push({ text: safe`${i === 0 ? head : under}${line}`, tone: "muted" });
    }
  }

  if (task.error) {
    section(lines, safe`Error`);
    indented(lines, `${task.error.kind}: ${task.error.message}`, width, "error");
    if (task.error.hint) {
      lines.push({ text: safe`  Hint:`, bold: true });
      indented(lines, task.error.hint, width);
    }
  }

  const replyTitle = task.reply
    ? running
      ? safe`Reply (streaming…)`
      : safe`Reply`
    : running
      ? safe`Reply (waiting for the node…)`
      : safe`Reply (none)`;
  section(lines, replyTitle);
  const hint = waitingHint(task, node, now);
  if (hint) indented(lines, hint, width, "warn");
  if (task.reply) indented(lines, task.reply, width);
  return lines;
}
