import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import type { z } from "zod";
import { isErrnoException } from "../../domain/errors.js";
import { MAX_RECORD_BYTES } from "../../domain/schema.js";
import { describeRecordIssue } from "../record-issue.js";
import { entryAt, O_NOFOLLOW } from "./safe-fs.js";

export type ReadOutcome<T> =
  /** ctimeMs: when this machine last changed the file (no writer can set it, unlike mtime). */
  | { kind: "ok"; value: T; mtimeMs: number; ctimeMs: number; ino: number }
  | { kind: "missing" }
  /** Possibly still being written by a foreign, non-atomic writer: look again later. */
  | { kind: "young"; reason: string }
  | { kind: "malformed"; reason: string }
  /** Not a regular file (a link, a FIFO, …): reported and left alone, never moved. */
  | { kind: "foreign"; reason: string }
  /** No permission to read it: reported; the coordinator can still move it aside. */
  | { kind: "unreadable"; reason: string };

/** A file this young that fails to parse may be a half-written copy: skip it for now, do not quarantine it. */
const HALF_WRITTEN_GRACE_MS = 2_000;
/**
 * A copy stamped in the future (its writer's clock is ahead) is given longer, counted from when it
 * arrived here (its ctime, this machine's own stamp): a planted future mtime must not keep it young for ever.
 */
const FUTURE_STAMPED_GRACE_MS = 30_000;

function stillArriving(stat: { mtimeMs: number; ctimeMs: number }, now: number): boolean {
  if (now - stat.mtimeMs < HALF_WRITTEN_GRACE_MS && stat.mtimeMs <= now) return true;
  return stat.mtimeMs > now && now - stat.ctimeMs < FUTURE_STAMPED_GRACE_MS;
}

/**
 * Read and validate one record. Never throws for bad content: says what is wrong instead.
 *
 * Synchronous inside on purpose: a record is at most 1 MB and usually 1 KB, read in
 * microseconds, while four trips through libuv's thread pool (open, stat, read, close)
 * cost ~15× more CPU (BENCHMARKS.md). The signature stays async for the callers.
 */
export async function readRecord<T>(
  path: string,
  schema: z.ZodType<T>,
  now = Date.now(),
): Promise<ReadOutcome<T>> {
  return readRecordNow(path, schema, now);
}

export function readRecordNow<T>(path: string, schema: z.ZodType<T>, now = Date.now()): ReadOutcome<T> {
  // lstat first: a FIFO or a device is never opened, a link never followed.
  const entry = entryAt(path);
  if (entry.kind === "missing") return { kind: "missing" };
  if (entry.kind === "foreign") return { kind: "foreign", reason: `is ${entry.what}, not a regular file` };
  let fd: number;
  try {
    // O_NOFOLLOW and O_NONBLOCK: whatever replaced the file since the lstat is neither followed nor waited on.
    fd = openSync(path, constants.O_RDONLY | O_NOFOLLOW | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if (isErrnoException(error, "ENOENT") || isErrnoException(error, "ENOTDIR")) return { kind: "missing" };
    if (isErrnoException(error, "ELOOP") || isErrnoException(error, "EISDIR"))
      return { kind: "foreign", reason: "is not a regular file" };
    if (isErrnoException(error, "EACCES") || isErrnoException(error, "EPERM"))
      return { kind: "unreadable", reason: UNREADABLE };
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { kind: "foreign", reason: "is not a regular file" };
    if (stat.size > MAX_RECORD_BYTES) {
      return { kind: "malformed", reason: `is ${stat.size} bytes, over the ${MAX_RECORD_BYTES}-byte limit` };
    }
    // Never more than the limit, even from a file that grows while it is read.
    const buffer = Buffer.alloc(Math.min(stat.size, MAX_RECORD_BYTES) + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n)
      n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_RECORD_BYTES)
      return { kind: "malformed", reason: `is over the ${MAX_RECORD_BYTES}-byte limit` };
    let data: unknown;
    try {
      data = JSON.parse(buffer.toString("utf8", 0, length));
    } catch {
      // Not the parser's message: it quotes the file, and reasons reach terminals, logs and quarantine/.
      const reason = "is not valid JSON";
      return stillArriving(stat, now) ? { kind: "young", reason } : { kind: "malformed", reason };
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) return { kind: "malformed", reason: describeRecordIssue(parsed.error) };
    return { kind: "ok", value: parsed.data, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino };
  } catch (error) {
    if (
      isErrnoException(error, "EACCES") ||
      isErrnoException(error, "EPERM") ||
      isErrnoException(error, "EIO")
    )
      return { kind: "unreadable", reason: UNREADABLE };
    throw error;
  } finally {
    closeSync(fd);
  }
}

const UNREADABLE = "cannot be read (no permission): check its owner and mode, or remove it";

/** Files written by sync tools or editors, and our own temp files: never parsed. */
export function isSyncArtifact(name: string): boolean {
  return (
    name.startsWith(".") ||
    name.endsWith(".tmp") ||
    name.includes("sync-conflict") ||
    name.endsWith(".icloud") ||
    name.endsWith("~") ||
    name.endsWith(".swp") ||
    name.endsWith(".part")
  );
}

/** Names in a directory ([] if it does not exist). Synchronous inside for the reason readRecord gives. */
export async function listDir(path: string): Promise<string[]> {
  return listDirNow(path);
}

export function listDirNow(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (error) {
    if (isErrnoException(error, "ENOENT") || isErrnoException(error, "ENOTDIR")) return [];
    throw error;
  }
}
