import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync } from "node:fs";
import type { z } from "zod";
import { isErrnoException } from "../errors.js";
import { describeZodError, MAX_RECORD_BYTES } from "../schema.js";

export type ReadOutcome<T> =
  | { kind: "ok"; value: T; mtimeMs: number; ino: number }
  | { kind: "missing" }
  /** Possibly still being written by a foreign, non-atomic writer: look again later. */
  | { kind: "young"; reason: string }
  | { kind: "malformed"; reason: string };

/** A file this young that fails to parse may be a half-written copy: skip it for now, do not quarantine it. */
const HALF_WRITTEN_GRACE_MS = 2_000;

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
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO dropped where a record should be must not hang the reader (no effect on files).
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if (isErrnoException(error, "ENOENT") || isErrnoException(error, "ENOTDIR")) return { kind: "missing" };
    if (isErrnoException(error, "EISDIR")) return { kind: "malformed", reason: "is a directory, not a file" };
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { kind: "malformed", reason: "is not a regular file" };
    if (stat.size > MAX_RECORD_BYTES) {
      return { kind: "malformed", reason: `is ${stat.size} bytes, over the ${MAX_RECORD_BYTES}-byte limit` };
    }
    const text = readFileSync(fd, "utf8");
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      const reason = `is not valid JSON (${(error as Error).message})`;
      return now - stat.mtimeMs < HALF_WRITTEN_GRACE_MS
        ? { kind: "young", reason }
        : { kind: "malformed", reason };
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const { field, problem } = describeZodError(parsed.error);
      return { kind: "malformed", reason: `field "${field}" ${problem}` };
    }
    return { kind: "ok", value: parsed.data, mtimeMs: stat.mtimeMs, ino: stat.ino };
  } finally {
    closeSync(fd);
  }
}

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
