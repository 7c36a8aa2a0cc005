import { type FSWatcher, watch } from "node:fs";
import { link, mkdir, rename, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { diskError, writeFileAtomic, writeTemp } from "../atomic-file.js";
import { isErrnoException, UserError } from "../errors.js";
import { isValidNodeId, isValidTaskId } from "../ids.js";
import {
  NodeStatusRecord,
  type RouteDecision,
  type TaskEvent,
  TaskProgress,
  TaskRequest,
  TaskResult,
  type TaskState,
} from "../schema.js";
import { isSyncArtifact, listDir, type ReadOutcome, readRecord } from "./records.js";
import type {
  Blackboard,
  Claim,
  CoordinatorDuties,
  ExpiredLease,
  ListOptions,
  RequeueOptions,
  RequeueOutcome,
  StoredTask,
  TaskListing,
  WatchScope,
} from "./types.js";

/**
 * The default blackboard: a directory, shareable by a synced folder.
 *
 *   requests/<node>/<id>.json   pending, in the inbox of the node it was routed to
 *   claimed/<node>/<id>.json    being worked on; the file's mtime is the lease
 *   done/<node>/<id>.json       finished; the outcome is in results/
 *   results/<id>.a<attempt>.<status>.json
 *   progress/<id>.json          the reply so far, written by the claim holder
 *   node-status/<node>.json     heartbeats, each written by that node's worker only
 *   index/<id>.json             creation record: dedupes enqueue, lets recovery republish
 *   reaping/<node>/<id>.<intent>.json   a move in flight (crash-safe, see recover())
 *   cancel/<id>                 cancel requested
 *   quarantine/                 malformed files moved aside, each with a .reason file
 *
 * Every state change is one rename(), so whichever rename wins decides: a claim
 * races only with other claims, a finishing worker races with the reaper, and
 * a late "zombie" completion finds its claimed file gone.
 */
export class DirectoryBlackboard implements Blackboard {
  readonly location: string;
  private readonly inboxCache = new Map<string, { mtimeMs: number; request: TaskRequest }>();
  private readonly leaseSeen = new Map<string, { mtimeMs: number; seenAt: number }>();

  constructor(
    readonly root: string,
    private readonly options: { quarantine?: boolean; clock?: () => number } = {},
  ) {
    this.location = root;
  }

  private now(): number {
    return this.options.clock ? this.options.clock() : Date.now();
  }

  // ── paths ──────────────────────────────────────────────────────────────────
  private dir(...parts: string[]): string {
    return join(this.root, ...parts);
  }
  private inbox(node: string): string {
    return this.dir("requests", node);
  }
  private requestPath(area: "requests" | "claimed" | "done", node: string, id: string): string {
    return this.dir(area, node, `${id}.json`);
  }
  private resultName(id: string, attempt: number, status: TaskResult["status"]): string {
    return `${id}.a${attempt}.${status}.json`;
  }

  async init(): Promise<void> {
    try {
      for (const d of [
        "requests",
        "claimed",
        "done",
        "results",
        "progress",
        "node-status",
        "index",
        "reaping",
        "cancel",
        "quarantine",
        "tmp",
      ]) {
        await mkdir(this.dir(d), { recursive: true });
      }
    } catch (error) {
      throw diskError(error, this.root);
    }
  }

  private async publishNew(request: TaskRequest, area: "requests" | "claimed"): Promise<boolean> {
    const valid = TaskRequest.parse(request);
    const node = valid.route.node;
    const dest = this.requestPath(area, node, valid.id);
    await mkdir(join(dest, ".."), { recursive: true });
    const tmp = await writeTemp(dest, JSON.stringify(valid), { tmpDir: this.dir("tmp") });
    try {
      // link() never overwrites: the index entry is the dedupe guard.
      try {
        await link(tmp, this.dir("index", `${valid.id}.json`));
      } catch (error) {
        if (isErrnoException(error, "EEXIST")) return false;
        throw diskError(error, this.dir("index"));
      }
      try {
        await link(tmp, dest);
      } catch (error) {
        throw diskError(error, dest);
      }
      return true;
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  async enqueue(request: TaskRequest): Promise<{ created: boolean }> {
    return { created: await this.publishNew(request, "requests") };
  }

  async enqueueClaimed(request: TaskRequest): Promise<Claim | undefined> {
    if (!(await this.publishNew(request, "claimed"))) return undefined;
    return {
      request,
      node: request.route.node,
      handle: this.requestPath("claimed", request.route.node, request.id),
    };
  }

  async pendingIds(node: string): Promise<string[]> {
    return (await listDir(this.inbox(node)))
      .filter((n) => !isSyncArtifact(n) && n.endsWith(".json"))
      .map((n) => n.slice(0, -5));
  }

  async claim(node: string, id?: string): Promise<Claim | undefined> {
    const candidates = id ? [id] : await this.claimOrder(node);
    for (const candidate of candidates) {
      if (!isValidTaskId(candidate)) continue;
      const from = this.requestPath("requests", node, candidate);
      const to = this.requestPath("claimed", node, candidate);
      const read = await this.readRequestAt(from, node, candidate);
      if (read.kind !== "ok") continue;
      if (await this.isCancelRequested(candidate)) continue;
      await mkdir(join(to, ".."), { recursive: true });
      try {
        await rename(from, to);
      } catch (error) {
        if (isErrnoException(error, "ENOENT")) continue; // another worker won
        throw diskError(error, to);
      }
      this.inboxCache.delete(from);
      const now = new Date(this.now());
      await utimes(to, now, now).catch(() => {});
      return { request: read.value, node, handle: to };
    }
    return undefined;
  }

  /** Pending ids, most urgent first (priority, then age). Parsed requests are cached by mtime. */
  private async claimOrder(node: string): Promise<string[]> {
    const dir = this.inbox(node);
    const names = await listDir(dir);
    const entries: TaskRequest[] = [];
    for (const name of names) {
      if (isSyncArtifact(name) || !name.endsWith(".json")) continue;
      const path = join(dir, name);
      const cached = this.inboxCache.get(path);
      if (cached) {
        entries.push(cached.request);
        continue;
      }
      const read = await this.readRequestAt(path, node, name.slice(0, -5));
      if (read.kind === "ok") {
        this.inboxCache.set(path, { mtimeMs: read.mtimeMs, request: read.value });
        entries.push(read.value);
      }
    }
    if (this.inboxCache.size > 50_000) this.inboxCache.clear();
    entries.sort((a, b) => a.priority.localeCompare(b.priority) || a.createdAt.localeCompare(b.createdAt));
    return entries.map((r) => r.id);
  }

  /** Read a request file and check it belongs where it lies. Malformed ones are quarantined if allowed. */
  private async readRequestAt(path: string, node: string, id: string): Promise<ReadOutcome<TaskRequest>> {
    const read = await readRecord(path, TaskRequest, this.now());
    if (read.kind === "ok" && (read.value.id !== id || read.value.route.node !== node)) {
      const bad: ReadOutcome<TaskRequest> = {
        kind: "malformed",
        reason: `holds task ${read.value.id} for node ${read.value.route.node}, but lies at ${node}/${id}.json`,
      };
      await this.maybeQuarantine(path, bad.reason);
      return bad;
    }
    if (read.kind === "malformed") await this.maybeQuarantine(path, read.reason);
    return read;
  }

  async renew(claim: Claim): Promise<boolean> {
    const now = new Date(this.now());
    try {
      await utimes(claim.handle, now, now);
      return true;
    } catch (error) {
      if (isErrnoException(error, "ENOENT")) return false;
      throw error;
    }
  }

  async progress(claim: Claim, text: string, startedAt: string): Promise<void> {
    const record: TaskProgress = {
      schema: "clawos.progress/1",
      id: claim.request.id,
      attempt: claim.request.attempt,
      node: claim.node,
      text,
      startedAt,
      updatedAt: new Date(this.now()).toISOString(),
    };
    await writeFileAtomic(this.dir("progress", `${claim.request.id}.json`), JSON.stringify(record), {
      tmpDir: this.dir("tmp"),
    });
  }

  /** Publish a result without overwriting: the first result of an attempt is the one kept. */
  private async publishResult(result: TaskResult): Promise<boolean> {
    const valid = TaskResult.parse(result);
    const dest = this.dir("results", this.resultName(valid.id, valid.attempt, valid.status));
    const tmp = await writeTemp(dest, JSON.stringify(valid), { tmpDir: this.dir("tmp") });
    try {
      for (const status of ["completed", "failed", "cancelled"] as const) {
        if (
          status !== valid.status &&
          (await exists(this.dir("results", this.resultName(valid.id, valid.attempt, status))))
        ) {
          return false;
        }
      }
      await link(tmp, dest);
      return true;
    } catch (error) {
      if (isErrnoException(error, "EEXIST")) return false;
      throw diskError(error, dest);
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  async complete(claim: Claim, result: TaskResult): Promise<boolean> {
    if (!(await exists(claim.handle))) return false; // lease already lost: do not even publish
    if (!(await this.publishResult(result))) return false;
    const done = this.requestPath("done", claim.node, claim.request.id);
    await mkdir(join(done, ".."), { recursive: true });
    try {
      await rename(claim.handle, done); // the fence: fails if the reaper took the claim meanwhile
    } catch (error) {
      if (isErrnoException(error, "ENOENT")) return false;
      throw diskError(error, done);
    }
    await unlink(this.dir("progress", `${claim.request.id}.json`)).catch(() => {});
    return true;
  }

  async requeue(claim: Claim, options: RequeueOptions): Promise<RequeueOutcome> {
    return this.moveThroughReaping(claim.handle, claim.node, claim.request, {
      intent: options.reroute ? `requeue-${options.reroute.node}` : "requeue",
      ...(options.reroute ? { reroute: options.reroute } : {}),
      event: options.event,
      ...(options.error ? { error: options.error } : {}),
    });
  }

  /**
   * Move a task out of `from` by renaming it into reaping/ (that rename is the fence),
   * then publish its next form. recover() finishes the job after a crash.
   */
  private async moveThroughReaping(
    from: string,
    node: string,
    request: TaskRequest,
    plan: {
      intent: string;
      reroute?: RouteDecision;
      event: Omit<TaskEvent, "at">;
      error?: TaskResult["error"];
      consumesAttempt?: boolean;
      raiseMaxAttempts?: boolean;
    },
  ): Promise<RequeueOutcome> {
    const reaping = this.dir("reaping", node, `${request.id}.${plan.intent}.json`);
    await mkdir(join(reaping, ".."), { recursive: true });
    try {
      await rename(from, reaping);
    } catch (error) {
      if (isErrnoException(error, "ENOENT")) return "lost";
      throw diskError(error, reaping);
    }
    return this.finishReaping(reaping, node, request, plan);
  }

  private async finishReaping(
    reaping: string,
    node: string,
    request: TaskRequest,
    plan: {
      reroute?: RouteDecision;
      event: Omit<TaskEvent, "at">;
      error?: TaskResult["error"];
      consumesAttempt?: boolean;
      raiseMaxAttempts?: boolean;
    },
  ): Promise<RequeueOutcome> {
    const at = new Date(this.now()).toISOString();
    const finishAs = async (status: "failed" | "cancelled", error?: TaskResult["error"]) => {
      await this.publishResult({
        schema: "clawos.result/1",
        id: request.id,
        attempt: request.attempt,
        node,
        status,
        ...(error ? { error } : {}),
        finishedAt: at,
      });
      const done = this.requestPath("done", node, request.id);
      await mkdir(join(done, ".."), { recursive: true });
      await rename(reaping, done);
      await unlink(this.dir("progress", `${request.id}.json`)).catch(() => {});
    };
    if (await this.isCancelRequested(request.id)) {
      await finishAs("cancelled", { kind: "cancelled", message: "cancelled by request" });
      return "cancelled";
    }
    const consumes = plan.consumesAttempt ?? true;
    const attempt = consumes ? request.attempt + 1 : request.attempt;
    if (attempt > request.maxAttempts && !plan.raiseMaxAttempts) {
      await finishAs("failed", {
        kind: plan.error?.kind ?? "gave_up",
        message: `gave up after ${request.attempt} attempt(s): ${plan.error?.message ?? plan.event.detail}`,
        ...(plan.error?.hint ? { hint: plan.error.hint } : {}),
      });
      return "dead";
    }
    const history = [...request.history, { at, ...plan.event }].slice(-100);
    const next: TaskRequest = {
      ...request,
      attempt,
      maxAttempts: plan.raiseMaxAttempts ? Math.max(request.maxAttempts, attempt) : request.maxAttempts,
      route: plan.reroute ?? request.route,
      history,
    };
    const dest = this.requestPath("requests", next.route.node, next.id);
    await writeFileAtomic(dest, JSON.stringify(TaskRequest.parse(next)), { tmpDir: this.dir("tmp") });
    await unlink(reaping).catch(() => {});
    await unlink(this.dir("progress", `${request.id}.json`)).catch(() => {});
    return "requeued";
  }

  // ── reading ───────────────────────────────────────────────────────────────
  private async nodeDirs(area: string): Promise<string[]> {
    return (await listDir(this.dir(area))).filter((n) => isValidNodeId(n));
  }

  private async resultsIndex(): Promise<
    Map<string, { attempt: number; status: TaskResult["status"]; name: string }[]>
  > {
    const map = new Map<string, { attempt: number; status: TaskResult["status"]; name: string }[]>();
    for (const name of await listDir(this.dir("results"))) {
      const m = /^(.+)\.a(\d+)\.(completed|failed|cancelled)\.json$/.exec(name);
      if (!m) continue;
      const list = map.get(m[1]!) ?? [];
      list.push({ attempt: Number(m[2]), status: m[3] as TaskResult["status"], name });
      map.set(m[1]!, list);
    }
    return map;
  }

  private async describe(
    area: "requests" | "claimed" | "done" | "reaping",
    node: string,
    request: TaskRequest,
    results?: Map<string, { attempt: number; status: TaskResult["status"]; name: string }[]>,
  ): Promise<StoredTask> {
    const cancelRequested = await this.isCancelRequested(request.id);
    if (area === "requests" || area === "reaping")
      return { request, node, state: "pending", cancelRequested };
    if (area === "claimed") {
      const progress = await readRecord(this.dir("progress", `${request.id}.json`), TaskProgress);
      const running = progress.kind === "ok" && progress.value.attempt === request.attempt;
      return {
        request,
        node,
        state: running ? "running" : "claimed",
        cancelRequested,
        ...(running ? { progress: progress.value } : {}),
      };
    }
    const entry = (results ?? (await this.resultsIndex()))
      .get(request.id)
      ?.find((r) => r.attempt === request.attempt);
    if (entry) {
      const read = await readRecord(this.dir("results", entry.name), TaskResult);
      if (read.kind === "ok")
        return { request, node, state: read.value.status, result: read.value, cancelRequested };
    }
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
        error: { kind: "result_missing", message: "finished, but its result file is missing or unreadable" },
        finishedAt: request.createdAt,
      },
    };
  }

  async get(id: string): Promise<StoredTask | undefined> {
    if (!isValidTaskId(id)) return undefined;
    const nodes = new Set<string>();
    const index = await readRecord(this.dir("index", `${id}.json`), TaskRequest);
    if (index.kind === "ok") nodes.add(index.value.route.node);
    for (const area of ["requests", "claimed", "done"])
      for (const n of await this.nodeDirs(area)) nodes.add(n);
    for (const node of nodes) {
      for (const area of ["claimed", "requests", "done"] as const) {
        const read = await readRecord(this.requestPath(area, node, id), TaskRequest);
        if (read.kind === "ok") return this.describe(area, node, read.value);
      }
      for (const name of await listDir(this.dir("reaping", node))) {
        if (name.startsWith(`${id}.`)) {
          const read = await readRecord(this.dir("reaping", node, name), TaskRequest);
          if (read.kind === "ok") return this.describe("reaping", node, read.value);
        }
      }
    }
    return undefined;
  }

  async list(options: ListOptions = {}): Promise<TaskListing> {
    const finishedLimit = options.finishedLimit ?? 500;
    const counts: Record<TaskState, number> = {
      pending: 0,
      claimed: 0,
      running: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
    };
    const tasks: StoredTask[] = [];
    const problems: string[] = [];
    const seen = new Set<string>();
    const collect = async (area: "requests" | "claimed" | "reaping", node: string) => {
      for (const name of await listDir(this.dir(area, node))) {
        if (isSyncArtifact(name)) continue;
        const id = area === "reaping" ? (name.split(".")[0] ?? "") : name.slice(0, -5);
        const path = this.dir(area, node, name);
        if (!isValidTaskId(id) || !name.endsWith(".json")) {
          problems.push(
            `${area}/${node}/${truncateName(name)}: not a task file name (expected <task id>.json)`,
          );
          continue;
        }
        const read = await readRecord(path, TaskRequest, this.now());
        if (read.kind === "malformed") problems.push(`${area}/${node}/${name}: ${read.reason}`);
        if (read.kind !== "ok" || seen.has(id)) continue;
        seen.add(id);
        const task = await this.describe(area, node, read.value);
        counts[task.state]++;
        tasks.push(task);
      }
    };
    for (const node of await this.nodeDirs("claimed")) await collect("claimed", node);
    for (const node of await this.nodeDirs("requests")) await collect("requests", node);
    for (const node of await this.nodeDirs("reaping")) await collect("reaping", node);

    const results = await this.resultsIndex();
    const finished: { node: string; id: string }[] = [];
    for (const node of await this.nodeDirs("done")) {
      for (const name of await listDir(this.dir("done", node))) {
        if (isSyncArtifact(name) || !name.endsWith(".json")) continue;
        const id = name.slice(0, -5);
        if (isValidTaskId(id) && !seen.has(id)) finished.push({ node, id });
      }
    }
    finished.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    for (const [i, { node, id }] of finished.entries()) {
      if (i < finishedLimit) {
        const read = await readRecord(this.requestPath("done", node, id), TaskRequest);
        if (read.kind !== "ok") {
          if (read.kind === "malformed") problems.push(`done/${node}/${id}.json: ${read.reason}`);
          continue;
        }
        const task = await this.describe("done", node, read.value, results);
        counts[task.state]++;
        tasks.push(task);
      } else {
        // Only counted: the newest result of a finished task is its outcome.
        const outcomes = results.get(id);
        const last = outcomes?.reduce((a, b) => (b.attempt > a.attempt ? b : a));
        counts[last?.status ?? "failed"]++;
      }
    }
    const quarantined = (await listDir(this.dir("quarantine"))).filter((n) => !n.endsWith(".reason")).length;
    if (quarantined) problems.push(`${quarantined} malformed file(s) set aside in ${this.dir("quarantine")}`);
    return { tasks, counts, problems };
  }

  // ── cancel and retry ───────────────────────────────────────────────────────
  async isCancelRequested(id: string): Promise<boolean> {
    return exists(this.dir("cancel", id));
  }

  async requestCancel(id: string): Promise<StoredTask> {
    const task = await this.requireTask(id);
    if (task.state === "completed" || task.state === "failed" || task.state === "cancelled") {
      throw new UserError(`Task ${id} has already finished (${task.state}); there is nothing to cancel.`, {
        code: "not_cancellable",
      });
    }
    try {
      await writeFile(this.dir("cancel", id), new Date(this.now()).toISOString(), { flag: "w" });
    } catch (error) {
      throw diskError(error, this.dir("cancel", id));
    }
    if (task.state === "pending") {
      const from = this.requestPath("requests", task.node, id);
      await this.moveThroughReaping(from, task.node, task.request, {
        intent: "cancel",
        event: { event: "cancelled", detail: "cancelled while pending" },
      });
    }
    // A claimed task is stopped by its worker, which watches for the cancel marker.
    return (await this.get(id)) ?? task;
  }

  async retry(id: string, reroute?: RouteDecision): Promise<StoredTask> {
    const task = await this.requireTask(id);
    if (task.state !== "failed" && task.state !== "cancelled") {
      throw new UserError(`Task ${id} is ${task.state}; only failed or cancelled tasks can be retried.`, {
        hint:
          task.state === "completed"
            ? "dispatch it again to run it once more"
            : "wait for it to finish, or cancel it first",
        code: "not_retryable",
      });
    }
    await unlink(this.dir("cancel", id)).catch(() => {});
    const outcome = await this.moveThroughReaping(
      this.requestPath("done", task.node, id),
      task.node,
      task.request,
      {
        intent: reroute ? `retry-${reroute.node}` : "retry",
        ...(reroute ? { reroute } : {}),
        event: { event: "retry", detail: `retried by hand after ${task.state}` },
        raiseMaxAttempts: true,
      },
    );
    if (outcome === "lost")
      throw new UserError(`Task ${id} changed while retrying it; look again with clawos tasks show ${id}.`);
    return (await this.get(id)) ?? task;
  }

  private async requireTask(id: string): Promise<StoredTask> {
    if (!isValidTaskId(id)) {
      throw new UserError(`"${truncateName(id)}" is not a task id.`, {
        hint: "ids look like req_20260227_203220_e68aee2d",
        code: "usage",
      });
    }
    const task = await this.get(id);
    if (!task)
      throw new UserError(`No task ${id} on the blackboard at ${this.root}.`, {
        hint: "clawos tasks list shows them",
        code: "not_found",
      });
    return task;
  }

  // ── node status ───────────────────────────────────────────────────────────
  async writeNodeStatus(record: NodeStatusRecord): Promise<void> {
    const valid = NodeStatusRecord.parse(record);
    await writeFileAtomic(this.dir("node-status", `${valid.node}.json`), JSON.stringify(valid), {
      tmpDir: this.dir("tmp"),
    });
  }

  async readNodeStatuses(): Promise<{ records: NodeStatusRecord[]; problems: string[] }> {
    const records: NodeStatusRecord[] = [];
    const problems: string[] = [];
    for (const name of await listDir(this.dir("node-status"))) {
      if (isSyncArtifact(name) || !name.endsWith(".json")) continue;
      const read = await readRecord(this.dir("node-status", name), NodeStatusRecord, this.now());
      if (read.kind === "ok" && read.value.node === name.slice(0, -5)) records.push(read.value);
      else if (read.kind === "malformed") problems.push(`node-status/${name}: ${read.reason}`);
      else if (read.kind === "ok")
        problems.push(`node-status/${name}: holds the status of node ${read.value.node}`);
    }
    return { records, problems };
  }

  // ── coordinator ───────────────────────────────────────────────────────────
  coordinator(): CoordinatorDuties {
    return {
      reapExpired: (leaseMs) => this.reapExpired(leaseMs),
      recover: () => this.recover(),
      reroutePending: (id, from, decision) => this.reroutePending(id, from, decision),
      quarantineMalformed: () => this.quarantineMalformed(),
    };
  }

  /**
   * Leases are judged by when *this* process saw the claimed file's mtime change,
   * not by comparing mtimes with our clock, so skewed clocks never expire a lease early.
   */
  private async reapExpired(leaseMs: number): Promise<ExpiredLease[]> {
    const now = this.now();
    const expired: ExpiredLease[] = [];
    const present = new Set<string>();
    for (const node of await this.nodeDirs("claimed")) {
      for (const name of await listDir(this.dir("claimed", node))) {
        if (isSyncArtifact(name) || !name.endsWith(".json")) continue;
        const path = this.dir("claimed", node, name);
        present.add(path);
        let mtimeMs: number;
        try {
          mtimeMs = (await stat(path)).mtimeMs;
        } catch {
          continue;
        }
        const seen = this.leaseSeen.get(path);
        if (!seen || seen.mtimeMs !== mtimeMs) {
          this.leaseSeen.set(path, { mtimeMs, seenAt: now });
          continue;
        }
        if (now - seen.seenAt < leaseMs) continue;
        const read = await this.readRequestAt(path, node, name.slice(0, -5));
        if (read.kind !== "ok") continue;
        const outcome = await this.moveThroughReaping(path, node, read.value, {
          intent: "requeue",
          event: {
            event: "lease-expired",
            detail: `no lease renewal from node ${node} for ${Math.round((now - seen.seenAt) / 1000)} s (attempt ${read.value.attempt})`,
          },
          error: { kind: "lease_expired", message: `the worker of node ${node} stopped renewing its lease` },
        });
        this.leaseSeen.delete(path);
        expired.push({ id: read.value.id, node, outcome });
      }
    }
    for (const key of this.leaseSeen.keys()) if (!present.has(key)) this.leaseSeen.delete(key);
    return expired;
  }

  private async recover(): Promise<string[]> {
    const notes: string[] = [];
    const located = new Set<string>();
    for (const area of ["requests", "claimed", "done"]) {
      for (const node of await this.nodeDirs(area)) {
        for (const name of await listDir(this.dir(area, node)))
          if (name.endsWith(".json")) located.add(name.slice(0, -5));
      }
    }
    // 1. Moves interrupted between the fencing rename and the publish.
    for (const node of await this.nodeDirs("reaping")) {
      for (const name of await listDir(this.dir("reaping", node))) {
        const m = /^([^.]+)\.([a-z]+)(?:-([a-z0-9-]+))?\.json$/.exec(name);
        const path = this.dir("reaping", node, name);
        if (!m) continue;
        const [, id, intent, to] = m;
        if (located.has(id!)) {
          await unlink(path).catch(() => {});
          continue;
        }
        const read = await readRecord(path, TaskRequest);
        if (read.kind !== "ok") continue;
        const reroute =
          to && to !== read.value.route.node
            ? { ...read.value.route, node: to, reason: `${read.value.route.reason} (recovered move)` }
            : undefined;
        const outcome = await this.finishReaping(path, node, read.value, {
          ...(reroute ? { reroute } : {}),
          event: { event: "recovered", detail: `finished an interrupted ${intent} after a crash` },
          consumesAttempt: intent === "requeue" || intent === "retry",
          raiseMaxAttempts: intent === "retry",
        });
        located.add(id!);
        notes.push(`${id}: finished an interrupted ${intent} (${outcome})`);
      }
    }
    // 2. Dispatches that crashed after reserving the id but before publishing.
    for (const name of await listDir(this.dir("index"))) {
      if (!name.endsWith(".json")) continue;
      const id = name.slice(0, -5);
      if (located.has(id)) continue;
      const path = this.dir("index", name);
      const read = await readRecord(path, TaskRequest);
      if (read.kind !== "ok" || this.now() - read.mtimeMs < 5_000) continue;
      const dest = this.requestPath("requests", read.value.route.node, id);
      await writeFileAtomic(dest, JSON.stringify(read.value), { tmpDir: this.dir("tmp") });
      notes.push(`${id}: republished a task whose dispatch was interrupted`);
    }
    return notes;
  }

  private async reroutePending(id: string, from: string, decision: RouteDecision): Promise<boolean> {
    const path = this.requestPath("requests", from, id);
    const read = await this.readRequestAt(path, from, id);
    if (read.kind !== "ok") return false;
    const outcome = await this.moveThroughReaping(path, from, read.value, {
      intent: `reroute-${decision.node}`,
      reroute: decision,
      event: { event: "rerouted", detail: `moved from ${from} to ${decision.node}: ${decision.reason}` },
      consumesAttempt: false,
    });
    return outcome === "requeued";
  }

  private async maybeQuarantine(path: string, reason: string): Promise<void> {
    if (!this.options.quarantine) return;
    const rel = path.slice(this.root.length + 1).replace(/[/\\]/g, "_");
    const dest = this.dir(
      "quarantine",
      `${new Date(this.now()).toISOString().replace(/[:.]/g, "-")}_${truncateName(rel)}`,
    );
    try {
      await rename(path, dest);
      await writeFile(`${dest}.reason`, `${path}\n${reason}\n`).catch(() => {});
    } catch {
      // Already moved by someone else, or unwritable: the reader still skips it.
    }
  }

  private async quarantineMalformed(): Promise<string[]> {
    const moved: string[] = [];
    const check = async (dir: string, validate: (name: string) => Promise<string | undefined>) => {
      for (const name of await listDir(dir)) {
        if (isSyncArtifact(name)) continue;
        const reason = await validate(name);
        if (reason) {
          await this.maybeQuarantine(join(dir, name), reason);
          moved.push(`${join(dir, name).slice(this.root.length + 1)}: ${reason}`);
        }
      }
    };
    const requestCheck = (node: string, dir: string) => async (name: string) => {
      const id = name.endsWith(".json") ? name.slice(0, -5) : "";
      if (!isValidTaskId(id)) return "not a task file name (expected <task id>.json)";
      const read = await readRecord(join(dir, name), TaskRequest, this.now());
      if (read.kind === "malformed") return read.reason;
      if (read.kind === "ok" && (read.value.id !== id || read.value.route.node !== node))
        return "task id or node does not match where the file lies";
      return undefined;
    };
    for (const area of ["requests", "claimed"]) {
      for (const node of await listDir(this.dir(area))) {
        if (!isValidNodeId(node)) continue;
        await check(this.dir(area, node), requestCheck(node, this.dir(area, node)));
      }
    }
    await check(this.dir("node-status"), async (name) => {
      if (!name.endsWith(".json")) return "not a node status file name";
      const read = await readRecord(this.dir("node-status", name), NodeStatusRecord, this.now());
      return read.kind === "malformed" ? read.reason : undefined;
    });
    return moved;
  }

  // ── wake-ups ──────────────────────────────────────────────────────────────
  watch(scope: WatchScope, onChange: () => void): () => void {
    const watchers = new Map<string, FSWatcher>();
    const add = (dir: string) => {
      if (watchers.has(dir)) return;
      try {
        // Non-recursive on purpose: recursive watching is slow on Linux (DESIGN §5).
        const w = watch(dir, { persistent: false }, () => {
          onChange();
          if (scope && "everything" in scope) void refresh();
        });
        w.on("error", () => {
          w.close();
          watchers.delete(dir);
        });
        watchers.set(dir, w);
      } catch {
        // Missing or unwatchable: the caller's rescan covers it.
      }
    };
    const refresh = async () => {
      if ("inboxOf" in scope) {
        await mkdir(this.inbox(scope.inboxOf), { recursive: true }).catch(() => {});
        add(this.inbox(scope.inboxOf));
        add(this.dir("cancel"));
        return;
      }
      for (const d of [
        "requests",
        "claimed",
        "done",
        "reaping",
        "results",
        "progress",
        "node-status",
        "cancel",
      ])
        add(this.dir(d));
      for (const area of ["requests", "claimed", "done"])
        for (const n of await this.nodeDirs(area)) add(this.dir(area, n));
    };
    void refresh();
    return () => {
      for (const w of watchers.values()) w.close();
      watchers.clear();
    };
  }

  async close(): Promise<void> {
    this.inboxCache.clear();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function truncateName(name: string): string {
  const clean = name.replace(/[^\w.-]/g, "?");
  return clean.length > 60 ? `${clean.slice(0, 57)}...` : clean;
}
