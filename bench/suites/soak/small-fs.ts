/**
 * The blackboard's own small filesystem, so that "disk full" is a real ENOSPC: a loop-mounted
 * ext4 image or a tmpfs (both need root), and the writer that fills it to the last block.
 */
import { execFile } from "node:child_process";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { errnoCode, FS_KIND, FS_SIZE_MB } from "./plan.js";

const run = promisify(execFile);

export interface SmallFs {
  kind: "ext4" | "tmpfs" | "none";
  dir: string;
  note: string;
  unmount(): Promise<void>;
}

export async function mountSmallFs(root: string): Promise<SmallFs> {
  const dir = join(root, "bbfs");
  await mkdir(dir, { recursive: true });
  const tried: string[] = [];
  const kinds = FS_KIND === "auto" ? (["ext4", "tmpfs"] as const) : FS_KIND === "none" ? [] : [FS_KIND];
  for (const kind of kinds) {
    try {
      if (kind === "ext4") {
        const image = join(root, "blackboard.ext4");
        const fh = await open(image, "w");
        await fh.truncate(FS_SIZE_MB * 2 ** 20);
        await fh.close();
        // -m 0: no blocks reserved for root, so "full" means full whoever writes.
        await run("mkfs.ext4", ["-q", "-F", "-m", "0", image]);
        await run("mount", ["-o", "loop", image, dir]);
        return {
          kind,
          dir,
          note: `${FS_SIZE_MB} MiB ext4 image, loop-mounted`,
          unmount: async () => {
            await unmountDir(dir);
            await rm(image, { force: true });
          },
        };
      }
      if (kind === "tmpfs") {
        await run("mount", ["-t", "tmpfs", "-o", `size=${FS_SIZE_MB}m,mode=0755`, "tmpfs", dir]);
        return { kind, dir, note: `${FS_SIZE_MB} MiB tmpfs`, unmount: () => unmountDir(dir) };
      }
    } catch (error) {
      tried.push(`${kind}: ${String((error as { stderr?: string }).stderr || error).trim()}`);
    }
  }
  return {
    kind: "none",
    dir,
    note:
      FS_KIND === "none"
        ? "no small filesystem (--fs none): disk-full episodes skipped"
        : `could not mount a small filesystem (${tried.join("; ")}): disk-full episodes skipped`,
    unmount: async () => {},
  };
}

async function unmountDir(dir: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    try {
      await run("umount", [dir]);
      return;
    } catch {
      await sleep(500);
    }
  }
  await run("umount", ["-l", dir]).catch(() => {});
}

/** Write until the filesystem says ENOSPC; returns the bytes written. */
export async function writeUntilFull(path: string, chunkBytes: number): Promise<number> {
  const fh = await open(path, "a");
  const buf = Buffer.alloc(chunkBytes, 0x5a);
  let total = 0;
  try {
    for (;;) {
      try {
        const { bytesWritten } = await fh.write(buf);
        total += bytesWritten;
        if (bytesWritten === 0) break;
      } catch (error) {
        if (errnoCode(error) === "ENOSPC") break;
        throw error;
      }
    }
    await fh.sync().catch(() => {});
  } finally {
    await fh.close();
  }
  return total;
}
