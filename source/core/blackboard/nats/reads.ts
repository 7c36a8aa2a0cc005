import { isValidTaskId } from "../../domain/ids.js";
import { count } from "../../domain/plural.js";
import { NodeDefinition } from "../../domain/registry.js";
import { NodeStatusRecord, TaskResult } from "../../domain/schema.js";
import { emptyTaskCounts, newerFirst } from "../driver-rules.js";
import { heartbeatNotAfter } from "../foreign-time.js";
import { truncateName } from "../names.js";
import { misfiled } from "../node-registry.js";
import type { ListOptions, StoredTask, TaskListing } from "../types.js";
import { mapLimit } from "./collections.js";
import { parseJsonRecord } from "./nats-untrusted.js";
import { type NatsTaskRecord, ProgressWithClaim, parseRecord } from "./record.js";
import type { TaskRecords } from "./records.js";

const CONCURRENCY = 32;

/**
 * A record as the Blackboard interface describes a task: a claimed task is "running" once its
 * claim holder wrote progress, and a finished one carries its result (from the record, or
 * from the results bucket at the committed revision; else a result_missing verdict).
 */
export async function describeTask(store: TaskRecords, record: NatsTaskRecord): Promise<StoredTask> {
  const { link } = store;
  const { request, node, cancelRequested } = record;
  if (record.state === "pending") return { request, node, state: "pending", cancelRequested };
  if (record.state === "claimed") {
    const entry = await link.io("read progress", () => link.kv.progress.get(request.id));
    const parsed = entry?.operation === "PUT" ? parseJsonRecord(entry.value, ProgressWithClaim) : undefined;
    const progress = parsed?.ok ? parsed.value : undefined;
    const running =
      progress !== undefined &&
      progress.id === request.id &&
      progress.attempt === request.attempt &&
      (progress.claim === undefined || progress.claim === record.claim?.token);
    if (!running) return { request, node, state: "claimed", cancelRequested };
    const { claim: _claim, ...plain } = progress;
    return { request, node, state: "running", cancelRequested, progress: plain };
  }
  const outcome = record.outcome!;
  let result: TaskResult | undefined = outcome.verdict ?? outcome.result;
  if (!result && outcome.resultRevision !== undefined) {
    const key = link.names.resultKey(request.id, request.attempt);
    const entry = await link.io("read a result", () => link.kv.results.get(key));
    const parsed =
      entry?.operation === "PUT" && entry.revision === outcome.resultRevision
        ? parseJsonRecord(entry.value, TaskResult)
        : undefined;
    if (parsed?.ok && parsed.value.id === request.id && parsed.value.attempt === request.attempt)
      result = parsed.value;
  }
  result ??= {
    schema: "clawos.result/1",
    id: request.id,
    attempt: request.attempt,
    node,
    status: outcome.status,
    error: { kind: "result_missing", message: "finished, but its result is missing or unreadable" },
    finishedAt: record.at,
  };
  return { request, node, state: outcome.status, result, cancelRequested };
}

/** Task `id`, live or archived. */
export async function getTask(store: TaskRecords, id: string): Promise<StoredTask | undefined> {
  if (!isValidTaskId(id)) return undefined;
  const read = await store.readTask(id);
  if (read.kind === "ok") return describeTask(store, read.record);
  const archived = read.kind === "missing" ? await store.readArchived(id) : undefined;
  return archived ? describeTask(store, archived) : undefined;
}

export async function listTasks(store: TaskRecords, options: ListOptions = {}): Promise<TaskListing> {
  const { link } = store;
  const finishedLimit = options.finishedLimit ?? 500;
  const counts = emptyTaskCounts();
  const problems: string[] = [];
  const active: NatsTaskRecord[] = [];
  const finished: NatsTaskRecord[] = [];
  for (const entry of await store.scan(link.kv.tasks)) {
    if (entry.operation !== "PUT") continue;
    const where = `${link.names.tasks}/${truncateName(entry.key)}`;
    if (!isValidTaskId(entry.key)) {
      problems.push(`${where}: not a task record (its key is not a task id)`);
      continue;
    }
    const read = parseRecord(entry.key, entry);
    if (read.kind === "malformed") problems.push(`${where}: ${read.reason}`);
    if (read.kind !== "ok") continue;
    (read.record.state === "finished" ? finished : active).push(read.record);
  }
  active.sort((a, b) => (a.state === b.state ? 0 : a.state === "claimed" ? -1 : 1));
  finished.sort((a, b) => newerFirst(a.request, b.request));
  const shown = [...active, ...finished.slice(0, finishedLimit)];
  const tasks = await mapLimit(shown, CONCURRENCY, (r) => describeTask(store, r));
  for (const t of tasks) counts[t.state]++;
  for (const r of finished.slice(finishedLimit)) counts[r.outcome!.status]++;
  const aside = (await store.scan(link.kv.aside)).filter(
    (e) => e.operation === "PUT" && e.key.endsWith(".reason"),
  ).length;
  if (aside) problems.push(`${count(aside, "malformed record")} set aside in bucket ${link.names.aside}`);
  return { tasks, counts, problems };
}

export async function readNodeStatuses(
  store: TaskRecords,
): Promise<{ records: NodeStatusRecord[]; problems: string[] }> {
  const { link } = store;
  const records: NodeStatusRecord[] = [];
  const problems: string[] = [];
  for (const entry of await store.scan(link.kv.nodes)) {
    if (entry.operation !== "PUT") continue;
    const where = `${link.names.nodes}/${truncateName(entry.key)}`;
    const parsed = parseJsonRecord(entry.value, NodeStatusRecord);
    if (!parsed.ok) problems.push(`${where}: ${parsed.reason}`);
    else if (parsed.value.node !== entry.key)
      problems.push(`${where}: holds the status of node ${parsed.value.node}`);
    else records.push(heartbeatNotAfter(parsed.value, entry.created.getTime()));
  }
  return { records, problems };
}

/** Every owner's node records (key `<owner key>.<node>`), in one scan of the registry bucket. */
export async function readNodeDefinitions(
  store: TaskRecords,
): Promise<{ records: NodeDefinition[]; problems: string[] }> {
  const { link } = store;
  const records: NodeDefinition[] = [];
  const problems: string[] = [];
  for (const entry of await store.scan(link.kv.registry)) {
    if (entry.operation !== "PUT") continue;
    const where = `${link.names.registry}/${truncateName(entry.key)}`;
    const dot = entry.key.lastIndexOf(".");
    const parsed = parseJsonRecord(entry.value, NodeDefinition);
    const wrong = parsed.ok
      ? misfiled(parsed.value, entry.key.slice(0, Math.max(dot, 0)), entry.key.slice(dot + 1))
      : parsed.reason;
    if (wrong) problems.push(`${where}: ${wrong}`);
    else if (parsed.ok) records.push(parsed.value);
  }
  return { records, problems };
}
