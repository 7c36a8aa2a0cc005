import {
  closeSync,
  constants,
  fdatasync,
  fsync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { isErrnoException, UserError } from "../domain/errors.js";
import { randomHex } from "./random-hex.js";

/** A unique temp name beside (or in `tmpDir`) so the final rename stays on one filesystem. */
export function tempPathFor(path: string, tmpDir?: string): string {
  const name = `${basename(path)}.${process.pid}.${randomHex(4)}.tmp`;
  return join(tmpDir ?? dirname(path), name);
}

const flush = (fd: number) =>
  new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));

export interface WriteOptions {
  mode?: number;
  tmpDir?: string;
  /**
   * false: skip the flush to disk. For records that are only a hint and are rewritten
   * soon anyway (a reply in progress): after a power cut they may read as empty, and
   * every reader treats an unreadable one as absent.
   */
  durable?: boolean;
}

/**
 * Write to a temp file, flush it to disk, return its path. The caller renames or links it into place.
 *
 * The small steps are synchronous on purpose: open, write and close of a few KB take
 * microseconds in the kernel, while each trip through libuv's thread pool costs 10–30×
 * that in CPU and, with several workers on two cores, a context switch (BENCHMARKS.md).
 * Only the flush, which can take milliseconds, goes to the thread pool.
 */
export async function writeTemp(path: string, data: string, options: WriteOptions = {}): Promise<string> {
  const tmp = tempPathFor(path, options.tmpDir);
  let fd: number;
  try {
    fd = openSync(tmp, "wx", options.mode ?? 0o644);
  } catch (error) {
    throw diskError(error, path);
  }
  try {
    writeAll(fd, Buffer.from(data, "utf8"));
    if (options.durable !== false) await flush(fd);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {}
    try {
      unlinkSync(tmp);
    } catch {}
    throw diskError(error, path);
  }
  closeSync(fd);
  return tmp;
}

/**
 * Flush a directory's entries to disk (a name just linked or renamed into it survives a power
 * cut). The directory is opened without following a link; the flush runs on the thread pool.
 */
export async function flushDir(dir: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    throw diskError(error, dir);
  }
  try {
    await new Promise<void>((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
  } catch (error) {
    throw diskError(error, dir);
  } finally {
    closeSync(fd);
  }
}

/**
 * write() may write less than asked without an error (a disk with only a few KB left): write
 * the rest until done; the call that cannot write anything throws (ENOSPC), so a short file is
 * never taken for a whole one.
 */
function writeAll(fd: number, bytes: Buffer): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Readers never see a half-written file: write temp → flush → rename. */
export async function writeFileAtomic(path: string, data: string, options: WriteOptions = {}): Promise<void> {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    throw diskError(error, path);
  }
  const tmp = await writeTemp(path, data, options);
  try {
    renameSync(tmp, path);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {}
    throw diskError(error, path);
  }
}

/** ENOSPC and friends become a message a person can act on; nothing half-written is left behind. */
export function diskError(error: unknown, path: string): unknown {
  if (error instanceof UserError) return error;
  if (isErrnoException(error, "ENOSPC") || isErrnoException(error, "EDQUOT")) {
    return new UserError(`The disk holding ${dirname(path)} is full; nothing was written.`, {
      hint: "free some space (clawos doctor shows the blackboard's free space) and try again",
      code: "disk_full",
      cause: error,
    });
  }
  if (isErrnoException(error, "EACCES") || isErrnoException(error, "EPERM")) {
    return new UserError(`No permission to write ${path}.`, {
      hint: "check the owner and mode of that directory",
      code: "permission",
      cause: error,
    });
  }
  if (isErrnoException(error, "ENOTDIR") || isErrnoException(error, "EISDIR")) {
    return new UserError(
      `Cannot write ${path}: a file stands where a directory should be, or the other way round.`,
      {
        hint: "check the blackboard path in federation.json (clawos doctor shows where it points)",
        code: "not_a_directory",
        cause: error,
      },
    );
  }
  if (isErrnoException(error, "EROFS")) {
    return new UserError(`${dirname(path)} is on a read-only filesystem.`, {
      code: "read_only",
      cause: error,
    });
  }
  return error;
}
