import { UserError } from "../../domain/errors.js";
import { isValidTaskId } from "../../domain/ids.js";
import type { RouteDecision } from "../../domain/schema.js";
import type { StoredTask } from "../types.js";
import { restoreArchived } from "./archive.js";
import { truncateName } from "./nats-untrusted.js";
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
      throw new UserError(
        `Task ${id} has already finished (${record.outcome?.status}); there is nothing to cancel.`,
        { code: "not_cancellable" },
      );
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
    throw new UserError(`Task ${id} is ${task.state}; only failed or cancelled tasks can be retried.`, {
      hint:
        task.state === "completed"
          ? "dispatch it again to run it once more"
          : "wait for it to finish, or cancel it first",
      code: "not_retryable",
    });
  }
  let read = await store.readTask(id);
  if (read.kind === "missing") read = await restoreArchived(store, id);
  const outcome =
    read.kind === "ok" && read.record.state === "finished"
      ? await store.move(id, read, {
          ...(reroute ? { reroute } : {}),
          event: { event: "retry", detail: `retried by hand after ${task.state}` },
          consumesAttempt: true,
          raiseMaxAttempts: true,
          clearCancel: true,
          via: "retry",
        })
      : "lost";
  if (outcome === "lost")
    throw new UserError(`Task ${id} changed while retrying it; look again with clawos tasks show ${id}.`);
  return (await getTask(store, id)) ?? task;
}

async function requireTask(store: TaskRecords, id: string): Promise<StoredTask> {
  if (!isValidTaskId(id)) {
    throw new UserError(`"${truncateName(id)}" is not a task id.`, {
      hint: "ids look like req_20260227_203220_e68aee2d",
      code: "usage",
    });
  }
  const task = await getTask(store, id);
  if (!task)
    throw new UserError(`No task ${id} on the NATS blackboard at ${store.link.location}.`, {
      hint: "clawos tasks list shows them",
      code: "not_found",
    });
  return task;
}
