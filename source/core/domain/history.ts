import { formatElapsed } from "./durations.js";
import type { TaskEvent, TaskProgress, TaskRequest, TaskResult } from "./schema.js";
import { localeOrder } from "./text-order.js";

/**
 * What happened to one attempt that is not in the request's history: when it started and how
 * it ended live in the progress and result records (claiming never rewrites the request). A
 * result that went missing has no real finishing time (see the directory driver): its end is
 * left out. Each detail names the attempt.
 */
export function attemptEvents(
  request: Pick<TaskRequest, "attempt">,
  node: string,
  result: TaskResult | undefined,
  progress?: Pick<TaskProgress, "startedAt" | "by">,
): TaskEvent[] {
  const events: TaskEvent[] = [];
  const attempt = `attempt ${request.attempt}`;
  const startedAt = result?.startedAt ?? progress?.startedAt;
  // A claim starts its turn at once: the claim is recorded with the start, by whoever claimed it.
  const by = result?.by ?? progress?.by;
  if (startedAt && by) events.push({ at: startedAt, event: "claimed", detail: `${attempt} by ${by}` });
  if (startedAt) events.push({ at: startedAt, event: "started", detail: `${attempt} on ${node}` });
  const lost = result?.error?.kind === "result_missing" || result?.error?.kind === "result_unreadable";
  if (result && !lost) {
    const took = result.durationMs === undefined ? "" : ` after ${formatElapsed(result.durationMs)}`;
    const why = result.status !== "completed" && result.error ? `: ${result.error.message}` : "";
    events.push({
      at: result.finishedAt,
      event: result.status,
      detail: `${attempt}${took}${why}`.slice(0, 500),
    });
  }
  return events;
}

/**
 * A task's whole history, oldest first: the recorded events (routed, handed back, retried…,
 * each earlier attempt's start and end once a retry or a hand-back recorded them) and the
 * current attempt's own start and end. ISO times sort as text; the sort is stable, so events at
 * the same instant keep their order.
 */
export function completeHistory(
  request: Pick<TaskRequest, "attempt" | "history">,
  node: string,
  result: TaskResult | undefined,
  progress?: Pick<TaskProgress, "startedAt" | "by">,
): TaskEvent[] {
  const current = result && result.attempt !== request.attempt ? undefined : result;
  return [...request.history, ...attemptEvents(request, node, current, progress)].sort((a, b) =>
    localeOrder(a.at, b.at),
  );
}
