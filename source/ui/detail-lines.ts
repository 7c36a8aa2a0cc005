import type { DispatchOutcome, NodeView, TaskView } from "../core/domain/federation-types.js";
import { waitingHint } from "../core/federation/waiting.js";
import { forInvocation } from "../present/invocation.js";
import { safe } from "../present/safe-text.js";
import { type DetailLine, taskDetailLines } from "../present/task-detail.js";
import { clip, wrapLines } from "../present/text.js";

export type { DetailLine };

/**
 * Everything the detail view shows, as lines (the same as `tasks show`): the reducer uses the
 * count to clamp scrolling and the component renders a window of them. Before a task just
 * dispatched appears, where it was routed.
 */
export function buildDetailLines(
  task: TaskView | undefined,
  width: number,
  now: number,
  pending?: { id: string; outcome?: DispatchOutcome },
  node?: NodeView,
): DetailLine[] {
  if (task) {
    const note = waitingHint(task, node, now);
    return taskDetailLines(task, { width, now, ...(note ? { note: forInvocation(note) } : {}) });
  }
  const lines: DetailLine[] = [];
  lines.push({ text: clip(`Task ${pending?.id ?? "?"}`, width), bold: true });
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
