/**
 * The soak's verdict, computed from the blackboard directory itself (and checked
 * against `clawos tasks list --json`): which dispatched tasks completed, failed with a
 * reason, were lost, or ended up with more than one outcome.
 *
 * It reads the files the directory driver writes (see the layout at the top of
 * source/core/blackboard/directory.ts) without going through the driver, so a bug in
 * the driver's own reading cannot hide a bug in its writing.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export interface DispatchedTask {
  id: string;
  target: string;
  priority: string;
  text: string;
  /** Where the dispatcher was told it went. */
  routedTo: string;
  dispatchedAtMs: number;
}

/** One row of `clawos tasks list --json`. */
export interface ListedTask {
  id: string;
  state: string;
  node: string;
  attempt: number;
  error?: { kind: string; message: string };
}

export type Area = "requests" | "claimed" | "done" | "reaping";
const AREAS: Area[] = ["requests", "claimed", "done", "reaping"];
const FINAL = new Set(["completed", "failed", "cancelled"]);

interface Location {
  area: Area;
  node: string;
  name: string;
}

interface ResultFile {
  attempt: number;
  status: string;
  name: string;
  text?: string;
  error?: { kind?: string; message?: string };
  finishedAt?: string;
}

export interface Problem {
  id: string;
  why: string;
}

export interface Audit {
  dispatched: number;
  completed: number;
  failedWithReason: number;
  failedWithoutReason: number;
  cancelled: number;
  lost: number;
  duplicated: number;
  lostTasks: Problem[];
  duplicatedTasks: Problem[];
  /** Completed, but the reply is not the one the gateway gives for that prompt (crossed results). */
  wrongReplies: Problem[];
  /** The files and `clawos tasks list` disagree (state, node or attempt). */
  inconsistencies: Problem[];
  /** Ids on the blackboard (index/) that no dispatcher was given and that are not the soak's junk. */
  orphans: Problem[];
  failureReasons: Record<string, number>;
  attempts: Record<string, number>;
  byPriority: Record<string, { dispatched: number; completed: number; failed: number }>;
  byTarget: Record<string, { dispatched: number; completed: number; failed: number }>;
  /** createdAt → the result's finishedAt, for completed tasks. */
  endToEndMs: number[];
  /** What is left in the working areas once everything settled (should be all zero). */
  leftovers: Record<Area, number>;
  quarantined: number;
  listCounts?: Record<string, number>;
}

/** `claimed/<node>/<id>.<claim>.json`, `reaping/<node>/<id>.<intent>.json`, `<area>/<node>/<id>.json` → id. */
function idOf(area: Area, name: string): string | undefined {
  if (name.startsWith(".") || name.endsWith(".tmp")) return undefined;
  const m =
    area === "requests" || area === "done" ? /^(req_[^.]+)\.json$/.exec(name) : /^(req_[^.]+)\./.exec(name);
  return m?.[1];
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export async function auditBlackboard(
  root: string,
  dispatched: DispatchedTask[],
  listed: ListedTask[] | undefined,
  options: { junkPrefix: string; expectedReply: (text: string) => string },
): Promise<Audit> {
  const locations = new Map<string, Location[]>();
  const leftovers: Record<Area, number> = { requests: 0, claimed: 0, done: 0, reaping: 0 };
  for (const area of AREAS) {
    for (const node of await list(join(root, area))) {
      for (const name of await list(join(root, area, node))) {
        const id = idOf(area, name);
        if (!id) continue;
        if (area !== "done" && !id.startsWith(options.junkPrefix)) leftovers[area]++;
        const at = locations.get(id) ?? [];
        at.push({ area, node, name });
        locations.set(id, at);
      }
    }
  }

  const results = new Map<string, ResultFile[]>();
  for (const name of await list(join(root, "results"))) {
    const m = /^(.+)\.a(\d+)\.(completed|failed|cancelled)\.json$/.exec(name);
    if (!m) continue;
    const body = await readJson(join(root, "results", name));
    const entry: ResultFile = {
      attempt: Number(m[2]),
      status: m[3]!,
      name,
      ...(typeof body?.text === "string" ? { text: body.text } : {}),
      ...(body?.error && typeof body.error === "object"
        ? { error: body.error as ResultFile["error"] & object }
        : {}),
      ...(typeof body?.finishedAt === "string" ? { finishedAt: body.finishedAt } : {}),
    };
    const all = results.get(m[1]!) ?? [];
    all.push(entry);
    results.set(m[1]!, all);
  }

  const listedById = new Map<string, ListedTask[]>();
  for (const t of listed ?? []) {
    const all = listedById.get(t.id) ?? [];
    all.push(t);
    listedById.set(t.id, all);
  }

  const audit: Audit = {
    dispatched: dispatched.length,
    completed: 0,
    failedWithReason: 0,
    failedWithoutReason: 0,
    cancelled: 0,
    lost: 0,
    duplicated: 0,
    lostTasks: [],
    duplicatedTasks: [],
    wrongReplies: [],
    inconsistencies: [],
    orphans: [],
    failureReasons: {},
    attempts: {},
    byPriority: {},
    byTarget: {},
    endToEndMs: [],
    leftovers,
    quarantined: (await list(join(root, "quarantine"))).filter((n) => !n.endsWith(".reason")).length,
  };
  const lost = (id: string, why: string) => audit.lostTasks.push({ id, why });
  const duplicated = (id: string, why: string) => audit.duplicatedTasks.push({ id, why });

  const seen = new Map<string, number>();
  for (const task of dispatched) seen.set(task.id, (seen.get(task.id) ?? 0) + 1);
  for (const [id, n] of seen) if (n > 1) duplicated(id, `the dispatcher was given this id ${n} times`);

  const unique = [...new Map(dispatched.map((t) => [t.id, t] as const)).values()];
  for (const task of unique) {
    const bucket = (map: Audit["byPriority"], key: string) => {
      map[key] ??= { dispatched: 0, completed: 0, failed: 0 };
      return map[key]!;
    };
    const byPriority = bucket(audit.byPriority, task.priority);
    const byTarget = bucket(audit.byTarget, task.target === "any" ? "any" : "explicit");
    byPriority.dispatched++;
    byTarget.dispatched++;

    const at = locations.get(task.id) ?? [];
    const outcomes = results.get(task.id) ?? [];
    const completedFiles = outcomes.filter((r) => r.status === "completed");
    let isDuplicate = false;
    if (at.length > 1) {
      duplicated(task.id, `lies in ${at.length} places: ${at.map((l) => `${l.area}/${l.node}`).join(", ")}`);
      isDuplicate = true;
    }
    if (completedFiles.length > 1) {
      duplicated(
        task.id,
        `${completedFiles.length} completed results: ${completedFiles.map((r) => r.name).join(", ")}`,
      );
      isDuplicate = true;
    } else if (outcomes.length > 1) {
      duplicated(task.id, `${outcomes.length} final outcomes: ${outcomes.map((r) => r.name).join(", ")}`);
      isDuplicate = true;
    }
    const inList = listedById.get(task.id) ?? [];
    if (listed && inList.length > 1) {
      duplicated(task.id, `listed ${inList.length} times by clawos tasks list`);
      isDuplicate = true;
    }
    if (isDuplicate) continue;

    if (at.length === 0) {
      lost(task.id, "not on the blackboard (no request, claimed, done or reaping file)");
      continue;
    }
    const where = at[0]!;
    if (where.area !== "done") {
      lost(task.id, `not final: still in ${where.area}/${where.node}`);
      continue;
    }
    const outcome = outcomes[0];
    if (!outcome) {
      lost(task.id, `done/${where.node} but no result file: its outcome is lost`);
      continue;
    }
    const doneRecord = await readJson(join(root, "done", where.node, where.name));
    const doneAttempt = typeof doneRecord?.attempt === "number" ? doneRecord.attempt : undefined;
    if (doneAttempt !== outcome.attempt) {
      audit.inconsistencies.push({
        id: task.id,
        why: `done file says attempt ${doneAttempt}, result file is for attempt ${outcome.attempt}`,
      });
    }
    if (listed) {
      const row = inList[0];
      if (!row) lost(task.id, "final on disk but missing from clawos tasks list");
      else if (row.state !== outcome.status || row.node !== where.node)
        audit.inconsistencies.push({
          id: task.id,
          why: `files say ${outcome.status} on ${where.node}, clawos tasks list says ${row.state} on ${row.node}`,
        });
      if (row && !FINAL.has(row.state)) lost(task.id, `clawos tasks list says ${row.state}`);
    }
    audit.attempts[String(outcome.attempt)] = (audit.attempts[String(outcome.attempt)] ?? 0) + 1;
    if (outcome.status === "completed") {
      audit.completed++;
      byPriority.completed++;
      byTarget.completed++;
      if (outcome.text !== options.expectedReply(task.text))
        audit.wrongReplies.push({
          id: task.id,
          why: `reply ${JSON.stringify(outcome.text?.slice(0, 80))} for ${JSON.stringify(task.text.slice(0, 60))}`,
        });
      const created =
        typeof doneRecord?.createdAt === "string" ? Date.parse(doneRecord.createdAt) : Number.NaN;
      const finished = outcome.finishedAt ? Date.parse(outcome.finishedAt) : Number.NaN;
      if (Number.isFinite(created) && Number.isFinite(finished)) audit.endToEndMs.push(finished - created);
    } else if (outcome.status === "failed") {
      byPriority.failed++;
      byTarget.failed++;
      const message = outcome.error?.message;
      if (message && outcome.error?.kind !== "result_missing") {
        audit.failedWithReason++;
        const key = `${outcome.error?.kind ?? "?"}: ${message.replace(/req_\w+/g, "<id>").slice(0, 120)}`;
        audit.failureReasons[key] = (audit.failureReasons[key] ?? 0) + 1;
      } else {
        audit.failedWithoutReason++;
      }
    } else {
      audit.cancelled++;
    }
  }

  const dispatchedIds = new Set(dispatched.map((t) => t.id));
  for (const name of await list(join(root, "index"))) {
    const id = /^(req_[^.]+)\.json$/.exec(name)?.[1];
    if (!id || dispatchedIds.has(id) || id.startsWith(options.junkPrefix)) continue;
    const at = locations.get(id) ?? [];
    const outcome = results.get(id)?.[0];
    audit.orphans.push({
      id,
      why: `no dispatcher got this id; it is ${at.map((l) => `${l.area}/${l.node}`).join(", ") || "nowhere"}${outcome ? ` (${outcome.status})` : ""}`,
    });
  }
  audit.lost = audit.lostTasks.length;
  audit.duplicated = new Set(audit.duplicatedTasks.map((p) => p.id)).size;
  return audit;
}
