import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, open, readdir, rm, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import { count } from "../domain/plural.js";
import { blackboardDir, type LoadedConfig } from "../infra/config.js";
import { displayPath } from "../infra/paths.js";
import type { AddCheck } from "./doctor.js";

const LOW_SPACE_BYTES = 200 * 1024 * 1024;

/** A directory blackboard: writable, space, quarantine, stale leases. */
export async function checkDirectoryBlackboard(
  loaded: LoadedConfig,
  env: NodeJS.ProcessEnv,
  add: AddCheck,
): Promise<void> {
  const dir = blackboardDir(loaded, env);
  await checkWritable(dir, env, add);
  await checkFreeSpace(dir, add);
  await checkQuarantine(dir, env, add);
  await checkStaleLeases(dir, loaded.config.timing.leaseMs, add);
}

async function checkWritable(dir: string, env: NodeJS.ProcessEnv, add: AddCheck): Promise<void> {
  // An unpredictable name, created new and never through a link: a file planted in tmp/ cannot redirect it.
  const probe = join(dir, "tmp", `.doctor-${process.pid}-${randomBytes(8).toString("hex")}`);
  try {
    const tmp = await lstat(join(dir, "tmp")).catch(() => undefined);
    if (tmp && !tmp.isDirectory())
      throw new Error("its tmp/ is not a directory (a link planted there is not followed)");
    const file = await open(
      probe,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0),
      0o600,
    );
    try {
      await file.writeFile("x");
    } finally {
      await file.close();
    }
    add({ area: "blackboard", level: "ok", message: `${displayPath(dir, env)} is writable` });
  } catch (error) {
    add({
      area: "blackboard",
      level: "fail",
      message: `cannot write in ${displayPath(dir, env)}: ${(error as Error).message}`,
      fix: "check the directory's owner and mode, or run clawos init",
    });
  } finally {
    await rm(probe, { force: true }).catch(() => {}); // a write cut short by a full disk leaves the file
  }
}

async function checkFreeSpace(dir: string, add: AddCheck): Promise<void> {
  try {
    const fs = await statfs(dir);
    const free = fs.bavail * fs.bsize;
    const mb = Math.round(free / 1024 / 1024);
    if (free < LOW_SPACE_BYTES) {
      add({
        area: "blackboard",
        level: free < 10 * 1024 * 1024 ? "fail" : "warn",
        message: `only ${mb} MB free on the blackboard's disk`,
        fix: "free some space there; tasks cannot be written on a full disk",
      });
    } else add({ area: "blackboard", level: "ok", message: `${mb} MB free` });
  } catch {
    // statfs unsupported: nothing to say
  }
}

async function checkQuarantine(dir: string, env: NodeJS.ProcessEnv, add: AddCheck): Promise<void> {
  const quarantined = (await readdir(join(dir, "quarantine")).catch(() => [] as string[])).filter(
    (n) => !n.endsWith(".reason"),
  );
  if (quarantined.length) {
    add({
      area: "blackboard",
      level: "warn",
      message: `${count(quarantined.length, "malformed file")} ${quarantined.length === 1 ? "was" : "were"} set aside in ${displayPath(join(dir, "quarantine"), env)}`,
      fix: "read the .reason file next to each; delete them when understood",
    });
  }
}

/** Claims whose lease has not been renewed for two lease periods. */
async function checkStaleLeases(dir: string, leaseMs: number, add: AddCheck): Promise<void> {
  let stale = 0;
  for (const node of await readdir(join(dir, "claimed")).catch(() => [] as string[])) {
    for (const name of await readdir(join(dir, "claimed", node)).catch(() => [] as string[])) {
      const s = await stat(join(dir, "claimed", node, name)).catch(() => undefined);
      if (s && Date.now() - s.mtimeMs > leaseMs * 2) stale++;
    }
  }
  if (stale) {
    add({
      area: "blackboard",
      level: "fail",
      message: `${count(stale, "claimed task")} ${stale === 1 ? "has not renewed its" : "have not renewed their"} lease for over ${Math.round((leaseMs * 2) / 1000)} s`,
      fix: "run the hub's worker (clawos node run --coordinator): it hands them back to be run again",
    });
  }
}
