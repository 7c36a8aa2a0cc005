import { join } from "node:path";
import { isValidNodeId, isValidTaskId } from "../../domain/ids.js";
import { count } from "../../domain/plural.js";
import { TaskProgress, TaskRequest, TaskResult, type TaskState } from "../../domain/schema.js";
import { emptyTaskCounts, newerFirst, readForNewest } from "../driver-rules.js";
import { truncateName } from "../names.js";
import type { ListOptions, StoredTask, TaskListing } from "../types.js";
import type { Archive } from "./archive.js";
import {
  claimedIdOf,
  type DirectoryLayout,
  misplaced,
  OUTCOME_PRECEDENCE,
  pendingIdOf,
  problemOf,
  RESULT_LAG_MS,
  type ResultEntry,
  reapingNameOf,
} from "./layout.js";
import { isSyncArtifact } from "./records.js";

/** Finished tasks read from disk between two turns of the event loop. */
const YIELD_EVERY = 64;

/** Reading tasks back: one by id (get) and the whole board (list), finished ones cached. */
export class Listing {
  constructor(
    private readonly fs: DirectoryLayout,
    private readonly archive: Archive,
  ) {}

  private readonly doneCache = new Map<string, StoredTask>();

  async describe(
    area: "requests" | "claimed" | "done" | "reaping",
    node: string,
    request: TaskRequest,
    results?: Map<string, ResultEntry[]>,
    resultsDirs: string[] = [this.fs.dir("results"), this.fs.archiveDir(request.id, "results")],
  ): Promise<StoredTask> {
    const cancelRequested = await this.fs.isCancelRequested(request.id);
    if (area === "requests" || area === "reaping")
      return { request, node, state: "pending", cancelRequested };
    if (area === "claimed") {
      const progress = await this.fs.read(this.fs.dir("progress", `${request.id}.json`), TaskProgress);
      const running = progress.kind === "ok" && progress.value.attempt === request.attempt;
      return {
        request,
        node,
        state: running ? "running" : "claimed",
        cancelRequested,
        ...(running ? { progress: progress.value } : {}),
      };
    }
    // Normally one result per attempt; if a crash left a loser's beside it, a verdict outranks a completion.
    // Without a listing at hand, the three possible names are tried (a verdict first); an archiving
    // pass interrupted halfway may have moved the results already, so the archive is looked at too.
    const listed = (results?.get(request.id) ?? [])
      .filter((r) => r.attempt === request.attempt)
      .sort((a, b) => OUTCOME_PRECEDENCE[a.status] - OUTCOME_PRECEDENCE[b.status])
      .map((r) => r.name);
    const names = listed.length
      ? listed
      : (["failed", "cancelled", "completed"] as const).map((status) =>
          this.fs.resultName(request.id, request.attempt, status),
        );
    let unreadable: string | undefined;
    for (const dir of resultsDirs) {
      for (const name of names) {
        const read = await this.fs.read(join(dir, name), TaskResult);
        if (read.kind === "ok" && read.value.id === request.id && read.value.attempt === request.attempt)
          return { request, node, state: read.value.status, result: read.value, cancelRequested };
        if (read.kind === "malformed") unreadable ??= `results/${truncateName(name)} ${read.reason}`;
      }
    }
    // On a synced folder the finishing rename can arrive before the result it follows: until
    // RESULT_LAG_MS after the done file arrived here, the task is still finishing, not failed.
    if (
      !cancelRequested &&
      !unreadable &&
      (await this.fs.arrivedWithin(this.fs.requestPath("done", node, request.id), RESULT_LAG_MS))
    )
      return { request, node, state: "claimed", cancelRequested };
    // Finished without a readable result: a cancel of a pending task interrupted, or a result lost.
    const state: TaskState = cancelRequested ? "cancelled" : "failed";
    return {
      request,
      node,
      state,
      cancelRequested,
      result: {
        schema: "clawos.result/1",
        id: request.id,
        attempt: request.attempt,
        node,
        status: state === "cancelled" ? "cancelled" : "failed",
        error: unreadable
          ? {
              kind: "result_unreadable",
              message: `finished, but its result file cannot be read: ${unreadable}`,
              hint: "the reply is lost; clawos tasks retry ID runs the task again",
            }
          : { kind: "result_missing", message: "finished, but its result file is missing" },
        finishedAt: request.createdAt,
      },
    };
  }

  async get(id: string): Promise<StoredTask | undefined> {
    if (!isValidTaskId(id)) return undefined;
    // A lookup reads the areas one after another, so it can fall between the two ends of a
    // move (requests → claimed) and see the task nowhere: a miss is looked at once more.
    return (await this.lookup(id)) ?? (await this.lookup(id));
  }

  async lookup(id: string): Promise<StoredTask | undefined> {
    const nodes = new Set<string>();
    const index = await this.fs.read(this.fs.dir("index", `${id}.json`), TaskRequest);
    if (index.kind === "ok") nodes.add(index.value.route.node);
    for (const area of ["requests", "claimed", "done"])
      for (const n of await this.fs.nodeDirs(area)) nodes.add(n);
    // Only a record that holds this task for this node counts (see misplaced()).
    const read = async (path: string, node: string) => {
      const r = await this.fs.read(path, TaskRequest);
      return r.kind === "ok" && !misplaced(r.value, id, node) ? r.value : undefined;
    };
    for (const node of nodes) {
      for (const path of await this.fs.claimedPaths(node, id)) {
        const request = await read(path, node);
        if (request) return this.describe("claimed", node, request);
      }
      for (const area of ["requests", "done"] as const) {
        const request = await read(this.fs.requestPath(area, node, id), node);
        if (request) return this.describe(area, node, request);
      }
      for (const name of await this.fs.listIn(this.fs.dir("reaping", node))) {
        if (reapingNameOf(name)?.id !== id) continue;
        const request = await read(this.fs.dir("reaping", node, name), node);
        if (request) return this.describe("reaping", node, request);
      }
    }
    const archived = await this.archive.findArchived(id);
    return archived ? this.describe("done", archived.node, archived.request) : undefined;
  }

  async list(options: ListOptions = {}): Promise<TaskListing> {
    const finishedLimit = options.finishedLimit ?? 500;
    const counts = emptyTaskCounts();
    const tasks: StoredTask[] = [];
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const area of ["requests", "claimed", "reaping", "done"]) {
      for (const name of await this.fs.listIn(this.fs.dir(area))) {
        if (isSyncArtifact(name)) continue;
        if (!isValidNodeId(name))
          problems.push(`${area}/${truncateName(name)}: not a node directory (expected ${area}/<node id>/)`);
        else {
          const blocked = this.fs.confine.blockedDir(this.fs.dir(area, name));
          if (blocked) problems.push(`${blocked}: not followed; remove it`);
        }
      }
    }
    const collect = async (area: "requests" | "claimed" | "reaping", node: string) => {
      for (const name of await this.fs.listIn(this.fs.dir(area, node))) {
        if (isSyncArtifact(name)) continue;
        const id =
          area === "claimed"
            ? claimedIdOf(name)
            : area === "reaping"
              ? reapingNameOf(name)?.id
              : pendingIdOf(name);
        const where = `${area}/${node}/${truncateName(name)}`;
        if (!id) {
          problems.push(`${where}: not a task file name (expected <task id>.json)`);
          continue;
        }
        const read = await this.fs.read(this.fs.dir(area, node, name), TaskRequest, this.fs.now());
        const problem = problemOf(read);
        if (problem) problems.push(`${where}: ${problem}`);
        if (read.kind !== "ok") continue;
        const wrong = misplaced(read.value, id, node);
        if (wrong) {
          problems.push(`${where}: ${wrong}`);
          continue;
        }
        if (seen.has(id)) continue;
        seen.add(id);
        const task = await this.describe(area, node, read.value);
        counts[task.state]++;
        tasks.push(task);
      }
    };
    for (const node of await this.fs.nodeDirs("claimed")) await collect("claimed", node);
    for (const node of await this.fs.nodeDirs("requests")) await collect("requests", node);
    for (const node of await this.fs.nodeDirs("reaping")) await collect("reaping", node);
    if (options.activeOnly) return { tasks, counts, problems };

    const results = await this.fs.resultsIndex();
    const finished: { node: string; id: string }[] = [];
    for (const node of await this.fs.nodeDirs("done")) {
      for (const name of await this.fs.listIn(this.fs.dir("done", node))) {
        const id = pendingIdOf(name);
        if (id && !seen.has(id)) finished.push({ node, id });
      }
    }
    finished.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const seenDone = new Set<string>();
    const reading = readForNewest(
      finished.map((f) => f.id),
      finishedLimit,
    );
    const finishedRead: StoredTask[] = [];
    let fromDisk = 0;
    for (const [i, { node, id }] of finished.entries()) {
      if (i < reading) {
        // A finished task never changes while it stays in done/ (a retry moves it out): read it once.
        // Keyed by the newest result's attempt too, so a retried-and-finished-again task is read afresh.
        const newest = (results.get(id) ?? []).reduce((a, r) => Math.max(a, r.attempt), 0);
        const key = `${node}/${id}/${newest}`;
        seenDone.add(key);
        const cached = this.doneCache.get(key);
        if (cached) {
          counts[cached.state]++;
          finishedRead.push(cached);
          continue;
        }
        // The reads are synchronous: a first read of thousands would hold the event loop (the
        // control center's frames and keys) for its whole length, so it lets them in now and then.
        if (++fromDisk % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
        const read = await this.fs.read(this.fs.requestPath("done", node, id), TaskRequest);
        if (read.kind !== "ok") {
          const problem = problemOf(read);
          if (problem) problems.push(`done/${node}/${id}.json: ${problem}`);
          continue;
        }
        const wrong = misplaced(read.value, id, node);
        if (wrong) {
          problems.push(`done/${node}/${id}.json: ${wrong}`);
          continue;
        }
        const task = await this.describe("done", node, read.value, results);
        counts[task.state]++;
        finishedRead.push(task);
        const lost = task.result?.error?.kind;
        if (lost === "result_unreadable") problems.push(`${id}: ${task.result?.error?.message}`);
        if (lost !== "result_missing" && lost !== "result_unreadable") this.doneCache.set(key, task);
      } else {
        // Only counted: the newest result of a finished task is its outcome.
        const outcomes = results.get(id);
        const last = outcomes?.reduce((a, b) =>
          b.attempt > a.attempt ||
          (b.attempt === a.attempt && OUTCOME_PRECEDENCE[b.status] < OUTCOME_PRECEDENCE[a.status])
            ? b
            : a,
        );
        counts[last?.status ?? "failed"]++;
      }
    }
    tasks.push(
      ...finishedRead.sort((a, b) => newerFirst(a.request, b.request)).slice(0, Math.max(0, finishedLimit)),
    );
    for (const key of this.doneCache.keys()) if (!seenDone.has(key)) this.doneCache.delete(key);
    // Archived tasks are only counted (clawos tasks show ID still reads one).
    const archived = await this.archive.archivedCounts();
    counts.completed += archived.completed;
    counts.failed += archived.failed;
    counts.cancelled += archived.cancelled;
    const quarantined = (await this.fs.listIn(this.fs.dir("quarantine"))).filter(
      (n) => !n.endsWith(".reason"),
    ).length;
    if (quarantined)
      problems.push(
        `${count(quarantined, "malformed file")} set aside in ${this.fs.dir("quarantine")}: read each .reason, then delete them (this line goes away)`,
      );
    return { tasks, counts, problems };
  }
}
