import { randomBytes } from "node:crypto";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isErrnoException, UserError } from "./errors.js";

/** A unique temp name beside (or in `tmpDir`) so the final rename stays on one filesystem. */
export function tempPathFor(path: string, tmpDir?: string): string {
  const name = `${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  return join(tmpDir ?? dirname(path), name);
}

/** Write to a temp file, fsync, return its path. The caller renames or links it into place. */
export async function writeTemp(
  path: string,
  data: string,
  options: { mode?: number; tmpDir?: string } = {},
) {
  const tmp = tempPathFor(path, options.tmpDir);
  const handle = await open(tmp, "wx", options.mode ?? 0o644);
  try {
    await handle.writeFile(data, "utf8");
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw diskError(error, path);
  }
  await handle.close();
  return tmp;
}

/** Readers never see a half-written file: write temp → fsync → rename. */
export async function writeFileAtomic(
  path: string,
  data: string,
  options: { mode?: number; tmpDir?: string } = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = await writeTemp(path, data, options);
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw diskError(error, path);
  }
}

/** ENOSPC and friends become a message a person can act on; nothing half-written is left behind. */
export function diskError(error: unknown, path: string): unknown {
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
  if (isErrnoException(error, "EROFS")) {
    return new UserError(`${dirname(path)} is on a read-only filesystem.`, {
      code: "read_only",
      cause: error,
    });
  }
  return error;
}
