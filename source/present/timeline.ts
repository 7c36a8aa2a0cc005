import { formatElapsed } from "../core/domain/durations.js";
import type { TaskView } from "../core/domain/federation-types.js";
import { FINAL_STATES, type TaskEvent } from "../core/domain/schema.js";

/**
 * A task's history as a person reads it: the recorded events (routed, attempts that failed,
 * leases that ran out…) plus when its current attempt started and how it ended, which live in
 * the progress and result records rather than in the request (claiming never rewrites it).
 */
export function timelineOf(task: TaskView): TaskEvent[] {
  const events = [...task.history];
  if (task.startedAt)
    events.push({ at: task.startedAt, event: "started", detail: `on ${task.node}, attempt ${task.attempt}` });
  // A result that went missing has no real finishing time (see the directory driver): say nothing.
  const lost = task.error?.kind === "result_missing" || task.error?.kind === "result_unreadable";
  if (task.finishedAt && FINAL_STATES.includes(task.state) && !lost) {
    const took = task.durationMs === undefined ? "" : `after ${formatElapsed(task.durationMs)}`;
    events.push({ at: task.finishedAt, event: task.state, detail: took });
  }
  // ISO times sort as text; the sort is stable, so events at the same instant keep their order.
  return events.sort((a, b) => a.at.localeCompare(b.at));
}
