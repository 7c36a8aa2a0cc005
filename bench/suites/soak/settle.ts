/**
 * After the chaos: wait until every dispatched task is final on the board, nothing is left in
 * reaping/, and every malformed file has been quarantined, or until --settle runs out.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { DispatchedTask, ListedTask } from "./audit.js";
import { exists } from "./chaos.js";
import { SETTLE_MS, say } from "./plan.js";
import { runCli } from "./processes.js";

export interface Settled {
  settled: boolean;
  ms: number;
  lastNote: string;
  listed: ListedTask[] | undefined;
  listCounts: Record<string, number> | undefined;
}

export async function settle(
  hubEnv: NodeJS.ProcessEnv,
  blackboard: string,
  dispatched: DispatchedTask[],
  junk: { path: string }[],
): Promise<Settled> {
  say(
    `settling: ${dispatched.length} dispatched; waiting until every task is final (up to ${SETTLE_MS / 1000} s)`,
  );
  const settleStarted = Date.now();
  let listed: ListedTask[] | undefined;
  let listCounts: Record<string, number> | undefined;
  let settled = false;
  let lastNote = "";
  while (Date.now() - settleStarted < SETTLE_MS) {
    const r = await runCli(["tasks", "list", "--json", "--limit", "1000000"], hubEnv, 120_000);
    try {
      const parsed = JSON.parse(r.stdout) as { tasks: ListedTask[]; counts: Record<string, number> };
      listed = parsed.tasks;
      listCounts = parsed.counts;
    } catch {
      lastNote = `tasks list failed: ${r.stderr.trim().split("\n")[0]}`;
      await sleep(3000);
      continue;
    }
    const byId = new Map(listed.map((t) => [t.id, t]));
    const open = listed.filter((t) => !["completed", "failed", "cancelled"].includes(t.state)).length;
    const missing = dispatched.filter((t) => !byId.has(t.id)).length;
    const reaping = await countFiles(join(blackboard, "reaping"));
    const junkLeft = (await Promise.all(junk.map((j) => exists(j.path)))).filter(Boolean).length;
    const note = `${open} not final, ${missing} missing from the list, ${reaping} in reaping/, ${junkLeft} malformed file(s) still in inboxes`;
    if (note !== lastNote) say(`settling: ${note}`);
    lastNote = note;
    if (open === 0 && missing === 0 && reaping === 0 && junkLeft === 0) {
      settled = true;
      break;
    }
    await sleep(3000);
  }
  const ms = Date.now() - settleStarted;
  say(settled ? `settled in ${(ms / 1000).toFixed(1)} s` : `NOT settled after ${ms / 1000} s: ${lastNote}`);
  return { settled, ms, lastNote, listed, listCounts };
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const sub of await readdir(dir).catch(() => [] as string[]))
    n += (await readdir(join(dir, sub)).catch(() => [] as string[])).length;
  return n;
}
