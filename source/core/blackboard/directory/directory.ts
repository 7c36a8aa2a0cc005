import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  type FSWatcher,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  utimesSync,
  watch,
  writeSync,
} from "node:fs";
import { link, lstat, rename, rmdir } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";
import { DAY_MS, HOUR_MS } from "../../domain/durations.js";
import { isErrnoException } from "../../domain/errors.js";
import { isValidNodeId, isValidTaskId, taskIdTime } from "../../domain/ids.js";
import {
  NodeStatusRecord,
  type RouteDecision,
  type TaskEvent,
  TaskProgress,
  TaskRequest,
  TaskResult,
  type TaskState,
} from "../../domain/schema.js";
import { diskError, writeFileAtomic, writeTemp } from "../../infra/atomic-file.js";
import { sanitizeLine } from "../../infra/sanitize.js";
import { BlackboardError } from "../errors.js";
import { heartbeatNotAfter } from "../foreign-time.js";
import { LeaseWatch, machineKey } from "../lease-watch.js";
import { requireTask, truncateName } from "../names.js";
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
} from "../types.js";
import { isSyncArtifact, listDir, type ReadOutcome, readRecordNow } from "./records.js";
import { Confinement, O_NOFOLLOW } from "./safe-fs.js";

/**
 * The default blackboard: a directory, shareable by a synced folder.
 *
 *   requests/<node>/<id>.json   pending, in the inbox of the node it was routed to
 *   claimed/<node>/<id>.<claim>.json   being worked on; the file's mtime is the lease.
 *                               <claim> is fresh for every claim, so the holder of an
 *                               earlier, reaped claim never finds its handle again.
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
 * a late "zombie" completion finds its claimed file gone. A worker publishes its
 * result before its finishing rename; if that rename loses, the result is void:
 * the loser withdraws it, and the winner (reaper) discards it before its own verdict.
 */
/** A move or dispatch leftover younger than this may still be in flight: recover() leaves it alone. */
const IN_FLIGHT_GRACE_MS = 5_000;
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
/** Names of the day folders under archive/ (see archiveDayOf). */
const ARCHIVE_DAY = /^\d{4}-\d{2}-\d{2}$|^undated$/;
/** Finished tasks move to archive/ this long after they finished (see archiveFinished). */
const ARCHIVE_AFTER_MS = DAY_MS;
/** The coordinator archives and sweeps stale temp files at most this often. */
const ARCHIVE_EVERY_MS = 10 * 60_000;
/** A temp file this old was left by a writer that crashed: recover() removes it. */
const STALE_TEMP_MS = HOUR_MS;
/** After losing a race for the head of the inbox, pick at random among this many equally urgent tasks. */
const CONTENDED_SPREAD = 16;
const OUTCOME_PRECEDENCE: Record<TaskResult["status"], number> = { failed: 0, cancelled: 1, completed: 2 };

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

const ArchiveSummary = z.object({
  schema: z.literal("clawos.archive/1"),
  day: z.string(),
  counts: z.object({
    completed: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    cancelled: z.number().int().nonnegative(),
  }),
});
type ArchiveSummary = z.infer<typeof ArchiveSummary>;

interface ResultEntry {
  id: string;
  attempt: number;
  status: TaskResult["status"];
  name: string;
}

interface MovePlan {
  reroute?: RouteDecision;
  event: Omit<TaskEvent, "at">;
  error?: TaskResult["error"];
  consumesAttempt?: boolean;
  raiseMaxAttempts?: boolean;
  /** The move took the task from a claim: results published for this attempt lost the race and are void. */
  fromClaim?: boolean;
}

export class DirectoryBlackboard implements Blackboard {
  readonly location: string;
  private readonly inboxCache = new Map<
    string,
    { mtimeMs: number; ino: number; request: TaskRequest; key: string }
  >();
  /** Per node: pending tasks most urgent first, as last listed; claims take from the front. */
  private readonly inboxViews = new Map<string, InboxView>();
  /** Directories this instance made or saw: no mkdir per claim (renameInto() remakes a vanished one). */
  private readonly knownDirs = new Set<string>();
  private readonly doneCache = new Map<string, StoredTask>();
  /** The coordinator's lease observations, kept in coordinator/lease-seen-<machine>.json between runs. */
  private readonly leases: LeaseWatch;
  /** Files stamped in the future, by when this process first saw them (see changedAt()). */
  private readonly futureSeen = new Map<string, number>();
  /** This instance's own temp directory under tmp/ (see tmpDir()). */
  private readonly tmpName = `p${process.pid}-${randomBytes(3).toString("hex")}`;
  /** Counts of each archived day as last read, with its directory's mtime then (see archivedCounts). */
  private readonly archivedDays = new Map<string, { dirMtimeMs: number; counts: ArchiveSummary["counts"] }>();
  /** When this instance last archived and swept temp files (see recover()). */
  private lastHousekeepingAt = Number.NEGATIVE_INFINITY;
  /** Claims with a complete() in progress here: a concurrent second complete() of the same claim loses. */
  private readonly finishing = new Set<string>();

  constructor(
    readonly root: string,
    private readonly options: {
      quarantine?: boolean;
      clock?: () => number;
      archiveAfterMs?: number;
      /** This machine's name in the federation (default: the host name): keys its coordinator's notes. */
      machine?: string;
    } = {},
  ) {
    this.location = root;
    this.confine = new Confinement(root);
    // One file per machine: two coordinators (say, --coordinator given on two) never overwrite each other.
    const notes = this.dir("coordinator", `lease-seen-${machineKey(options.machine ?? hostname())}.json`);
    this.leases = new LeaseWatch({
      machine: options.machine ?? hostname(),
      versionField: "mtimeMs",
      store: {
        load: async () => {
          const read = this.readNow(notes, z.unknown());
          return read.kind === "ok" ? read.value : undefined;
        },
        // Not flushed: losing it to a power cut only restarts the count of each lease.
        save: (json) => this.writeAtomic(notes, json, { durable: false }),
      },
    });
  }

  /** Keeps every path this driver touches inside the root (see safe-fs.ts). */
  private readonly confine: Confinement;

  /** Names in `dir`; none if a link or a non-directory stands on the way to it. */
  private async listIn(dir: string): Promise<string[]> {
    return this.confine.blockedDir(dir) ? [] : listDir(dir);
  }

  /** A record, read only if it is a regular file reached through real directories of the blackboard. */
  private readNow<T>(path: string, schema: z.ZodType<T>, now = this.now()): ReadOutcome<T> {
    if (!this.confine.within(path))
      return { kind: "foreign", reason: "lies behind a link or a non-directory: not followed" };
    const read = readRecordNow(path, schema, now);
    if (read.kind === "foreign") this.confine.fileAt(path); // reported once
    return read;
  }

  private async read<T>(path: string, schema: z.ZodType<T>, now = this.now()): Promise<ReadOutcome<T>> {
    return this.readNow(path, schema, now);
  }

  /** A regular file of the blackboard is there (a link or a FIFO is not, and is reported). */
  private isFile(path: string): boolean {
    return this.confine.fileAt(path) === "file";
  }

  /** Remove a regular file of the blackboard; anything else is left alone. */
  private unlinkFile(path: string): void {
    if (this.isFile(path)) unlinkQuietly(path);
  }

  /** `path` may be written: its directories are real and ours, and nothing foreign stands at it. */
  private checkWritable(path: string): void {
    this.ensureDir(dirname(path));
    if (this.confine.fileAt(path) === "foreign")
      throw new BlackboardError({ code: "foreign_file", path: this.confine.rel(path), root: this.root });
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
  /** A fresh claimed-file name: every claim of a task gets its own handle. */
  private newClaimPath(node: string, id: string): string {
    return this.dir("claimed", node, `${id}.${randomBytes(6).toString("hex")}.json`);
  }
  /** archive/<day the task was created>/…: finished tasks moved out of done/ and results/ (see archiveFinished). */
  private archiveDir(id: string, ...parts: string[]): string {
    return this.dir("archive", archiveDayOf(id), ...parts);
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
        this.ensureDir(this.dir(d));
      }
    } catch (error) {
      throw diskError(error, this.root);
    }
  }

  /** Publish a new task; returns where it landed, or undefined if the id was already taken. */
  private async publishNew(
    request: TaskRequest,
    area: "requests" | "claimed",
  ): Promise<{ request: TaskRequest; path: string } | undefined> {
    const valid = TaskRequest.parse(request);
    const node = valid.route.node;
    const dest =
      area === "claimed" ? this.newClaimPath(node, valid.id) : this.requestPath(area, node, valid.id);
    this.checkWritable(dest);
    this.ensureDir(this.dir("index"));
    const tmp = await this.writeTemp(dest, JSON.stringify(valid));
    try {
      // link() never overwrites: the index entry is the dedupe guard (archived tasks keep theirs in the archive).
      if (this.isFile(this.archiveDir(valid.id, "index", `${valid.id}.json`))) return undefined;
      try {
        linkSync(tmp, this.dir("index", `${valid.id}.json`));
      } catch (error) {
        if (isErrnoException(error, "EEXIST")) return undefined;
        throw diskError(error, this.dir("index"));
      }
      try {
        linkSync(tmp, dest);
      } catch (error) {
        throw diskError(error, dest);
      }
      if (area === "requests") this.inboxViews.delete(node);
      return { request: valid, path: dest };
    } finally {
      unlinkQuietly(tmp);
    }
  }

  /**
   * This process's own temp directory. Creating and unlinking temp files in one directory
   * shared by every worker serialises them on that directory's lock (BENCHMARKS.md).
   */
  private tmpDir(): string {
    const dir = this.dir("tmp", this.tmpName);
    this.ensureDir(dir);
    return dir;
  }

  private writeTemp(dest: string, data: string): Promise<string> {
    return this.throughTmp((tmpDir) => writeTemp(dest, data, { tmpDir }));
  }

  private writeAtomic(path: string, data: string, options: { durable?: boolean } = {}): Promise<void> {
    this.checkWritable(path);
    return this.throughTmp((tmpDir) => writeFileAtomic(path, data, { ...options, tmpDir }));
  }

  /** A write through this instance's temp directory, made again if something removed it meanwhile. */
  private async throughTmp<T>(write: (tmpDir: string) => Promise<T>): Promise<T> {
    try {
      return await write(this.tmpDir());
    } catch (error) {
      if (!isErrnoException(error, "ENOENT")) throw error;
      this.knownDirs.delete(this.dir("tmp", this.tmpName));
      return write(this.tmpDir());
    }
  }

  /**
   * mkdir -p once per directory and instance. Every time: each directory on the way is a real
   * one, so nothing is made, moved or written through a link planted in the blackboard.
   */
  private ensureDir(dir: string): void {
    const blocked = this.confine.blockedDir(dir);
    if (blocked)
      throw new BlackboardError({
        code: "foreign_dir",
        path: this.confine.rel(dir),
        blocked,
        root: this.root,
      });
    if (this.knownDirs.has(dir)) return;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw diskError(error, dir);
    }
    this.knownDirs.add(dir);
  }

  /**
   * rename(from, to) into a directory that should exist. false: `from` is gone (someone else
   * moved it first). A destination directory deleted behind our back is made again.
   */
  private renameInto(from: string, to: string): boolean {
    if (!this.isFile(from)) return false;
    this.checkWritable(to);
    try {
      renameSync(from, to);
      return true;
    } catch (error) {
      if (!isErrnoException(error, "ENOENT")) throw diskError(error, to);
    }
    if (!this.isFile(from)) return false;
    this.knownDirs.delete(dirname(to));
    this.ensureDir(dirname(to));
    try {
      renameSync(from, to);
      return true;
    } catch (error) {
      if (isErrnoException(error, "ENOENT")) return false;
      throw diskError(error, to);
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
    for (const name of await this.listIn(this.inbox(node))) {
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
            view.dirMtimeMs = lstatSync(this.inbox(node), { throwIfNoEntry: false })?.mtimeMs ?? 0;
          return outcome;
        }
      }
    }
    return undefined;
  }

  /** Claim task `id` from `node`'s inbox: one rename, then one read of the file now held. */
  private async claimOne(node: string, id: string): Promise<Claim | "lost" | undefined> {
    const from = this.requestPath("requests", node, id);
    const cached = this.inboxCache.get(from);
    if (!cached) {
      const read = await this.readRequestAt(from, node, id);
      if (read.kind === "missing") return "lost";
      if (read.kind !== "ok") return undefined;
    }
    if (await this.isCancelRequested(id)) return undefined;
    const to = this.newClaimPath(node, id);
    // No utimes: the reaper times a lease from when it first sees this claim's (fresh) file name.
    const moved = this.renameInto(from, to);
    this.inboxCache.delete(from);
    if (!moved) return "lost";
    // The file renamed may be newer than the one read (reaped and requeued in between): trust the one
    // held. Every write makes a new inode (temp + rename), so the same inode and mtime is the same record.
    if (cached) {
      const st = lstatSync(to, { throwIfNoEntry: false });
      if (st && st.ino === cached.ino && st.mtimeMs === cached.mtimeMs)
        return { request: cached.request, node, handle: to };
    }
    const held = this.readNow(to, TaskRequest, this.now());
    if (held.kind === "ok" && !misplaced(held.value, id, node))
      return { request: held.value, node, handle: to };
    // Replaced by something unreadable meanwhile: put it back, where the quarantine and the reports find it.
    if (this.isFile(to) && this.confine.fileAt(from) === "missing") {
      try {
        renameSync(to, from);
      } catch {}
    }
    return undefined;
  }

  /** Pending tasks of `node`, most urgent first (priority, then age); parsed requests are cached by path. */
  private async inboxView(node: string, relist: boolean): Promise<InboxView> {
    const now = performance.now();
    const dir = this.inbox(node);
    const dirMtimeMs = lstatSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    const current = this.inboxViews.get(node);
    if (!relist && current && current.entries.length > 0) {
      current.current = current.dirMtimeMs === dirMtimeMs;
      const racing = now - current.lostAt < CONTENDED_FOR_MS;
      if (current.current || (racing && now - current.listedAt < INBOX_VIEW_MS)) return current;
    }
    const names = await this.listIn(dir);
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
      const read = await this.readRequestAt(path, node, name.slice(0, -5));
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
      for (const node of await this.nodeDirs(area)) {
        const n = (await this.listIn(this.dir(area, node))).filter(
          (f) => f.endsWith(".json") && !isSyncArtifact(f),
        ).length;
        if (n) counts.set(node, (counts.get(node) ?? 0) + n);
      }
    }
    return counts;
  }

  /** Read a request file and check it belongs where it lies. Malformed ones are quarantined if allowed. */
  private async readRequestAt(path: string, node: string, id: string): Promise<ReadOutcome<TaskRequest>> {
    const read = await this.read(path, TaskRequest, this.now());
    const wrong = read.kind === "ok" ? misplaced(read.value, id, node) : undefined;
    if (wrong) {
      await this.maybeQuarantine(path, wrong);
      return { kind: "malformed", reason: wrong };
    }
    if (read.kind === "malformed" || read.kind === "unreadable")
      await this.maybeQuarantine(path, read.reason);
    return read;
  }

  async renew(claim: Claim): Promise<boolean> {
    // Handles are unique per claim, so a reaped holder gets ENOENT even once the task is claimed again.
    const now = new Date(this.now());
    try {
      utimesSync(claim.handle, now, now);
      return true;
    } catch (error) {
      if (isErrnoException(error, "ENOENT")) return false;
      throw error;
    }
  }

  async progress(claim: Claim, text: string, startedAt: string): Promise<void> {
    if (!this.isFile(claim.handle)) return; // lost: only the holder reports progress
    const record: TaskProgress = {
      schema: "clawos.progress/1",
      id: claim.request.id,
      attempt: claim.request.attempt,
      node: claim.node,
      text,
      startedAt,
      updatedAt: new Date(this.now()).toISOString(),
    };
    // Not flushed to disk: a reply in progress is rewritten every few hundred ms and replaced by the result.
    await this.writeAtomic(this.dir("progress", `${claim.request.id}.json`), JSON.stringify(record), {
      durable: false,
    });
  }

  /**
   * Publish a result without overwriting: the first result of an attempt is the one kept.
   * Returns what was published (its inode, so a loser can withdraw exactly its own file).
   */
  private async publishResult(result: TaskResult): Promise<{ path: string; ino: bigint } | undefined> {
    const valid = TaskResult.parse(result);
    const dest = this.dir("results", this.resultName(valid.id, valid.attempt, valid.status));
    const tmp = await this.writeTemp(dest, JSON.stringify(valid));
    try {
      for (const status of ["completed", "failed", "cancelled"] as const) {
        if (
          status !== valid.status &&
          this.isFile(this.dir("results", this.resultName(valid.id, valid.attempt, status)))
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
  private async withdrawResult(published: { path: string; ino: bigint }): Promise<void> {
    const now = lstatSync(published.path, { bigint: true, throwIfNoEntry: false });
    if (now?.ino === published.ino) this.unlinkFile(published.path);
  }

  /** The caller won the fence for this attempt: any result published for it is a loser's, and void. */
  private async discardResults(id: string, attempt: number): Promise<void> {
    for (const status of ["completed", "failed", "cancelled"] as const)
      this.unlinkFile(this.dir("results", this.resultName(id, attempt, status)));
  }

  async complete(claim: Claim, result: TaskResult): Promise<boolean> {
    if (result.id !== claim.request.id || result.attempt !== claim.request.attempt) {
      throw new Error(
        `a result for ${result.id} attempt ${result.attempt} cannot complete the claim of ${claim.request.id} attempt ${claim.request.attempt}`,
      );
    }
    if (this.finishing.has(claim.handle)) return false; // a concurrent complete() of this claim goes first
    this.finishing.add(claim.handle);
    try {
      if (!this.isFile(claim.handle)) return false; // lease already lost: do not even publish
      const published = await this.publishResult(result);
      if (!published) return false;
      // The fence: fails if the reaper took the claim meanwhile.
      if (!this.renameInto(claim.handle, this.requestPath("done", claim.node, claim.request.id))) {
        await this.withdrawResult(published); // lost after publishing: the result does not count
        return false;
      }
      this.unlinkFile(this.dir("progress", `${claim.request.id}.json`));
      return true;
    } finally {
      this.finishing.delete(claim.handle);
    }
  }

  async requeue(claim: Claim, options: RequeueOptions): Promise<RequeueOutcome> {
    return this.moveThroughReaping(claim.handle, claim.node, claim.request, {
      intent: options.reroute ? `requeue-${options.reroute.node}` : "requeue",
      ...(options.reroute ? { reroute: options.reroute } : {}),
      event: options.event,
      ...(options.error ? { error: options.error } : {}),
      ...(options.consumesAttempt === false ? { consumesAttempt: false } : {}),
      fromClaim: true,
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
    plan: MovePlan & { intent: string },
  ): Promise<RequeueOutcome> {
    const reaping = this.dir("reaping", node, `${request.id}.${plan.intent}.json`);
    if (!this.isFile(from)) return "lost";
    this.checkWritable(reaping);
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
    plan: MovePlan,
  ): Promise<RequeueOutcome> {
    const at = new Date(this.now()).toISOString();
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
        await this.writeAtomic(
          this.dir("results", this.resultName(request.id, request.attempt, status)),
          JSON.stringify(TaskResult.parse(verdict)),
        );
      } else {
        await this.publishResult(verdict);
      }
      const done = this.requestPath("done", node, request.id);
      this.checkWritable(done);
      await rename(reaping, done);
      this.unlinkFile(this.dir("progress", `${request.id}.json`));
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
    await this.writeAtomic(dest, JSON.stringify(TaskRequest.parse(next)));
    this.inboxViews.delete(next.route.node);
    this.unlinkFile(reaping);
    this.unlinkFile(this.dir("progress", `${request.id}.json`));
    return "requeued";
  }

  // ── reading ───────────────────────────────────────────────────────────────
  private async nodeDirs(area: string): Promise<string[]> {
    const base = this.dir(area);
    return (await this.listIn(base)).filter(
      (n) => isValidNodeId(n) && this.confine.blockedDir(join(base, n)) === undefined,
    );
  }

  /** Claimed files of task `id` on `node` (normally none or one). */
  private async claimedPaths(node: string, id: string): Promise<string[]> {
    return (await this.listIn(this.dir("claimed", node)))
      .filter((name) => claimedIdOf(name) === id)
      .map((name) => this.dir("claimed", node, name));
  }

  private async resultsIndex(): Promise<Map<string, ResultEntry[]>> {
    const map = new Map<string, ResultEntry[]>();
    for (const name of await this.listIn(this.dir("results"))) {
      const entry = resultEntryOf(name);
      if (!entry) continue;
      const list = map.get(entry.id);
      if (list) list.push(entry);
      else map.set(entry.id, [entry]);
    }
    return map;
  }

  private async describe(
    area: "requests" | "claimed" | "done" | "reaping",
    node: string,
    request: TaskRequest,
    results?: Map<string, ResultEntry[]>,
    resultsDirs: string[] = [this.dir("results"), this.archiveDir(request.id, "results")],
  ): Promise<StoredTask> {
    const cancelRequested = await this.isCancelRequested(request.id);
    if (area === "requests" || area === "reaping")
      return { request, node, state: "pending", cancelRequested };
    if (area === "claimed") {
      const progress = await this.read(this.dir("progress", `${request.id}.json`), TaskProgress);
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
          this.resultName(request.id, request.attempt, status),
        );
    let unreadable: string | undefined;
    for (const dir of resultsDirs) {
      for (const name of names) {
        const read = await this.read(join(dir, name), TaskResult);
        if (read.kind === "ok" && read.value.id === request.id && read.value.attempt === request.attempt)
          return { request, node, state: read.value.status, result: read.value, cancelRequested };
        if (read.kind === "malformed") unreadable ??= `results/${truncateName(name)} ${read.reason}`;
      }
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

  private async lookup(id: string): Promise<StoredTask | undefined> {
    const nodes = new Set<string>();
    const index = await this.read(this.dir("index", `${id}.json`), TaskRequest);
    if (index.kind === "ok") nodes.add(index.value.route.node);
    for (const area of ["requests", "claimed", "done"])
      for (const n of await this.nodeDirs(area)) nodes.add(n);
    // Only a record that holds this task for this node counts (see misplaced()).
    const read = async (path: string, node: string) => {
      const r = await this.read(path, TaskRequest);
      return r.kind === "ok" && !misplaced(r.value, id, node) ? r.value : undefined;
    };
    for (const node of nodes) {
      for (const path of await this.claimedPaths(node, id)) {
        const request = await read(path, node);
        if (request) return this.describe("claimed", node, request);
      }
      for (const area of ["requests", "done"] as const) {
        const request = await read(this.requestPath(area, node, id), node);
        if (request) return this.describe(area, node, request);
      }
      for (const name of await this.listIn(this.dir("reaping", node))) {
        if (reapingNameOf(name)?.id !== id) continue;
        const request = await read(this.dir("reaping", node, name), node);
        if (request) return this.describe("reaping", node, request);
      }
    }
    const archived = await this.findArchived(id);
    return archived ? this.describe("done", archived.node, archived.request) : undefined;
  }

  /** An archived task's request, if `id` was archived. */
  private async findArchived(
    id: string,
  ): Promise<{ node: string; path: string; request: TaskRequest } | undefined> {
    for (const node of (await this.listIn(this.archiveDir(id, "tasks"))).filter((n) => isValidNodeId(n))) {
      const path = this.archiveDir(id, "tasks", node, `${id}.json`);
      const r = await this.read(path, TaskRequest);
      if (r.kind === "ok" && !misplaced(r.value, id, node)) return { node, path, request: r.value };
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
    for (const area of ["requests", "claimed", "reaping", "done"]) {
      for (const name of await this.listIn(this.dir(area))) {
        if (isSyncArtifact(name)) continue;
        if (!isValidNodeId(name))
          problems.push(`${area}/${truncateName(name)}: not a node directory (expected ${area}/<node id>/)`);
        else {
          const blocked = this.confine.blockedDir(this.dir(area, name));
          if (blocked) problems.push(`${blocked}: not followed; remove it`);
        }
      }
    }
    const collect = async (area: "requests" | "claimed" | "reaping", node: string) => {
      for (const name of await this.listIn(this.dir(area, node))) {
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
        const read = await this.read(this.dir(area, node, name), TaskRequest, this.now());
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
    for (const node of await this.nodeDirs("claimed")) await collect("claimed", node);
    for (const node of await this.nodeDirs("requests")) await collect("requests", node);
    for (const node of await this.nodeDirs("reaping")) await collect("reaping", node);
    if (options.activeOnly) return { tasks, counts, problems };

    const results = await this.resultsIndex();
    const finished: { node: string; id: string }[] = [];
    for (const node of await this.nodeDirs("done")) {
      for (const name of await this.listIn(this.dir("done", node))) {
        const id = pendingIdOf(name);
        if (id && !seen.has(id)) finished.push({ node, id });
      }
    }
    finished.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const seenDone = new Set<string>();
    for (const [i, { node, id }] of finished.entries()) {
      if (i < finishedLimit) {
        // A finished task never changes while it stays in done/ (a retry moves it out): read it once.
        // Keyed by the newest result's attempt too, so a retried-and-finished-again task is read afresh.
        const newest = (results.get(id) ?? []).reduce((a, r) => Math.max(a, r.attempt), 0);
        const key = `${node}/${id}/${newest}`;
        seenDone.add(key);
        const cached = this.doneCache.get(key);
        if (cached) {
          counts[cached.state]++;
          tasks.push(cached);
          continue;
        }
        const read = await this.read(this.requestPath("done", node, id), TaskRequest);
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
        tasks.push(task);
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
    for (const key of this.doneCache.keys()) if (!seenDone.has(key)) this.doneCache.delete(key);
    // Archived tasks are only counted (clawos tasks show ID still reads one).
    const archived = await this.archivedCounts();
    counts.completed += archived.completed;
    counts.failed += archived.failed;
    counts.cancelled += archived.cancelled;
    const quarantined = (await this.listIn(this.dir("quarantine"))).filter(
      (n) => !n.endsWith(".reason"),
    ).length;
    if (quarantined)
      problems.push(
        `${quarantined} malformed file(s) set aside in ${this.dir("quarantine")}: read each .reason, then delete them (this line goes away)`,
      );
    return { tasks, counts, problems };
  }

  // ── cancel and retry ───────────────────────────────────────────────────────
  async isCancelRequested(id: string): Promise<boolean> {
    return isValidTaskId(id) && this.isFile(this.dir("cancel", id));
  }

  async requestCancel(id: string): Promise<StoredTask> {
    const task = await this.requireTask(id);
    if (task.state === "completed" || task.state === "failed" || task.state === "cancelled") {
      throw new BlackboardError({ code: "already_finished", id, state: task.state });
    }
    // Atomic: a write cut short (a full disk) must not leave a marker that cancels the task anyway.
    await this.writeAtomic(this.dir("cancel", id), new Date(this.now()).toISOString());
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
      throw new BlackboardError({ code: "not_retryable", id, state: task.state });
    }
    this.unlinkFile(this.dir("cancel", id));
    const done = this.requestPath("done", task.node, id);
    const from = this.isFile(done) ? done : ((await this.findArchived(id))?.path ?? done);
    const outcome = await this.moveThroughReaping(from, task.node, task.request, {
      intent: reroute ? `retry-${reroute.node}` : "retry",
      ...(reroute ? { reroute } : {}),
      event: { event: "retry", detail: `retried by hand after ${task.state}` },
      raiseMaxAttempts: true,
    });
    // Taken out of the archive: that day's counts change.
    if (from !== done && outcome !== "lost") await this.writeArchiveSummary(archiveDayOf(id));
    if (outcome === "lost") throw new BlackboardError({ code: "changed_while_retrying", id });
    return (await this.get(id)) ?? task;
  }

  private requireTask(id: string): Promise<StoredTask> {
    return requireTask((task) => this.get(task), id, `the blackboard at ${this.root}`);
  }

  // ── node status ───────────────────────────────────────────────────────────
  async writeNodeStatus(record: NodeStatusRecord): Promise<void> {
    const valid = NodeStatusRecord.parse(record);
    const path = this.dir("node-status", `${valid.node}.json`);
    // Something planted there is reported once (status lists it), not at every heartbeat.
    if (this.confine.fileAt(path) === "foreign") return;
    await this.writeAtomic(path, JSON.stringify(valid));
  }

  async readNodeStatuses(): Promise<{ records: NodeStatusRecord[]; problems: string[] }> {
    const records: NodeStatusRecord[] = [];
    const problems: string[] = [];
    for (const name of await this.listIn(this.dir("node-status"))) {
      if (isSyncArtifact(name) || !name.endsWith(".json")) continue;
      const now = this.now();
      const read = await this.read(this.dir("node-status", name), NodeStatusRecord, now);
      // No later than the file landed here: a clock ahead (or a planted date) is not "alive for ever".
      if (read.kind === "ok" && read.value.node === name.slice(0, -5))
        records.push(heartbeatNotAfter(read.value, Math.min(read.ctimeMs, now)));
      else if (read.kind !== "ok" && problemOf(read))
        problems.push(`node-status/${truncateName(name)}: ${problemOf(read)}`);
      else if (read.kind === "ok")
        problems.push(`node-status/${truncateName(name)}: holds the status of node ${read.value.node}`);
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
    await this.leases.beginRound(now);
    const expired: ExpiredLease[] = [];
    for (const node of await this.nodeDirs("claimed")) {
      for (const name of await this.listIn(this.dir("claimed", node))) {
        const id = claimedIdOf(name);
        if (!id) continue;
        const path = this.dir("claimed", node, name);
        let mtimeMs: number;
        try {
          mtimeMs = (await lstat(path)).mtimeMs;
        } catch {
          continue;
        }
        const still = this.leases.unrenewedFor(path, mtimeMs, now);
        if (still === undefined || still < leaseMs) continue;
        const read = await this.readRequestAt(path, node, id);
        if (read.kind !== "ok") continue;
        const outcome = await this.moveThroughReaping(path, node, read.value, {
          intent: "requeue",
          event: {
            event: "lease-expired",
            detail: `its lease on ${node} was not renewed for ${Math.round(still / 1000)} s: the process running attempt ${read.value.attempt} (a worker or a dispatcher) is gone`,
          },
          error: {
            kind: "lease_expired",
            message: `the process running it on ${node} (a worker or a dispatcher) stopped renewing its lease`,
          },
          fromClaim: true,
        });
        this.leases.forget(path);
        // A reap that lost its race is reported too: the caller logs what became of each lease.
        expired.push({ id: read.value.id, node, outcome });
      }
    }
    await this.leases.endRound();
    return expired;
  }

  /** No shared lease on a directory: its coordinator is the worker named so in the configuration. */
  async coordinatorLease(_holder: string, _leaseMs: number): Promise<boolean> {
    return false;
  }

  async releaseCoordinatorLease(): Promise<void> {}

  /** Seconds-old or younger leftovers may belong to a move or dispatch still in flight: not ours to finish. */
  /**
   * Move tasks that finished more than a day ago out of done/ and results/ into
   * archive/<day created>/{tasks/<node>,results,index,cancel}/, so listing the board (every status, every refresh of the control
   * center) stays small however long the federation runs. `get` and `retry` still find them;
   * `list` counts them from each day's summary.json. recover() runs it at most every ARCHIVE_EVERY_MS.
   */
  private async archiveFinished(): Promise<string[]> {
    const now = this.now();
    const cutoff = now - (this.options.archiveAfterMs ?? ARCHIVE_AFTER_MS);
    const results = await this.resultsIndex();
    const days = new Set<string>();
    let moved = 0;
    for (const node of await this.nodeDirs("done")) {
      for (const name of await this.listIn(this.dir("done", node))) {
        const id = pendingIdOf(name);
        if (!id) continue;
        // A task cannot finish before it was created: most of the board is skipped by its id alone.
        const created = taskIdTime(id)?.getTime();
        if (created !== undefined && created >= cutoff) continue;
        const entries = results.get(id) ?? [];
        const finishedAt = await this.finishedAt(node, id, entries);
        if (finishedAt === undefined || finishedAt >= cutoff) continue;
        if (await this.archiveOne(node, id, entries)) {
          moved++;
          days.add(archiveDayOf(id));
        }
      }
    }
    for (const day of await this.listIn(this.dir("archive"))) {
      if (days.has(day) || (await this.archiveSummaryIsStale(day))) await this.writeArchiveSummary(day);
    }
    return moved ? [`archived ${moved} task(s) that finished over a day ago (archive/<day>/)`] : [];
  }

  /** When a finished task finished: its newest result's finishedAt, else when it reached done/. */
  private async finishedAt(node: string, id: string, entries: ResultEntry[]): Promise<number | undefined> {
    const newest = entries.reduce<ResultEntry | undefined>(
      (a, b) => (!a || b.attempt > a.attempt ? b : a),
      undefined,
    );
    if (newest) {
      const read = await this.read(this.dir("results", newest.name), TaskResult);
      if (read.kind === "ok") return Date.parse(read.value.finishedAt);
    } else {
      // An earlier pass may have moved the results already (cut short before the request).
      const request = await this.read(this.requestPath("done", node, id), TaskRequest);
      if (request.kind === "ok") {
        for (const status of ["completed", "failed", "cancelled"] as const) {
          const name = this.resultName(id, request.value.attempt, status);
          const read = await this.read(this.archiveDir(id, "results", name), TaskResult);
          if (read.kind === "ok") return Date.parse(read.value.finishedAt);
        }
      }
    }
    const done = this.requestPath("done", node, id);
    const st = lstatSync(done, { throwIfNoEntry: false });
    return st ? this.changedAt(done, st) : undefined;
  }

  /**
   * Index entry first (once it has left index/, recover() can never republish the task),
   * then the results, the cancel marker, and the request last. A crash halfway leaves the
   * task in done/ with its results partly moved: readers look in the archive too, and the
   * next pass finishes the move.
   */
  private async archiveOne(node: string, id: string, entries: ResultEntry[]): Promise<boolean> {
    const moveIfThere = (from: string, to: string) => {
      if (this.isFile(from)) this.renameInto(from, to);
    };
    moveIfThere(this.dir("index", `${id}.json`), this.archiveDir(id, "index", `${id}.json`));
    for (const entry of entries)
      moveIfThere(this.dir("results", entry.name), this.archiveDir(id, "results", entry.name));
    moveIfThere(this.dir("cancel", id), this.archiveDir(id, "cancel", id));
    // A retry may have taken the task meanwhile: then it is simply not archived (its old results are).
    return this.renameInto(
      this.requestPath("done", node, id),
      this.archiveDir(id, "tasks", node, `${id}.json`),
    );
  }

  private async archiveSummaryIsStale(day: string): Promise<boolean> {
    if (!ARCHIVE_DAY.test(day)) return false;
    const summary = lstatSync(this.dir("archive", day, "summary.json"), { throwIfNoEntry: false });
    if (!summary) return true;
    // Adding or removing an entry moves a directory's mtime: results/ and each tasks/<node>/.
    const dirs = [join("archive", day, "results"), join("archive", day, "tasks")];
    for (const node of await this.listIn(this.dir("archive", day, "tasks")))
      dirs.push(join("archive", day, "tasks", node));
    return dirs.some(
      (d) => (lstatSync(this.dir(d), { throwIfNoEntry: false })?.mtimeMs ?? 0) > summary.mtimeMs,
    );
  }

  /** Outcome counts of one archived day, from file names alone. */
  private async countArchivedDay(day: string): Promise<ArchiveSummary> {
    const base = this.dir("archive", day);
    const outcomes = new Map<string, ResultEntry>();
    for (const name of await this.listIn(join(base, "results"))) {
      const entry = resultEntryOf(name);
      if (!entry) continue;
      const best = outcomes.get(entry.id);
      if (
        !best ||
        entry.attempt > best.attempt ||
        (entry.attempt === best.attempt && OUTCOME_PRECEDENCE[entry.status] < OUTCOME_PRECEDENCE[best.status])
      )
        outcomes.set(entry.id, entry);
    }
    const counts = { completed: 0, failed: 0, cancelled: 0 };
    for (const node of (await this.listIn(join(base, "tasks"))).filter((n) => isValidNodeId(n))) {
      for (const name of await this.listIn(join(base, "tasks", node))) {
        const id = pendingIdOf(name);
        if (id) counts[outcomes.get(id)?.status ?? "failed"]++;
      }
    }
    return { schema: "clawos.archive/1", day, counts };
  }

  private async writeArchiveSummary(day: string): Promise<void> {
    const summary = await this.countArchivedDay(day);
    await this.writeAtomic(this.dir("archive", day, "summary.json"), JSON.stringify(summary));
  }

  /**
   * Counts of everything archived, from each day's summary (a fresh count where it is missing).
   * list() runs on every refresh of the control center, so each day is read again only when
   * its directory changed: every summary is written by a rename into it. The coordinator's pass
   * and retry() keep the summaries current; archiveFinished() repairs one a crash left stale.
   */
  private async archivedCounts(): Promise<ArchiveSummary["counts"]> {
    const total = { completed: 0, failed: 0, cancelled: 0 };
    for (const day of await this.listIn(this.dir("archive"))) {
      if (!ARCHIVE_DAY.test(day)) continue;
      const dayDir = lstatSync(this.dir("archive", day), { throwIfNoEntry: false });
      if (!dayDir?.isDirectory()) continue;
      const dirMtimeMs = dayDir.mtimeMs;
      const cached = this.archivedDays.get(day);
      let counts = cached?.dirMtimeMs === dirMtimeMs ? cached.counts : undefined;
      if (!counts) {
        const read = await this.read(this.dir("archive", day, "summary.json"), ArchiveSummary);
        counts = read.kind === "ok" ? read.value.counts : (await this.countArchivedDay(day)).counts;
        this.archivedDays.set(day, { dirMtimeMs, counts });
      }
      total.completed += counts.completed;
      total.failed += counts.failed;
      total.cancelled += counts.cancelled;
    }
    return total;
  }

  /** Temp files a crashed writer left behind (hours old), and the emptied per-process temp directories. */
  private async sweepTemp(): Promise<void> {
    const cutoff = this.now() - STALE_TEMP_MS;
    // lstat, and listIn() checks each directory: a link planted in tmp/ is neither entered nor followed.
    const sweep = async (dir: string, depth: number) => {
      for (const name of await this.listIn(dir)) {
        const path = join(dir, name);
        const st = await lstat(path).catch(() => undefined);
        if (!st) continue;
        if (st.isDirectory() && depth === 0) {
          await sweep(path, 1);
          if (name !== this.tmpName && st.mtimeMs < cutoff) await rmdir(path).catch(() => {});
        } else if (!st.isFile()) {
          this.confine.fileAt(path); // reported, left alone
        } else if (st.mtimeMs < cutoff) this.unlinkFile(path);
      }
    };
    await sweep(this.dir("tmp"), 0);
  }

  private async inFlight(path: string): Promise<boolean> {
    const st = await lstat(path).catch(() => undefined);
    return !st || this.now() - this.changedAt(path, st) < IN_FLIGHT_GRACE_MS;
  }

  /**
   * When a file last changed, by this machine's clock. rename() updates ctime, not mtime: a file
   * just moved is young by its ctime. A time in the future (another machine's clock, a planted
   * file) is not believed: the other one is used, or else when this process first saw it.
   */
  private changedAt(path: string, st: { mtimeMs: number; ctimeMs: number }): number {
    const now = this.now();
    const past = [st.mtimeMs, st.ctimeMs].filter((t) => t <= now);
    if (past.length) return Math.max(...past);
    const key = `${path}\0${st.mtimeMs}`;
    const seen = this.futureSeen.get(key) ?? now;
    this.futureSeen.set(key, seen);
    return seen;
  }

  private async recover(): Promise<string[]> {
    const notes: string[] = [];
    // Housekeeping that needs no faster pace than the archive's.
    const now = this.now();
    if (now - this.lastHousekeepingAt >= ARCHIVE_EVERY_MS) {
      this.lastHousekeepingAt = now;
      await this.sweepTemp();
      notes.push(...(await this.archiveFinished()));
    }
    const located = new Set<string>();
    for (const area of ["requests", "claimed", "done"]) {
      for (const node of await this.nodeDirs(area)) {
        for (const name of await this.listIn(this.dir(area, node))) {
          const id = area === "claimed" ? claimedIdOf(name) : pendingIdOf(name);
          if (id) located.add(id);
        }
      }
    }
    const moving = new Set<string>();
    // 1. Moves interrupted between the fencing rename and the publish.
    for (const node of await this.nodeDirs("reaping")) {
      for (const name of await this.listIn(this.dir("reaping", node))) {
        const parsed = reapingNameOf(name);
        if (!parsed) continue;
        const { id, intent, to } = parsed;
        moving.add(id);
        const path = this.dir("reaping", node, name);
        if (await this.inFlight(path)) continue;
        if (located.has(id)) {
          this.unlinkFile(path); // published, but the crash came before the clean-up
          continue;
        }
        const read = await this.read(path, TaskRequest, this.now());
        if (read.kind !== "ok" || misplaced(read.value, id, node)) continue;
        const reroute =
          to && to !== read.value.route.node
            ? { ...read.value.route, node: to, reason: `${read.value.route.reason} (recovered move)` }
            : undefined;
        try {
          const outcome = await this.finishReaping(path, node, read.value, {
            ...(reroute ? { reroute } : {}),
            event: { event: "recovered", detail: `finished an interrupted ${intent} after a crash` },
            consumesAttempt: intent === "requeue" || intent === "retry",
            raiseMaxAttempts: intent === "retry",
            fromClaim: intent === "requeue",
          });
          located.add(id);
          notes.push(`${id}: finished an interrupted ${intent} (${outcome})`);
        } catch (error) {
          if (!isErrnoException(error, "ENOENT")) throw error;
          // Someone else finished it meanwhile.
        }
      }
    }
    // 2. Dispatches that crashed after reserving the id but before publishing.
    for (const name of await this.listIn(this.dir("index"))) {
      const id = pendingIdOf(name);
      if (!id || located.has(id) || moving.has(id)) continue;
      const path = this.dir("index", name);
      const read = await this.read(path, TaskRequest, this.now());
      if (read.kind !== "ok" || read.value.id !== id || (await this.inFlight(path))) continue;
      const dest = this.requestPath("requests", read.value.route.node, id);
      this.checkWritable(dest);
      const tmp = await this.writeTemp(dest, JSON.stringify(read.value));
      try {
        await link(tmp, dest); // never over a copy someone else republished meanwhile
        notes.push(`${id}: republished a task whose dispatch was interrupted`);
      } catch (error) {
        if (!isErrnoException(error, "EEXIST")) throw diskError(error, dest);
      } finally {
        unlinkQuietly(tmp);
      }
    }
    // What was left alone is reported by the coordinator's handle, the one whose notes are logged.
    const leftAlone = this.confine.takeNotes();
    return this.options.quarantine ? [...notes, ...leftAlone] : notes;
  }

  private async reroutePending(id: string, from: string, decision: RouteDecision): Promise<boolean> {
    if (!isValidNodeId(from) || !isValidTaskId(id)) return false;
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

  /** Move a malformed file aside (if this handle may) with a `.reason` beside it; true if it was moved. */
  private async maybeQuarantine(path: string, reason: string): Promise<boolean> {
    // Only a regular file is moved: a link, a FIFO or a device is reported and left where it is.
    if (!this.options.quarantine || !this.isFile(path)) return false;
    const rel = path.slice(this.root.length + 1).replace(/[/\\]/g, "_");
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, "-");
    const dest = this.dir("quarantine", `${stamp}_${randomBytes(3).toString("hex")}_${truncateName(rel)}`);
    try {
      this.checkWritable(dest);
      await rename(path, dest);
    } catch {
      return false; // already moved by someone else, or unwritable: readers still skip it
    }
    // The reason syncs to every machine: where the file was and what kind of problem, never its bytes.
    writeNewFile(`${dest}.reason`, `${this.confine.rel(path)}\n${sanitizeLine(reason)}\n`);
    return true;
  }

  private async quarantineMalformed(): Promise<string[]> {
    const moved: string[] = [];
    const check = async (dir: string, validate: (name: string) => Promise<string | undefined>) => {
      for (const name of await this.listIn(dir)) {
        if (isSyncArtifact(name)) continue;
        const reason = await validate(name);
        if (reason && (await this.maybeQuarantine(join(dir, name), reason)))
          moved.push(`${join(dir, name).slice(this.root.length + 1)}: ${reason}`);
      }
    };
    const requestCheck = (area: "requests" | "claimed", node: string) => async (name: string) => {
      const id = area === "claimed" ? claimedIdOf(name) : pendingIdOf(name);
      if (!id) return "not a task file name (expected <task id>.json)";
      const read = await this.read(this.dir(area, node, name), TaskRequest, this.now());
      if (read.kind === "malformed" || read.kind === "unreadable") return read.reason;
      if (read.kind === "ok") return misplaced(read.value, id, node);
      return undefined;
    };
    for (const area of ["requests", "claimed"] as const) {
      for (const node of await this.nodeDirs(area))
        await check(this.dir(area, node), requestCheck(area, node));
    }
    await check(this.dir("node-status"), async (name) => {
      if (!name.endsWith(".json")) return "not a node status file name";
      const read = await this.read(this.dir("node-status", name), NodeStatusRecord, this.now());
      return read.kind === "malformed" || read.kind === "unreadable" ? read.reason : undefined;
    });
    return moved;
  }

  // ── wake-ups ──────────────────────────────────────────────────────────────
  watch(scope: WatchScope, onChange: () => void): () => void {
    const watchers = new Map<string, FSWatcher>();
    let closed = false;
    if ("inboxOf" in scope && !isValidNodeId(scope.inboxOf)) return () => {};
    const add = (dir: string) => {
      // refresh() is asynchronous: once unwatched, it must not start new watchers.
      if (closed || watchers.has(dir)) return;
      try {
        // Non-recursive on purpose: recursive watching is slow on Linux (ARCHITECTURE.md §4).
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
        try {
          this.ensureDir(this.inbox(scope.inboxOf));
        } catch {}
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
      closed = true;
      for (const w of watchers.values()) w.close();
      watchers.clear();
    };
  }

  async close(): Promise<void> {
    this.inboxCache.clear();
    this.inboxViews.clear();
    // Our temp directory is empty unless a write is still in flight; a crash leaves it to sweepTemp().
    const tmp = this.dir("tmp", this.tmpName);
    if (this.knownDirs.delete(tmp)) await rmdir(tmp).catch(() => {});
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {}
}

/** `results/<id>.a<attempt>.<status>.json` → its parts. */
function resultEntryOf(name: string): ResultEntry | undefined {
  if (isSyncArtifact(name)) return undefined;
  const m = /^(.+)\.a(\d+)\.(completed|failed|cancelled)\.json$/.exec(name);
  return m ? { id: m[1]!, attempt: Number(m[2]), status: m[3] as TaskResult["status"], name } : undefined;
}

/** The archive folder of a task: the UTC day its id says it was created, or "undated" for free-form ids. */
function archiveDayOf(id: string): string {
  return taskIdTime(id)?.toISOString().slice(0, 10) ?? "undated";
}

/** `requests/<node>/<id>.json` and `done/<node>/<id>.json` → id. */
function pendingIdOf(name: string): string | undefined {
  if (isSyncArtifact(name) || !name.endsWith(".json")) return undefined;
  const id = name.slice(0, -5);
  return isValidTaskId(id) ? id : undefined;
}

/** `claimed/<node>/<id>.<claim>.json` → id (task ids never contain "."); `<id>.json` from older versions too. */
function claimedIdOf(name: string): string | undefined {
  if (isSyncArtifact(name)) return undefined;
  const m = /^([^.]+)(?:\.[0-9a-f]{8,32})?\.json$/.exec(name);
  return m && isValidTaskId(m[1]!) ? m[1] : undefined;
}

/** `reaping/<node>/<id>.<intent>[-<to node>].json` → its parts. */
function reapingNameOf(name: string): { id: string; intent: string; to?: string } | undefined {
  if (isSyncArtifact(name)) return undefined;
  const m = /^([^.]+)\.([a-z]+)(?:-([a-z0-9-]+))?\.json$/.exec(name);
  if (!m || !isValidTaskId(m[1]!)) return undefined;
  if (m[3] !== undefined && !isValidNodeId(m[3])) return undefined;
  return { id: m[1]!, intent: m[2]!, ...(m[3] ? { to: m[3] } : {}) };
}

/** Why a request record does not belong where it lies (task `id` in `node`'s directory), if it does not. */
function misplaced(request: TaskRequest, id: string, node: string): string | undefined {
  if (request.id === id && request.route.node === node) return undefined;
  return `holds task ${request.id} for node ${request.route.node}, but lies at ${node}/${id}`;
}

/** Create `path` (never through a link, never over anything); best effort. */
function writeNewFile(path: string, text: string): void {
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o644);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  } catch {}
}

/** What a reader reports of a record it skips (a half-written one is not reported yet). */
function problemOf(read: ReadOutcome<unknown>): string | undefined {
  return read.kind === "malformed" || read.kind === "foreign" || read.kind === "unreadable"
    ? read.reason
    : undefined;
}
