import { ageSince } from "../domain/durations.js";
import type { MachineWorker } from "../domain/federation-types.js";
import { count } from "../domain/plural.js";
import type { FederationCore } from "../federation/federation.js";
import { displayPath } from "../infra/paths.js";
import type { AddCheck } from "./doctor.js";
import { autoStartEnabled, findWorker, homeFlag } from "./worker-autostart.js";
import { workerLogPath } from "./worker-process.js";

/**
 * This machine's worker, as `findWorker` (and so `ensureWorker`, `status` and the control
 * center) sees it: running how, or missing while this machine has nodes whose tasks would wait.
 */
export async function checkWorker(core: FederationCore, add: AddCheck): Promise<void> {
  const home = core.loaded.home;
  const local = core.nodes.filter((n) => n.machine === core.machine && n.port !== null).map((n) => n.id);
  if (local.length === 0) return; // nothing here for a worker to serve
  const worker = await findWorker(home, core.env, { core });
  if (worker.running) {
    add({
      area: "worker",
      level: "ok",
      message: runningText(worker, displayPath(workerLogPath(home), core.env)),
    });
    return;
  }
  const flag = homeFlag(home, core.env);
  const unserved = worker.unserved ?? local;
  const waiting = await pendingFor(core, unserved);
  const tasks = waiting
    ? `${count(waiting, "task")} ${waiting === 1 ? "waits" : "wait"} in ${unserved.length === 1 ? "its inbox" : "their inboxes"}`
    : `tasks sent to ${unserved.length === 1 ? "it" : "them"} would wait`;
  const message = worker.unserved
    ? `no worker serves ${unserved.join(", ")} (one started by hand serves the others): ${tasks}`
    : `no worker runs for this machine's ${count(local.length, "node")} (${local.join(", ")}): ${tasks}`;
  const start = worker.unserved
    ? unserved.map((id) => `clawos${flag} node run --node ${id}`).join("; ")
    : worker.serviceInstalled
      ? `start its installed service, or clawos${flag} node run`
      : autoStartEnabled(core.config, core.env)
        ? `clawos${flag} node run (the next dispatch or retry also starts one); to keep one always: clawos${flag} node install-service`
        : `clawos${flag} node run (the automatic start is off: worker.autoStart in federation.json, or CLAWOS_WORKER_AUTOSTART)`;
  // A warning, not a failure: the next command that queues work starts one (unless turned off).
  add({ area: "worker", level: "warn", message, fix: start });
}

function runningText(worker: MachineWorker, log: string): string {
  const age = ageSince(worker.since, Date.now());
  const facts = [...(worker.pid ? [`pid ${worker.pid}`] : []), ...(age ? [`started ${age} ago`] : [])];
  const how =
    worker.kind === "background"
      ? `runs in the background (log ${log})`
      : worker.kind === "service"
        ? "runs as a service"
        : "runs, started by hand (clawos node run)";
  return `this machine's worker ${how}${facts.length ? `, ${facts.join(", ")}` : ""}`;
}

/** Pending tasks in the inboxes of these nodes (0 when the board cannot be read: other checks say why). */
async function pendingFor(core: FederationCore, nodes: string[]): Promise<number> {
  const counts = await Promise.all(nodes.map((id) => core.blackboard.pendingIds(id).catch(() => [])));
  return counts.reduce((sum, ids) => sum + ids.length, 0);
}
