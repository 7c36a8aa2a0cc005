import { attemptEvents } from "../../domain/history.js";
import type { RouteDecision } from "../../domain/schema.js";
import { BlackboardError } from "../errors.js";
import { requireTask as requireStoredTask } from "../names.js";
import type { StoredTask } from "../types.js";
import { restoreArchived } from "./archive.js";
import { getTask } from "./reads.js";
import type { TaskRecords } from "./records.js";

/**
 * Cancel a task: a pending one finishes cancelled at once (one CAS); a claimed one gets the
 * cancel flag, and its worker, which polls isCancelRequested, stops it.
 */
export async function requestCancel(store: TaskRecords, id: string): Promise<StoredTask> {
  await requireTask(store, id);
  for (let i = 0; i < 20; i++) {
    const read = await store.readTask(id);
    if (read.kind !== "ok") break;
    const { record } = read;
    if (record.state === "finished") {
      throw new BlackboardError({ code: "already_finished", id, state: record.outcome?.status });
    }
    if (record.cancelRequested) break;
    const next =
      record.state === "pending"
        ? store.successor(
            { ...record, cancelRequested: true },
            {
              event: { event: "cancelled", detail: "cancelled while pending" },
              consumesAttempt: false,
              via: "cancel",
            },
          ).next
        : // A claimed task is stopped by its worker, which polls isCancelRequested.
          store.write({ ...record, cancelRequested: true, via: "cancel" });
    if ((await store.cas(id, next, read.rev)) !== undefined) break;
  }
  return (await getTask(store, id)) ?? (await requireTask(store, id));
}

/** Run a failed or cancelled task again (an archived one is brought back first). */
export async function retryTask(
  store: TaskRecords,
  id: string,
  reroute?: RouteDecision,
): Promise<StoredTask> {
  const task = await requireTask(store, id);
  if (task.state !== "failed" && task.state !== "cancelled") {
    throw new BlackboardError({ code: "not_retryable", id, state: task.state });
  }
  let read = await store.readTask(id);
  if (read.kind === "missing") read = await restoreArchived(store, id);
  const outcome =
    read.kind === "ok" && read.record.state === "finished"
      ? await store.move(id, read, {
          ...(reroute ? { reroute } : {}),
          event: {
            event: "retried",
            detail: `by hand after ${task.state}: attempt ${task.request.attempt + 1} next`,
          },
          earlier: attemptEvents(task.request, task.node, task.result),
          consumesAttempt: true,
          raiseMaxAttempts: true,
          clearCancel: true,
          via: "retry",
        })
      : "lost";
  if (outcome === "lost") throw new BlackboardError({ code: "changed_while_retrying", id });
  return (await getTask(store, id)) ?? task;
}

/** Task `id`, or a coded error (not a task id, or not on this blackboard). */
function requireTask(store: TaskRecords, id: string): Promise<StoredTask> {
  return requireStoredTask(
    (task) => getTask(store, task),
    id,
    `the NATS blackboard at ${store.link.location}`,
  );
}
