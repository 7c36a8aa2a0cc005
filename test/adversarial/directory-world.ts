/**
 * A directory blackboard in a throwaway folder, for the adversarial tests: the coordinator's
 * handle (it quarantines, as `clawos node run` opens it) and folders outside it to plant links to.
 */
import { lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";

export interface Board {
  root: string;
  /** The coordinator's handle (quarantine on). */
  bb: DirectoryBlackboard;
  /** Directories outside the blackboard made by outsideDir(), removed by cleanup(). */
  outside: string[];
}

export async function withBoard(
  options: { clock?: () => number },
  body: (board: Board) => Promise<void>,
): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "clawos-adv-bb-"));
  const bb = new DirectoryBlackboard(root, { quarantine: true, machine: "hub", ...options });
  const board: Board = { root, bb, outside: [] };
  try {
    await bb.init();
    await body(board);
  } finally {
    await bb.close();
    await rm(root, { recursive: true, force: true });
    for (const dir of board.outside) await rm(dir, { recursive: true, force: true });
  }
}

/** One round of the coordinator's duties, as `clawos node run` does them; returns what it would log. */
export async function coordinate(bb: DirectoryBlackboard, leaseMs = 60_000): Promise<string[]> {
  const duties = bb.coordinator();
  const log: string[] = [];
  for (const e of await duties.reapExpired(leaseMs)) log.push(`lease of ${e.id} expired → ${e.outcome}`);
  for (const moved of await duties.quarantineMalformed()) log.push(`quarantined ${moved}`);
  log.push(...(await duties.recover()));
  return log;
}

/** A directory outside the blackboard (a stand-in for ~/.ssh) holding `files`. */
export async function outsideDir(board: Board, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "clawos-victim-"));
  board.outside.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text, { mode: 0o600 });
  return dir;
}

/** Every entry under `dir` with its type, mode, mtime and bytes: equal snapshots mean nothing was touched. */
export async function snapshot(dir: string): Promise<string> {
  const out: string[] = [];
  const walk = async (at: string, rel: string) => {
    for (const name of (await readdir(at)).sort()) {
      const path = join(at, name);
      const st = await lstat(path);
      const head = `${rel}${name} ${st.mode.toString(8)} ${st.mtimeMs}`;
      if (st.isDirectory()) {
        out.push(`${head}/`);
        await walk(path, `${rel}${name}/`);
      } else if (st.isSymbolicLink()) out.push(`${head} -> ${await readlink(path)}`);
      else out.push(`${head} ${(await readFile(path)).toString("base64")}`);
    }
  };
  await walk(dir, "");
  return out.join("\n");
}
