/**
 * The soak's dispatchers: `clawos dispatch TEXT --to wN|any --priority P0..P3 --json`, one
 * after another in each, recording what was given an id and what was refused.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { DispatchedTask } from "./audit.js";
import { between, CHAOS, elapsedS, NODES, pick, rng, say } from "./plan.js";
import { runCli } from "./processes.js";

const WORDS = [
  "summarise the logs",
  "整理今天的日志",
  "check the backups",
  "写周报",
  "rotate keys",
  "检查节点状态 ✅",
];

export interface DispatchLog {
  dispatched: DispatchedTask[];
  refused: { atS: number; reason: string; whileDiskFull: boolean }[];
  dispatchMs: number[];
}

/** Start `count` dispatchers; `stop()` lets each finish its current dispatch. */
export function startDispatchers(
  count: number,
  hubEnv: NodeJS.ProcessEnv,
  diskFull: () => boolean,
): { log: DispatchLog; stop: () => Promise<void> } {
  const log: DispatchLog = { dispatched: [], refused: [], dispatchMs: [] };
  let seq = 0;
  let dispatching = true;
  const dispatcher = async () => {
    while (dispatching) {
      const n = ++seq;
      const target = rng() < 0.5 ? "any" : pick(NODES);
      const priority = pick(["P0", "P1", "P2", "P3"] as const);
      const text = `soak #${n} ${pick(WORDS)}`;
      const r = await runCli(["dispatch", text, "--to", target, "--priority", priority, "--json"], hubEnv);
      log.dispatchMs.push(r.ms);
      let id: string | undefined;
      let routedTo = "?";
      try {
        const view = JSON.parse(r.stdout) as { id?: string; node?: string; route?: { node?: string } };
        id = view.id;
        routedTo = view.node ?? view.route?.node ?? "?";
      } catch {
        // no JSON: refused
      }
      if (id) {
        log.dispatched.push({ id, target, priority, text, routedTo, dispatchedAtMs: Date.now() });
        if (r.code !== 0) say(`dispatch of ${id} printed JSON but exited ${r.code}: ${r.stderr.trim()}`);
      } else {
        log.refused.push({ atS: elapsedS(), reason: refusalReason(r.stderr), whileDiskFull: diskFull() });
      }
      await sleep(between(CHAOS.dispatchPause));
    }
  };
  const running = Array.from({ length: count }, () => dispatcher());
  return {
    log,
    stop: async () => {
      dispatching = false;
      await Promise.all(running);
    },
  };
}

function refusalReason(stderr: string): string {
  const lines = stderr.trim().split("\n");
  // A crash prints "file:line" first: keep the line that names the error too.
  const errorLine = lines.find((l) => /^\w*Error\b|^clawos: /.test(l));
  return [lines[0], errorLine && errorLine !== lines[0] ? errorLine : undefined]
    .filter(Boolean)
    .join(" … ")
    .replace(/req_\w+/g, "<id>")
    .slice(0, 300);
}
