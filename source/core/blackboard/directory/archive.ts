import { lstatSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { DAY_MS } from "../../domain/durations.js";
import { isValidNodeId, isValidTaskId, taskIdTime } from "../../domain/ids.js";
import { lazySchema } from "../../domain/lazy-schema.js";
import { count } from "../../domain/plural.js";
import { TaskRequest, TaskResult } from "../../domain/schema.js";
import {
  archiveDayOf,
  type DirectoryLayout,
  misplaced,
  OUTCOME_PRECEDENCE,
  pendingIdOf,
  type ResultEntry,
  resultEntryOf,
} from "./layout.js";

/** Names of the day folders under archive/ (see archiveDayOf). */
const ARCHIVE_DAY = /^\d{4}-\d{2}-\d{2}$|^undated$/;

/** Finished tasks move to archive/ this long after they finished (see archiveFinished). */
const ARCHIVE_AFTER_MS = DAY_MS;

const ArchiveSummary = lazySchema(() =>
  z.object({
    schema: z.literal("clawos.archive/1"),
    day: z.string(),
    counts: z.object({
      completed: z.number().int().nonnegative(),
      failed: z.number().int().nonnegative(),
      cancelled: z.number().int().nonnegative(),
    }),
  }),
);

type ArchiveSummary = z.infer<typeof ArchiveSummary>;

/** Finished tasks moved to archive/<day>/ after a day, and the per-day counts list() shows of them. */
export class Archive {
  constructor(private readonly fs: DirectoryLayout) {}

  /** Counts of each archived day as last read, with its directory's mtime then (see archivedCounts). */
  private readonly archivedDays = new Map<string, { dirMtimeMs: number; counts: ArchiveSummary["counts"] }>();

  /**
   * Move tasks that finished more than a day ago out of done/ and results/ into
   * archive/<day created>/{tasks/<node>,results,index,cancel}/, so listing the board (every status, every refresh of the control
   * center) stays small however long the federation runs. `get` and `retry` still find them;
   * `list` counts them from each day's summary.json. recover() runs it at most every ARCHIVE_EVERY_MS.
   */
  async archiveFinished(): Promise<string[]> {
    const now = this.fs.now();
    const cutoff = now - (this.fs.options.archiveAfterMs ?? ARCHIVE_AFTER_MS);
    const results = await this.fs.resultsIndex();
    const days = new Set<string>();
    let moved = 0;
    for (const node of await this.fs.nodeDirs("done")) {
      for (const name of await this.fs.listIn(this.fs.dir("done", node))) {
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
    for (const day of await this.fs.listIn(this.fs.dir("archive"))) {
      if (days.has(day) || (await this.archiveSummaryIsStale(day))) await this.writeArchiveSummary(day);
    }
    return moved ? [`archived ${count(moved, "task")} that finished over a day ago (archive/<day>/)`] : [];
  }

  /** When a finished task finished: its newest result's finishedAt, else when it reached done/. */
  async finishedAt(node: string, id: string, entries: ResultEntry[]): Promise<number | undefined> {
    const newest = entries.reduce<ResultEntry | undefined>(
      (a, b) => (!a || b.attempt > a.attempt ? b : a),
      undefined,
    );
    if (newest) {
      const read = await this.fs.read(this.fs.dir("results", newest.name), TaskResult);
      if (read.kind === "ok") return Date.parse(read.value.finishedAt);
    } else {
      // An earlier pass may have moved the results already (cut short before the request).
      const request = await this.fs.read(this.fs.requestPath("done", node, id), TaskRequest);
      if (request.kind === "ok") {
        for (const status of ["completed", "failed", "cancelled"] as const) {
          const name = this.fs.resultName(id, request.value.attempt, status);
          const read = await this.fs.read(this.fs.archiveDir(id, "results", name), TaskResult);
          if (read.kind === "ok") return Date.parse(read.value.finishedAt);
        }
      }
    }
    const done = this.fs.requestPath("done", node, id);
    const st = lstatSync(done, { throwIfNoEntry: false });
    return st ? this.fs.changedAt(done, st) : undefined;
  }

  /**
   * Index entry first (once it has left index/, recover() can never republish the task),
   * then the results, the cancel marker, and the request last. A crash halfway leaves the
   * task in done/ with its results partly moved: readers look in the archive too, and the
   * next pass finishes the move.
   */
  async archiveOne(node: string, id: string, entries: ResultEntry[]): Promise<boolean> {
    const moveIfThere = (from: string, to: string) => {
      if (this.fs.isFile(from)) this.fs.renameInto(from, to);
    };
    moveIfThere(this.fs.dir("index", `${id}.json`), this.fs.archiveDir(id, "index", `${id}.json`));
    for (const entry of entries)
      moveIfThere(this.fs.dir("results", entry.name), this.fs.archiveDir(id, "results", entry.name));
    moveIfThere(this.fs.dir("cancel", id), this.fs.archiveDir(id, "cancel", id));
    // A retry may have taken the task meanwhile: then it is simply not archived (its old results are).
    return this.fs.renameInto(
      this.fs.requestPath("done", node, id),
      this.fs.archiveDir(id, "tasks", node, `${id}.json`),
    );
  }

  async archiveSummaryIsStale(day: string): Promise<boolean> {
    if (!ARCHIVE_DAY.test(day)) return false;
    const summary = lstatSync(this.fs.dir("archive", day, "summary.json"), { throwIfNoEntry: false });
    if (!summary) return true;
    // Adding or removing an entry moves a directory's mtime: results/ and each tasks/<node>/.
    const dirs = [join("archive", day, "results"), join("archive", day, "tasks")];
    for (const node of await this.fs.listIn(this.fs.dir("archive", day, "tasks")))
      dirs.push(join("archive", day, "tasks", node));
    return dirs.some(
      (d) => (lstatSync(this.fs.dir(d), { throwIfNoEntry: false })?.mtimeMs ?? 0) > summary.mtimeMs,
    );
  }

  /** Outcome counts of one archived day, from file names alone. */
  async countArchivedDay(day: string): Promise<ArchiveSummary> {
    const base = this.fs.dir("archive", day);
    const outcomes = new Map<string, ResultEntry>();
    for (const name of await this.fs.listIn(join(base, "results"))) {
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
    for (const node of (await this.fs.listIn(join(base, "tasks"))).filter((n) => isValidNodeId(n))) {
      for (const name of await this.fs.listIn(join(base, "tasks", node))) {
        const id = pendingIdOf(name);
        if (id) counts[outcomes.get(id)?.status ?? "failed"]++;
      }
    }
    return { schema: "clawos.archive/1", day, counts };
  }

  async writeArchiveSummary(day: string): Promise<void> {
    const summary = await this.countArchivedDay(day);
    await this.fs.writeAtomic(this.fs.dir("archive", day, "summary.json"), JSON.stringify(summary));
  }

  /**
   * Counts of everything archived, from each day's summary (a fresh count where it is missing).
   * list() runs on every refresh of the control center, so each day is read again only when
   * its directory changed: every summary is written by a rename into it. The coordinator's pass
   * and retry() keep the summaries current; archiveFinished() repairs one a crash left stale.
   */
  async archivedCounts(): Promise<ArchiveSummary["counts"]> {
    const total = { completed: 0, failed: 0, cancelled: 0 };
    for (const day of await this.fs.listIn(this.fs.dir("archive"))) {
      if (!ARCHIVE_DAY.test(day)) continue;
      const dayDir = lstatSync(this.fs.dir("archive", day), { throwIfNoEntry: false });
      if (!dayDir?.isDirectory()) continue;
      const dirMtimeMs = dayDir.mtimeMs;
      const cached = this.archivedDays.get(day);
      let counts = cached?.dirMtimeMs === dirMtimeMs ? cached.counts : undefined;
      if (!counts) {
        const read = await this.fs.read(this.fs.dir("archive", day, "summary.json"), ArchiveSummary);
        counts = read.kind === "ok" ? read.value.counts : (await this.countArchivedDay(day)).counts;
        this.archivedDays.set(day, { dirMtimeMs, counts });
      }
      total.completed += counts.completed;
      total.failed += counts.failed;
      total.cancelled += counts.cancelled;
    }
    return total;
  }

  /** Every archived task's id: archive/<day>/tasks/<node>/<id>.json. */
  async archivedIds(): Promise<string[]> {
    const ids: string[] = [];
    for (const day of (await this.fs.listIn(this.fs.dir("archive"))).filter((d) => ARCHIVE_DAY.test(d))) {
      const tasks = this.fs.dir("archive", day, "tasks");
      for (const node of (await this.fs.listIn(tasks)).filter((n) => isValidNodeId(n)))
        for (const name of await this.fs.listIn(join(tasks, node))) {
          const id = name.endsWith(".json") ? name.slice(0, -5) : "";
          if (isValidTaskId(id)) ids.push(id);
        }
    }
    return ids;
  }

  /** An archived task's request, if `id` was archived. */
  async findArchived(id: string): Promise<{ node: string; path: string; request: TaskRequest } | undefined> {
    for (const node of (await this.fs.listIn(this.fs.archiveDir(id, "tasks"))).filter((n) =>
      isValidNodeId(n),
    )) {
      const path = this.fs.archiveDir(id, "tasks", node, `${id}.json`);
      const r = await this.fs.read(path, TaskRequest);
      if (r.kind === "ok" && !misplaced(r.value, id, node)) return { node, path, request: r.value };
    }
    return undefined;
  }
}
