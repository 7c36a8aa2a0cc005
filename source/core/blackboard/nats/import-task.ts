import { TaskRequest, TaskResult } from "../../domain/schema.js";
import type { StoredTask } from "../types.js";
import { fitText, INLINE_RESULT_MAX, NatsTaskRecord, RECORD_SCHEMA } from "./record.js";
import type { TaskRecords } from "./records.js";

/**
 * Copy one task from another blackboard (clawos blackboard migrate). Pending and claimed
 * tasks arrive pending with the same attempt (a claim does not survive the move: its run is
 * redone); finished ones keep their result. Idempotent: an id already here is left alone.
 */
export async function importTask(
  store: TaskRecords,
  task: StoredTask,
  from: string,
): Promise<"created" | "exists"> {
  const id = task.request.id;
  if ((await store.readTask(id)).kind !== "missing") return "exists";
  const record =
    task.state === "pending" || task.state === "claimed" || task.state === "running"
      ? unfinishedRecord(store, task, from)
      : await finishedRecord(store, task, task.state, from);
  const rev = await store.createRecord(NatsTaskRecord.parse(record));
  if (rev === undefined) return "exists";
  if (record.state === "pending") await store.ring(record, rev);
  return "created";
}

/** The request with a "migrated" event added to its history. */
function migrated(store: TaskRecords, request: TaskRequest, detail: string): TaskRequest {
  return {
    ...request,
    history: [...request.history, { at: store.link.stamp(), event: "migrated", detail }].slice(-100),
  };
}

/** A task not yet finished arrives pending (or, if a cancel was asked for, cancelled). */
function unfinishedRecord(store: TaskRecords, task: StoredTask, from: string): NatsTaskRecord {
  const request = TaskRequest.parse(task.request);
  const base = { schema: RECORD_SCHEMA, node: task.node, cancelRequested: task.cancelRequested } as const;
  const was = task.state === "pending" ? "pending" : `${task.state} (its run is redone)`;
  if (task.cancelRequested) {
    return store.successor(
      {
        ...base,
        state: "pending",
        request: migrated(store, request, `copied from ${from}, was ${task.state}`),
        via: "migrate",
        w: "",
        at: "",
      },
      {
        event: { event: "cancelled", detail: "cancel was requested before the move" },
        consumesAttempt: false,
        via: "migrate",
      },
    ).next;
  }
  return store.write({
    ...base,
    state: "pending",
    request: migrated(store, request, `copied from ${from}, was ${was}`),
    via: "migrate",
  });
}

/** A finished task keeps its result (a large one goes to the results bucket, as a worker's would). */
async function finishedRecord(
  store: TaskRecords,
  task: StoredTask,
  status: "completed" | "failed" | "cancelled",
  from: string,
): Promise<NatsTaskRecord> {
  const { link } = store;
  const id = task.request.id;
  const request = TaskRequest.parse(task.request);
  const base = { schema: RECORD_SCHEMA, node: task.node, cancelRequested: task.cancelRequested } as const;
  const result = task.result ? TaskResult.parse(task.result) : undefined;
  let resultRevision: number | undefined;
  const large = result ? Buffer.byteLength(JSON.stringify(result)) > INLINE_RESULT_MAX : false;
  if (result && large && result.error?.kind !== "result_missing") {
    const data = fitText(result, link.maxRecordBytes);
    const key = link.names.resultKey(id, request.attempt);
    resultRevision = await store.createResult(key, data);
    if (resultRevision === undefined) {
      // An earlier, interrupted migration published it: use that one.
      const entry = await link.io("read a result", () => link.kv.results.get(key));
      resultRevision = entry?.operation === "PUT" ? entry.revision : undefined;
    }
  }
  return store.write({
    ...base,
    state: "finished",
    request: migrated(store, request, `copied from ${from}, was ${status}`),
    outcome: {
      status,
      ...(resultRevision !== undefined ? { resultRevision } : result ? { result } : {}),
    },
    via: "migrate",
  });
}
