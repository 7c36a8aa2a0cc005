/** The serve soak's settle: wait (up to --settle) until every dispatched task is final. */
import { round, sleep } from "../../lib.js";
import type { DispatchedTask, ListedTask } from "../soak/audit.js";
import { SETTLE_MS, say } from "./plan.js";
import type { Procs } from "./procs.js";

/** Poll `clawos tasks list` every 3 s; `listed` is the last list read, for the audit. */
export async function settleTasks(
  procs: Procs,
  dispatched: DispatchedTask[],
): Promise<{ listed: ListedTask[] | undefined; settled: boolean }> {
  let listed: ListedTask[] | undefined;
  const settleStart = Date.now();
  let settled = false;
  while (Date.now() - settleStart < SETTLE_MS) {
    const r = await procs.cli(["tasks", "list", "--json", "--limit", "1000000"], 120_000);
    try {
      listed = (JSON.parse(r.stdout) as { tasks: ListedTask[] }).tasks;
      const byId = new Map(listed.map((t) => [t.id, t]));
      const open = dispatched.filter(
        (t) => !["completed", "failed", "cancelled"].includes(byId.get(t.id)?.state ?? ""),
      ).length;
      if (open === 0) {
        settled = true;
        break;
      }
    } catch {
      say(`tasks list failed: ${r.stderr.trim().split("\n")[0]}`);
    }
    await sleep(3_000);
  }
  say(settled ? `settled in ${round((Date.now() - settleStart) / 1000, 1)} s` : "NOT settled");
  return { listed, settled };
}
