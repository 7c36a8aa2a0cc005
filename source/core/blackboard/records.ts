import { constants } from "node:fs";
import { open, readdir } from "node:fs/promises";
import type { z } from "zod";
import { isErrnoException } from "../errors.js";
import { describeZodError, MAX_RECORD_BYTES } from "../schema.js";

export type ReadOutcome<T> =
  | { kind: "ok"; value: T; mtimeMs: number }
  | { kind: "missing" }
  /** Possibly still being written by a foreign, non-atomic writer: look again later. */
  | { kind: "young"; reason: string }
  | { kind: "malformed"; reason: string };

/** A file this young that fails to parse may be a half-written copy: skip it for now, do not quarantine it. */
const HALF_WRITTEN_GRACE_MS = 2_000;

/** Read and validate one record. Never throws for bad content: says what is wrong instead. */
export async function readRecord<T>(
  path: string,
  schema: z.ZodType<T>,
  now = Date.now(),
): Promise<ReadOutcome<T>> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NONBLOCK: a FIFO dropped where a record should be must not hang the reader (no effect on files).
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if (isErrnoException(error, "ENOENT")) return { kind: "missing" };
    if (isErrnoException(error, "EISDIR")) return { kind: "malformed", reason: "is a directory, not a file" };
    throw error;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { kind: "malformed", reason: "is not a regular file" };
    if (stat.size > MAX_RECORD_BYTES) {
      return { kind: "malformed", reason: `is ${stat.size} bytes, over the ${MAX_RECORD_BYTES}-byte limit` };
    }
    const text = await handle.readFile("utf8");
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
    return { kind: "ok", value: parsed.data, mtimeMs: stat.mtimeMs };
  } finally {
    await handle.close();
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

export async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if (isErrnoException(error, "ENOENT")) return [];
    throw error;
  }
}
