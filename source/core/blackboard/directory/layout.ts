import { closeSync, constants, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { lstat, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { z } from "zod";
import { isErrnoException } from "../../domain/errors.js";
import { isValidNodeId, isValidTaskId, taskIdTime } from "../../domain/ids.js";
import { TaskRequest, type TaskResult } from "../../domain/schema.js";
import { diskError, writeFileAtomic, writeTemp } from "../../infra/atomic-file.js";
import { randomHex } from "../../infra/random-hex.js";
import { sanitizeLine } from "../../infra/sanitize.js";
import { BlackboardError } from "../errors.js";
import { truncateName } from "../names.js";
import { isSyncArtifact, listDir, type ReadOutcome, readRecordNow } from "./records.js";
import { Confinement, entryAt, O_NOFOLLOW } from "./safe-fs.js";

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
 *   registry/<owner>/<node>.json  node definitions, each written by its owner machine only
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
export const IN_FLIGHT_GRACE_MS = 5_000;
/** How long a finished task may wait for its result to arrive (a sync tool carries files in any order). */
export const RESULT_LAG_MS = 60_000;
export const OUTCOME_PRECEDENCE: Record<TaskResult["status"], number> = {
  failed: 0,
  cancelled: 1,
  completed: 2,
};

export interface ResultEntry {
  id: string;
  attempt: number;
  status: TaskResult["status"];
  name: string;
}

export interface DirectoryOptions {
  quarantine?: boolean;
  clock?: () => number;
  /**
   * The clock the coordinator times leases by (ms): every process of a machine must share it and
   * no wall-clock change may move it (default: `clock` if given, else the monotonic clock).
   */
  leaseClock?: () => number;
  archiveAfterMs?: number;
  /**
   * This machine's name in the federation, keying its coordinator's notes: FederationCore passes
   * thisMachine() (config.ts), the one name every part uses; the host name only when none is given.
   */
  machine?: string;
}

/**
 * Where everything lies on the directory blackboard, and the safe file operations every other
 * module of the driver goes through: nothing is read, written or moved outside the root or
 * through a link planted in it.
 */
export class DirectoryLayout {
  /** Directories this instance made or saw: no mkdir per claim (renameInto() remakes a vanished one). */
  readonly knownDirs = new Set<string>();

  /** Files stamped in the future, by when this process first saw them (see changedAt()). */
  private readonly futureSeen = new Map<string, number>();

  /** This instance's own temp directory under tmp/ (see tmpDir()), named on first need. */
  get tmpName(): string {
    this.ownTmpName ??= `p${process.pid}-${randomHex(3)}`;
    return this.ownTmpName;
  }
  private ownTmpName: string | undefined;

  /** The temp directory's path if this instance ever named one (nothing to remove otherwise). */
  namedTmpDir(): string | undefined {
    return this.ownTmpName === undefined ? undefined : this.dir("tmp", this.ownTmpName);
  }

  /** Keeps every path this driver touches inside the root (see safe-fs.ts). */
  readonly confine: Confinement;

  constructor(
    readonly root: string,
    readonly options: DirectoryOptions,
  ) {
    this.confine = new Confinement(root);
  }

  /** Names in `dir`; none if a link or a non-directory stands on the way to it. */
  async listIn(dir: string): Promise<string[]> {
    return this.confine.blockedDir(dir) ? [] : listDir(dir);
  }

  /** A record, read only if it is a regular file reached through real directories of the blackboard. */
  readNow<T>(path: string, schema: z.ZodType<T>, now = this.now()): ReadOutcome<T> {
    if (!this.confine.within(path))
      return { kind: "foreign", reason: "lies behind a link or a non-directory: not followed" };
    const read = readRecordNow(path, schema, now);
    if (read.kind === "foreign") this.confine.fileAt(path); // reported once
    return read;
  }

  async read<T>(path: string, schema: z.ZodType<T>, now = this.now()): Promise<ReadOutcome<T>> {
    return this.readNow(path, schema, now);
  }

  /** A regular file of the blackboard is there (a link or a FIFO is not, and is reported). */
  isFile(path: string): boolean {
    return this.confine.fileAt(path) === "file";
  }

  /** Remove a regular file of the blackboard; anything else is left alone. */
  unlinkFile(path: string): void {
    if (this.isFile(path)) unlinkQuietly(path);
  }

  /** `path` may be written: its directories are real and ours, and nothing foreign stands at it. */
  checkWritable(path: string): void {
    this.ensureDir(dirname(path)); // the directories, checked: only the entry itself is left to look at
    const entry = entryAt(path);
    if (entry.kind === "foreign") {
      this.confine.note(path, `${entry.what}, not a regular file`);
      throw new BlackboardError({ code: "foreign_file", path: this.confine.rel(path), root: this.root });
    }
  }

  now(): number {
    return this.options.clock ? this.options.clock() : Date.now();
  }

  dir(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  inbox(node: string): string {
    return this.dir("requests", node);
  }

  requestPath(area: "requests" | "claimed" | "done", node: string, id: string): string {
    return this.dir(area, node, `${id}.json`);
  }

  /** A fresh claimed-file name: every claim of a task gets its own handle. */
  newClaimPath(node: string, id: string): string {
    return this.dir("claimed", node, `${id}.${randomHex(6)}.json`);
  }

  /** archive/<day the task was created>/…: finished tasks moved out of done/ and results/ (see archiveFinished). */
  archiveDir(id: string, ...parts: string[]): string {
    return this.dir("archive", archiveDayOf(id), ...parts);
  }

  resultName(id: string, attempt: number, status: TaskResult["status"]): string {
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
        "registry",
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

  /**
   * This process's own temp directory. Creating and unlinking temp files in one directory
   * shared by every worker serialises them on that directory's lock (BENCHMARKS.md).
   */
  tmpDir(): string {
    const dir = this.dir("tmp", this.tmpName);
    this.ensureDir(dir);
    return dir;
  }

  writeTemp(dest: string, data: string): Promise<string> {
    return this.throughTmp((tmpDir) => writeTemp(dest, data, { tmpDir }));
  }

  writeAtomic(path: string, data: string, options: { durable?: boolean } = {}): Promise<void> {
    this.checkWritable(path);
    return this.throughTmp((tmpDir) => writeFileAtomic(path, data, { ...options, tmpDir }));
  }

  /** A write through this instance's temp directory, made again if something removed it meanwhile. */
  async throughTmp<T>(write: (tmpDir: string) => Promise<T>): Promise<T> {
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
  ensureDir(dir: string): void {
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
   * `freshName`: `to` is a name nobody can have guessed (newClaimPath), so nothing can stand there.
   */
  renameInto(from: string, to: string, freshName = false): boolean {
    if (!this.isFile(from)) return false;
    // A fresh random name (a new claim's) has nothing at it to look at: only its directory is checked.
    if (freshName) this.ensureDir(dirname(to));
    else this.checkWritable(to);
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

  /** Read a request file and check it belongs where it lies. Malformed ones are quarantined if allowed. */
  async readRequestAt(path: string, node: string, id: string): Promise<ReadOutcome<TaskRequest>> {
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

  async nodeDirs(area: string): Promise<string[]> {
    const base = this.dir(area);
    return (await this.listIn(base)).filter(
      (n) => isValidNodeId(n) && this.confine.blockedDir(join(base, n)) === undefined,
    );
  }

  /** Claimed files of task `id` on `node` (normally none or one). */
  async claimedPaths(node: string, id: string): Promise<string[]> {
    return (await this.listIn(this.dir("claimed", node)))
      .filter((name) => claimedIdOf(name) === id)
      .map((name) => this.dir("claimed", node, name));
  }

  async resultsIndex(): Promise<Map<string, ResultEntry[]>> {
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

  async isCancelRequested(id: string): Promise<boolean> {
    return isValidTaskId(id) && this.isFile(this.dir("cancel", id));
  }

  /** The file changed here (arrived, by ctime) less than `ms` ago by this machine's clock. */
  async arrivedWithin(path: string, ms: number): Promise<boolean> {
    const st = await lstat(path).catch(() => undefined);
    return st !== undefined && this.now() - this.changedAt(path, st) < ms;
  }

  async inFlight(path: string): Promise<boolean> {
    const st = await lstat(path).catch(() => undefined);
    return !st || this.now() - this.changedAt(path, st) < IN_FLIGHT_GRACE_MS;
  }

  /**
   * When a file last changed, by this machine's clock. rename() updates ctime, not mtime: a file
   * just moved is young by its ctime. A time in the future (another machine's clock, a planted
   * file) is not believed: the other one is used, or else when this process first saw it.
   */
  changedAt(path: string, st: { mtimeMs: number; ctimeMs: number }): number {
    const now = this.now();
    const past = [st.mtimeMs, st.ctimeMs].filter((t) => t <= now);
    if (past.length) return Math.max(...past);
    const key = `${path}\0${st.mtimeMs}`;
    const seen = this.futureSeen.get(key) ?? now;
    this.futureSeen.set(key, seen);
    return seen;
  }

  /** Move a malformed file aside (if this handle may) with a `.reason` beside it; true if it was moved. */
  async maybeQuarantine(path: string, reason: string): Promise<boolean> {
    // Only a regular file is moved: a link, a FIFO or a device is reported and left where it is.
    if (!this.options.quarantine || !this.isFile(path)) return false;
    const rel = path.slice(this.root.length + 1).replace(/[/\\]/g, "_");
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, "-");
    const dest = this.dir("quarantine", `${stamp}_${randomHex(3)}_${truncateName(rel)}`);
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
}

export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {}
}

/** `results/<id>.a<attempt>.<status>.json` → its parts. */
export function resultEntryOf(name: string): ResultEntry | undefined {
  if (isSyncArtifact(name)) return undefined;
  const m = /^(.+)\.a(\d+)\.(completed|failed|cancelled)\.json$/.exec(name);
  return m ? { id: m[1]!, attempt: Number(m[2]), status: m[3] as TaskResult["status"], name } : undefined;
}

/** The archive folder of a task: the UTC day its id says it was created, or "undated" for free-form ids. */
export function archiveDayOf(id: string): string {
  return taskIdTime(id)?.toISOString().slice(0, 10) ?? "undated";
}

/** `requests/<node>/<id>.json` and `done/<node>/<id>.json` → id. */
export function pendingIdOf(name: string): string | undefined {
  if (isSyncArtifact(name) || !name.endsWith(".json")) return undefined;
  const id = name.slice(0, -5);
  return isValidTaskId(id) ? id : undefined;
}

/** `claimed/<node>/<id>.<claim>.json` → id (task ids never contain "."); `<id>.json` from older versions too. */
export function claimedIdOf(name: string): string | undefined {
  if (isSyncArtifact(name)) return undefined;
  const m = /^([^.]+)(?:\.[0-9a-f]{8,32})?\.json$/.exec(name);
  return m && isValidTaskId(m[1]!) ? m[1] : undefined;
}

/** `reaping/<node>/<id>.<intent>[-<to node>].json` → its parts. */
export function reapingNameOf(name: string): { id: string; intent: string; to?: string } | undefined {
  if (isSyncArtifact(name)) return undefined;
  const m = /^([^.]+)\.([a-z]+)(?:-([a-z0-9-]+))?\.json$/.exec(name);
  if (!m || !isValidTaskId(m[1]!)) return undefined;
  if (m[3] !== undefined && !isValidNodeId(m[3])) return undefined;
  return { id: m[1]!, intent: m[2]!, ...(m[3] ? { to: m[3] } : {}) };
}

/** Why a request record does not belong where it lies (task `id` in `node`'s directory), if it does not. */
export function misplaced(request: TaskRequest, id: string, node: string): string | undefined {
  if (request.id === id && request.route.node === node) return undefined;
  return `holds task ${request.id} for node ${request.route.node}, but lies at ${node}/${id}`;
}

/** Create `path` (never through a link, never over anything); best effort. */
export function writeNewFile(path: string, text: string): void {
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
export function problemOf(read: ReadOutcome<unknown>): string | undefined {
  return read.kind === "malformed" || read.kind === "foreign" || read.kind === "unreadable"
    ? read.reason
    : undefined;
}
