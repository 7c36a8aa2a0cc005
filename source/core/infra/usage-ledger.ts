import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
} from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { isValidNodeId } from "../domain/ids.js";
import type { TaskResult } from "../domain/schema.js";
import { type DayUsage, localDay, recentDays } from "../domain/usage.js";

/**
 * The tokens each node used, as this machine recorded them: `<home>/run/usage/<node>/<day>.jsonl`,
 * one line per completed turn, appended by whichever process here ran it (the worker, a
 * dispatcher on the localhost or SSH route). Appends of one short line do not interleave, so
 * several processes can record at once. A reader keeps what it parsed and reads only the bytes
 * added since, so a total costs the turns of the last 7 days once, then only the new ones: never
 * the whole history. The node's worker carries its tallies to the other machines in its heartbeat.
 */

/** Day files older than this are removed when a node starts a new day. */
const KEEP_DAYS = 31;

interface ParsedFile {
  /** Bytes parsed so far (up to the last complete line). */
  offset: number;
  /** Turns already counted: a line written twice counts once. */
  seen: Set<string>;
  /** Tallies by model ("" when the gateway named none). */
  byModel: Map<string, DayUsage>;
}

function usageDir(home: string): string {
  return join(home, "run", "usage");
}

/** Day files this process has appended to: their directory exists and they are not new. */
const appendedTo = new Set<string>();

/**
 * Record a completed turn's tokens; a result without usage (an older gateway) records nothing.
 * Synchronous inside: it runs on every dispatch's route after the answer, and one short append
 * costs microseconds in the kernel, while each trip through the thread pool (mkdir, stat,
 * append) costs a wake-up and, under load, a context switch.
 */
export async function recordUsage(home: string, result: TaskResult, now = new Date()): Promise<void> {
  if (!result.usage || result.status !== "completed" || !isValidNodeId(result.node)) return;
  const dir = join(usageDir(home), result.node);
  const day = localDay(now);
  const file = join(dir, `${day}.jsonl`);
  const line = JSON.stringify({
    id: result.id,
    attempt: result.attempt,
    ...(result.model ? { model: result.model.slice(0, 200) } : {}),
    prompt: result.usage.prompt,
    completion: result.usage.completion,
  });
  try {
    let isNew = false;
    const append = () => {
      if (!appendedTo.has(file)) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        isNew = !existsSync(file);
      }
      appendFileSync(file, `${line}\n`, { mode: 0o600 });
      appendedTo.add(file);
    };
    try {
      append();
    } catch (error) {
      // Its directory was removed since this process last appended: made again, once.
      if (!appendedTo.delete(file)) throw error;
      append();
    }
    if (isNew) await pruneOldDays(dir, now);
  } catch {
    // A tally lost to a full disk costs an undercount, never the task.
  }
}

async function pruneOldDays(dir: string, now: Date): Promise<void> {
  const keep = new Set(recentDays(now, KEEP_DAYS).map((d) => `${d}.jsonl`));
  for (const name of await readdir(dir)) {
    if (/^\d{4}-\d{2}-\d{2}\.jsonl$/.test(name) && !keep.has(name))
      await rm(join(dir, name), { force: true });
  }
}

/** What this reader has parsed, by file path (one cache per process is enough). */
const parsed = new Map<string, ParsedFile>();

/**
 * Every node's tallies for the last 7 days, as recorded on this machine. Synchronous inside:
 * every dispatch reads them before routing, mostly a listing and a stat or two, and a chain of
 * thread-pool trips (list, list, stat, open, stat, read, close) cost more than the reads.
 */
export async function readLocalUsage(home: string, now = new Date()): Promise<Map<string, DayUsage[]>> {
  const out = new Map<string, DayUsage[]>();
  let nodes: string[];
  try {
    nodes = readdirSync(usageDir(home));
  } catch {
    return out; // nothing recorded yet
  }
  const days = recentDays(now);
  const current = new Set(days.map((d) => `${d}.jsonl`));
  for (const path of parsed.keys()) if (!current.has(path.slice(-16))) parsed.delete(path); // days gone by
  for (const node of nodes.filter(isValidNodeId)) {
    const tallies: DayUsage[] = [];
    // Only the days that have a file: one listing, then a stat per day file (a read only when it grew).
    let names: Set<string>;
    try {
      names = new Set(readdirSync(join(usageDir(home), node)));
    } catch {
      names = new Set();
    }
    for (const day of days) {
      if (!names.has(`${day}.jsonl`)) continue;
      const file = readDayFile(join(usageDir(home), node, `${day}.jsonl`), day);
      if (file) tallies.push(...[...file.byModel.values()].map((t) => ({ ...t })));
    }
    out.set(node, tallies);
  }
  return out;
}

function readDayFile(path: string, day: string): ParsedFile | undefined {
  let fd: number | undefined;
  try {
    const known = parsed.get(path);
    if (known && statSync(path).size === known.offset) return known; // nothing new
    fd = openSync(path, "r");
    const { size } = fstatSync(fd);
    let file = parsed.get(path);
    if (!file || size < file.offset) {
      file = { offset: 0, seen: new Set(), byModel: new Map() };
      parsed.set(path, file);
    }
    if (size === file.offset) return file;
    const buffer = Buffer.alloc(size - file.offset);
    const bytesRead = readSync(fd, buffer, 0, buffer.length, file.offset);
    const text = buffer.subarray(0, bytesRead).toString("utf8");
    const end = text.lastIndexOf("\n");
    if (end < 0) return file; // a line still being written
    for (const line of text.slice(0, end).split("\n")) countLine(file, line, day);
    file.offset += Buffer.byteLength(text.slice(0, end + 1));
    return file;
  } catch {
    return parsed.get(path); // no file for that day, or it went away
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function countLine(file: ParsedFile, line: string, day: string): void {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return; // a torn line (a crash mid-write): skipped, the rest still counts
  }
  if (typeof entry !== "object" || entry === null) return;
  const { id, attempt, model, prompt, completion } = entry as Record<string, unknown>;
  if (!isCount(prompt) || !isCount(completion) || typeof id !== "string") return;
  const key = `${id}#${String(attempt)}`;
  if (file.seen.has(key)) return;
  file.seen.add(key);
  const name = typeof model === "string" ? model.slice(0, 200) : "";
  const had = file.byModel.get(name);
  if (had) {
    had.prompt += prompt;
    had.completion += completion;
    had.tasks += 1;
  } else file.byModel.set(name, { day, ...(name ? { model: name } : {}), prompt, completion, tasks: 1 });
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}
