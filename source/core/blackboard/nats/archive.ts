import { Bucket } from "@nats-io/kv";
import { DAY_MS } from "../../domain/durations.js";
import type { TaskResult } from "../../domain/schema.js";
import { isWrongLastSequence } from "./js-errors.js";
import { describeTask } from "./reads.js";
import { fitText, type OkRead, type Read } from "./record.js";
import type { TaskRecords } from "./records.js";

/**
 * Finished tasks leave the tasks bucket for the archive bucket `archiveAfterMs` after they
 * finished, so that listings and the coordinator's scans stay proportional to live work. The
 * delete marker left in the tasks bucket keeps the id taken; get() still finds an archived
 * task, and retry() brings one back.
 */

/**
 * Move a finished task to the archive bucket: copy it there (a large result folded in), then
 * delete it from the tasks bucket only if it is still that revision (a retry may have moved
 * it on: then the copy is withdrawn). A crash in between leaves both copies; the next round
 * finishes the move. Its results entries go last.
 */
export async function archiveTask(store: TaskRecords, read: OkRead): Promise<boolean> {
  const { link } = store;
  const { record, rev } = read;
  const id = record.request.id;
  let copy = record;
  const outcome = record.outcome!;
  if (outcome.resultRevision !== undefined) {
    const full = (await describeTask(store, record)).result;
    // The result's text is cut (and says so) if the record would not fit otherwise.
    const result = full
      ? (JSON.parse(fitText(full, link.maxRecordBytes - 32 * 1024)) as TaskResult)
      : undefined;
    copy = { ...record, outcome: { status: outcome.status, ...(result ? { result } : {}) } };
  }
  const data = JSON.stringify(copy);
  await link.io("archive a task", () => link.kv.archive.put(id, data));
  try {
    await link.io("archive a task", () => link.kv.tasks.delete(id, { previousSeq: rev }));
  } catch (error) {
    if (!isWrongLastSequence(error)) throw error;
    // Moved on meanwhile (retried): it is live again, so the copy goes.
    const now = await store.readTask(id);
    if (now.kind === "ok") await link.io("withdraw an archived copy", () => link.kv.archive.purge(id));
    return false;
  }
  for (let attempt = 1; attempt <= record.request.attempt; attempt++)
    await link
      .io("drop an archived result", () => link.kv.results.purge(link.names.resultKey(id, attempt)))
      .catch(() => {});
  return true;
}

/** Put an archived task back into the tasks bucket (for a retry). */
export async function restoreArchived(store: TaskRecords, id: string): Promise<Read> {
  const archived = await store.readArchived(id);
  if (archived) await store.createRecord(archived, true);
  return store.readTask(id);
}

/**
 * Delete markers of archived tasks keep their ids taken; once the archive itself has let
 * them go (archiveKeepMs), the markers go too.
 */
export async function purgeOldMarkers(store: TaskRecords): Promise<void> {
  const { link } = store;
  const tasks = link.kv.tasks;
  if (!(tasks instanceof Bucket)) return;
  const keep = link.options.archiveKeepMs ?? 90 * DAY_MS;
  await link.io("drop old delete markers", () => tasks.purgeDeletes(keep)).catch(() => {});
}
