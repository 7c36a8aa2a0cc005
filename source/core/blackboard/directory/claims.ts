import { linkSync, lstatSync, lutimesSync, renameSync } from "node:fs";
import { rename } from "node:fs/promises";
import { dirname } from "node:path";
import { isErrnoException } from "../../domain/errors.js";
import { isValidNodeId, isValidTaskId } from "../../domain/ids.js";
import { count } from "../../domain/plural.js";
import { type RouteDecision, type TaskEvent, TaskRequest, TaskResult } from "../../domain/schema.js";
import { diskError, flushDir } from "../../infra/atomic-file.js";
import { assertResultFitsClaim, OneCompletionPerClaim, progressRecord } from "../driver-rules.js";
import type { Claim, RequeueOptions, RequeueOutcome } from "../types.js";
import { type DirectoryLayout, misplaced, pendingIdOf, unlinkQuietly } from "./layout.js";
import { isSyncArtifact } from "./records.js";
import { entryAt } from "./safe-fs.js";

/**
 * A worker keeps a sorted view of its inbox and lists it again only when the directory
 * changed (its mtime moved). While several workers race on one inbox every claim changes
 * it, and listing and sorting a big inbox per claim made each claim O(backlog): so a worker
 * that recently lost a race relists at most this often, and a P0 published meanwhile may
 * wait up to this long behind its view. A worker alone sees a new task at once.
 */
const INBOX_VIEW_MS = 100;

/** A worker that lost a race for a task this recently counts as racing (see INBOX_VIEW_MS). */
const CONTENDED_FOR_MS = 1_000;

/** After losing a race for the head of the inbox, pick at random among this many equally urgent tasks. */
const CONTENDED_SPREAD = 16;

interface InboxView {
  listedAt: number;
  /** The inbox directory's mtime when listed: a change means tasks arrived or left. */
  dirMtimeMs: number;
  /** When a claim from this view last lost a race to another worker. */
  lostAt: number;
  /** Most urgent first; claims take from the front. */
  entries: { key: string; id: string }[];
  /** The directory had not changed since the listing when this view was last checked. */
  current: boolean;
}

interface MovePlan {
  reroute?: RouteDecision;
  event: Omit<TaskEvent, "at">;
  /** Events of the attempt that ends here, recorded before `event` (see RequeueOptions). */
  earlier?: TaskEvent[];
  error?: TaskResult["error"];
  consumesAttempt?: boolean;
  raiseMaxAttempts?: boolean;
  /** The move took the task from a claim: results published for this attempt lost the race and are void. */
  fromClaim?: boolean;
}

/** Publishing, claiming, renewing and finishing tasks, and every move of a task through reaping/ (the fence). */
export class Claims {
  constructor(private readonly fs: DirectoryLayout) {}

  readonly inboxCache = new Map<
    string,
    { mtimeMs: number; ino: number; request: TaskRequest; key: string }
  >();

  /** Per node: pending tasks most urgent first, as last listed; claims take from the front. */
  readonly inboxViews = new Map<string, InboxView>();

  /** Claims with a complete() in progress here: a concurrent second complete() of the same claim loses. */
  private readonly completions = new OneCompletionPerClaim();

  /** Publish a new task; returns where it landed, or undefined if the id was already taken. */
  async publishNew(
    request: TaskRequest,
    area: "requests" | "claimed",
  ): Promise<{ request: TaskRequest; path: string } | undefined> {
    const valid = TaskRequest.parse(request);
    const node = valid.route.node;
    const dest =
      area === "claimed" ? this.fs.newClaimPath(node, valid.id) : this.fs.requestPath(area, node, valid.id);
    this.fs.checkWritable(dest);
    this.fs.ensureDir(this.fs.dir("index"));
    const tmp = await this.fs.writeTemp(dest, JSON.stringify(valid));
    try {
      // link() never overwrites: the index entry is the dedupe guard (archived tasks keep theirs in the archive).
      if (this.fs.isFile(this.fs.archiveDir(valid.id, "index", `${valid.id}.json`))) return undefined;
      try {
        linkSync(tmp, this.fs.dir("index", `${valid.id}.json`));
      } catch (error) {
        if (isErrnoException(error, "EEXIST")) return undefined;
        throw diskError(error, this.fs.dir("index"));
      }
      try {
        linkSync(tmp, dest);
      } catch (error) {
        throw diskError(error, dest);
      }
      // Once dispatch says "queued" the task must outlive a power cut, not only a crash: its
      // name is flushed too. Every later move may be undone by one; the protocol redoes those.
      await flushDir(dirname(dest));
      if (area === "requests") this.inboxViews.delete(node);
      return { request: valid, path: dest };
    } finally {
      unlinkQuietly(tmp);
    }
  }

  async enqueue(request: TaskRequest): Promise<{ created: boolean }> {
    return { created: (await this.publishNew(request, "requests")) !== undefined };
  }

  async enqueueClaimed(request: TaskRequest): Promise<Claim | undefined> {
    const published = await this.publishNew(request, "claimed");
    if (!published) return undefined;
    return { request: published.request, node: published.request.route.node, handle: published.path };
  }

  async pendingIds(node: string): Promise<string[]> {
    if (!isValidNodeId(node)) return [];
    const ids: string[] = [];
    for (const name of await this.fs.listIn(this.fs.inbox(node))) {
      const id = pendingIdOf(name);
      if (id) ids.push(id);
    }
    return ids;
  }

  async claim(node: string, id?: string): Promise<Claim | undefined> {
    // A node id becomes a path: anything else ("../requests/x") could name another area or inbox.
    if (!isValidNodeId(node)) return undefined;
    if (id !== undefined) {
      const outcome = isValidTaskId(id) ? await this.claimOne(node, id) : undefined;
      return outcome === "lost" ? undefined : outcome;
    }
    let contended = false;
    for (let pass = 0; pass < 2; pass++) {
      const view = await this.inboxView(node, pass > 0);
      while (view.entries.length) {
        // Alone, a worker takes the most urgent task. Once it has lost a race for the head,
        // it picks among the next few equally urgent ones, so racing workers stop colliding.
        let pick = 0;
        if (contended) {
          const priority = view.entries[0]!.key.slice(0, 2);
          let same = 1;
          while (
            same < CONTENDED_SPREAD &&
            same < view.entries.length &&
            view.entries[same]!.key.startsWith(priority)
          )
            same++;
          pick = Math.floor(Math.random() * same);
        }
        const [entry] = view.entries.splice(pick, 1);
        const outcome = await this.claimOne(node, entry!.id);
        if (outcome === "lost") {
          contended = true;
          view.lostAt = performance.now();
        } else if (outcome) {
          // The view was current and this claim's own rename moved the mtime: it is still current.
          if (view.current)
            view.dirMtimeMs = lstatSync(this.fs.inbox(node), { throwIfNoEntry: false })?.mtimeMs ?? 0;
          return outcome;
        }
      }
    }
    return undefined;
  }

  /** Claim task `id` from `node`'s inbox: one rename, then one read of the file now held. */
  async claimOne(node: string, id: string): Promise<Claim | "lost" | undefined> {
    const from = this.fs.requestPath("requests", node, id);
    const cached = this.inboxCache.get(from);
    if (!cached) {
      const read = await this.fs.readRequestAt(from, node, id);
      if (read.kind === "missing") return "lost";
      if (read.kind !== "ok") return undefined;
    }
    if (await this.fs.isCancelRequested(id)) return undefined;
    const to = this.fs.newClaimPath(node, id);
    // No utimes: the reaper times a lease from when it first sees this claim's (fresh) file name.
    const moved = this.fs.renameInto(from, to, true);
    this.inboxCache.delete(from);
    if (!moved) return "lost";
    // The file renamed may be newer than the one read (reaped and requeued in between): trust the one
    // held. Every write makes a new inode (temp + rename), so the same inode and mtime is the same record.
    if (cached) {
      const st = lstatSync(to, { throwIfNoEntry: false });
      if (st && st.ino === cached.ino && st.mtimeMs === cached.mtimeMs)
        return { request: cached.request, node, handle: to };
    }
    const held = this.fs.readNow(to, TaskRequest, this.fs.now());
    if (held.kind === "ok" && !misplaced(held.value, id, node))
      return { request: held.value, node, handle: to };
    // Replaced by something unreadable meanwhile: put it back, where the quarantine and the reports find it.
    if (this.fs.isFile(to) && this.fs.confine.fileAt(from) === "missing") {
      try {
        renameSync(to, from);
      } catch {}
    }
    return undefined;
  }

  /** Pending tasks of `node`, most urgent first (priority, then age); parsed requests are cached by path. */
  async inboxView(node: string, relist: boolean): Promise<InboxView> {
    const now = performance.now();
    const dir = this.fs.inbox(node);
    const dirMtimeMs = lstatSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    const current = this.inboxViews.get(node);
    if (!relist && current && current.entries.length > 0) {
      current.current = current.dirMtimeMs === dirMtimeMs;
      const racing = now - current.lostAt < CONTENDED_FOR_MS;
      if (current.current || (racing && now - current.listedAt < INBOX_VIEW_MS)) return current;
    }
    const names = await this.fs.listIn(dir);
    const entries: { key: string; id: string }[] = [];
    const present = new Set<string>();
    for (const name of names) {
      if (isSyncArtifact(name) || !name.endsWith(".json")) continue;
      const path = `${dir}/${name}`;
      present.add(path);
      const cached = this.inboxCache.get(path);
      if (cached) {
        entries.push({ key: cached.key, id: cached.request.id });
        continue;
      }
      const read = await this.fs.readRequestAt(path, node, name.slice(0, -5));
      if (read.kind === "ok") {
        // P0…P3 and ISO timestamps sort correctly by code unit: one string, compared with < and >.
        const key = `${read.value.priority}${read.value.createdAt}${read.value.id}`;
        this.inboxCache.set(path, { mtimeMs: read.mtimeMs, ino: read.ino, request: read.value, key });
        entries.push({ key, id: read.value.id });
      }
    }
    // Forget what left the inboxes (claimed by others) once the cache has grown well past this listing.
    if (this.inboxCache.size > 2 * present.size + 1_000) {
      const prefix = `${dir}/`;
      for (const path of this.inboxCache.keys())
        if (!path.startsWith(prefix) || !present.has(path)) this.inboxCache.delete(path);
    }
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const view: InboxView = {
      listedAt: performance.now(),
      dirMtimeMs,
      lostAt: current?.lostAt ?? Number.NEGATIVE_INFINITY,
      entries,
      current: true,
    };
    this.inboxViews.set(node, view);
    return view;
  }

  /** Tasks waiting or being worked on, per node, from directory listings alone (no file is read). */
  async activeCounts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const area of ["requests", "claimed", "reaping"]) {
      for (const node of await this.fs.nodeDirs(area)) {
        const n = (await this.fs.listIn(this.fs.dir(area, node))).filter(
          (f) => f.endsWith(".json") && !isSyncArtifact(f),
        ).length;
        if (n) counts.set(node, (counts.get(node) ?? 0) + n);
      }
    }
    return counts;
  }

  async renew(claim: Claim): Promise<boolean> {
    // Handles are unique per claim, so a reaped holder gets ENOENT even once the task is claimed again.
    const now = new Date(this.fs.now());
    // A claim file replaced by a link is not ours any more; lutimes never touches what it points at.
    if (!this.fs.isFile(claim.handle)) return false;
    try {
      lutimesSync(claim.handle, now, now);
      return true;
    } catch (error) {
      if (isErrnoException(error, "ENOENT")) return false;
      throw error;
    }
  }

  async progress(claim: Claim, text: string, startedAt: string, by?: string): Promise<void> {
    if (!this.fs.isFile(claim.handle)) return; // lost: only the holder reports progress
    const record = progressRecord(claim, text, startedAt, new Date(this.fs.now()).toISOString(), by);
    // Not flushed to disk: a reply in progress is rewritten every few hundred ms and replaced by the result.
    await this.fs.writeAtomic(this.fs.dir("progress", `${claim.request.id}.json`), JSON.stringify(record), {
      durable: false,
    });
  }

  /**
   * Publish a result without overwriting: the first result of an attempt is the one kept.
   * Returns what was published (its inode, so a loser can withdraw exactly its own file).
   */
  async publishResult(result: TaskResult): Promise<{ path: string; ino: bigint } | undefined> {
    const valid = TaskResult.parse(result);
    const dest = this.fs.dir("results", this.fs.resultName(valid.id, valid.attempt, valid.status));
    const tmp = await this.fs.writeTemp(dest, JSON.stringify(valid));
    try {
      // results/ checked once (a link there throws): then only the names in it are looked at.
      this.fs.ensureDir(this.fs.dir("results"));
      for (const status of ["completed", "failed", "cancelled"] as const) {
        if (
          status !== valid.status &&
          entryAt(this.fs.dir("results", this.fs.resultName(valid.id, valid.attempt, status))).kind === "file"
        )
          return undefined;
      }
      linkSync(tmp, dest);
      return { path: dest, ino: lstatSync(tmp, { bigint: true }).ino };
    } catch (error) {
      if (isErrnoException(error, "EEXIST")) return undefined;
      throw diskError(error, dest);
    } finally {
      unlinkQuietly(tmp);
    }
  }

  /** Take back a result whose finishing rename lost — only if the file is still the one we linked. */
  async withdrawResult(published: { path: string; ino: bigint }): Promise<void> {
    const now = lstatSync(published.path, { bigint: true, throwIfNoEntry: false });
    if (now?.ino === published.ino) this.fs.unlinkFile(published.path);
  }

  /** The caller won the fence for this attempt: any result published for it is a loser's, and void. */
  async discardResults(id: string, attempt: number): Promise<void> {
    for (const status of ["completed", "failed", "cancelled"] as const)
      this.fs.unlinkFile(this.fs.dir("results", this.fs.resultName(id, attempt, status)));
  }

  async complete(claim: Claim, result: TaskResult): Promise<boolean> {
    assertResultFitsClaim(claim, result);
    return this.completions.run(claim, async () => {
      if (!this.fs.isFile(claim.handle)) return false; // lease already lost: do not even publish
      const published = await this.publishResult(result);
      if (!published) return false;
      // The fence: fails if the reaper took the claim meanwhile.
      if (!this.fs.renameInto(claim.handle, this.fs.requestPath("done", claim.node, claim.request.id))) {
        await this.withdrawResult(published); // lost after publishing: the result does not count
        return false;
      }
      this.fs.unlinkFile(this.fs.dir("progress", `${claim.request.id}.json`));
      return true;
    });
  }

  async requeue(claim: Claim, options: RequeueOptions): Promise<RequeueOutcome> {
    return this.moveThroughReaping(claim.handle, claim.node, claim.request, {
      intent: options.reroute ? `requeue-${options.reroute.node}` : "requeue",
      ...(options.reroute ? { reroute: options.reroute } : {}),
      event: options.event,
      ...(options.earlier ? { earlier: options.earlier } : {}),
      ...(options.error ? { error: options.error } : {}),
      ...(options.consumesAttempt === false ? { consumesAttempt: false } : {}),
      fromClaim: true,
    });
  }

  /**
   * Move a task out of `from` by renaming it into reaping/ (that rename is the fence),
   * then publish its next form. recover() finishes the job after a crash.
   */
  async moveThroughReaping(
    from: string,
    node: string,
    request: TaskRequest,
    plan: MovePlan & { intent: string },
  ): Promise<RequeueOutcome> {
    const reaping = this.fs.dir("reaping", node, `${request.id}.${plan.intent}.json`);
    if (!this.fs.isFile(from)) return "lost";
    this.fs.checkWritable(reaping);
    try {
      await rename(from, reaping);
    } catch (error) {
      if (isErrnoException(error, "ENOENT")) return "lost";
      throw diskError(error, reaping);
    }
    return this.finishReaping(reaping, node, request, plan);
  }

  async finishReaping(
    reaping: string,
    node: string,
    request: TaskRequest,
    plan: MovePlan,
  ): Promise<RequeueOutcome> {
    const at = new Date(this.fs.now()).toISOString();
    // This move won the fence over the claim holder: whatever it published for this attempt is void.
    if (plan.fromClaim) await this.discardResults(request.id, request.attempt);
    const finishAs = async (status: "failed" | "cancelled", error?: TaskResult["error"]) => {
      const verdict: TaskResult = {
        schema: "clawos.result/1",
        id: request.id,
        attempt: request.attempt,
        node,
        status,
        ...(error ? { error } : {}),
        finishedAt: at,
      };
      if (plan.fromClaim) {
        // A loser may still be linking its result: ours overwrites it, never the other way round.
        await this.discardResults(request.id, request.attempt);
        await this.fs.writeAtomic(
          this.fs.dir("results", this.fs.resultName(request.id, request.attempt, status)),
          JSON.stringify(TaskResult.parse(verdict)),
        );
      } else {
        await this.publishResult(verdict);
      }
      const done = this.fs.requestPath("done", node, request.id);
      this.fs.checkWritable(done);
      await rename(reaping, done);
      this.fs.unlinkFile(this.fs.dir("progress", `${request.id}.json`));
    };
    if (await this.fs.isCancelRequested(request.id)) {
      await finishAs("cancelled", { kind: "cancelled", message: "cancelled by request" });
      return "cancelled";
    }
    const consumes = plan.consumesAttempt ?? true;
    const attempt = consumes ? request.attempt + 1 : request.attempt;
    if (attempt > request.maxAttempts && !plan.raiseMaxAttempts) {
      await finishAs("failed", {
        kind: plan.error?.kind ?? "gave_up",
        message: `gave up after ${count(request.attempt, "attempt")}: ${plan.error?.message ?? plan.event.detail}`,
        ...(plan.error?.hint ? { hint: plan.error.hint } : {}),
      });
      return "dead";
    }
    const history = [...request.history, ...(plan.earlier ?? []), { at, ...plan.event }].slice(-100);
    const next: TaskRequest = {
      ...request,
      attempt,
      maxAttempts: plan.raiseMaxAttempts ? Math.max(request.maxAttempts, attempt) : request.maxAttempts,
      route: plan.reroute ?? request.route,
      history,
    };
    const dest = this.fs.requestPath("requests", next.route.node, next.id);
    await this.fs.writeAtomic(dest, JSON.stringify(TaskRequest.parse(next)));
    this.inboxViews.delete(next.route.node);
    this.fs.unlinkFile(reaping);
    this.fs.unlinkFile(this.fs.dir("progress", `${request.id}.json`));
    return "requeued";
  }
}
