import { formatAge } from "../domain/durations.js";
import type { MachineWorker, NodeView, TaskView } from "../domain/federation-types.js";

/** A worker that has not been heard from for this long is not counted on to pick a task up soon. */
const WORKER_QUIET_MS = 60_000;

/**
 * Why this node's inbox is not being emptied, or undefined while its worker runs and reaches
 * its gateway: "never" (no heartbeat at all), "stopped", "gateway-down", or how long the
 * worker has been silent (over WORKER_QUIET_MS).
 */
export function workerAbsence(
  node: NodeView,
  now: number,
): "never" | "stopped" | "gateway-down" | number | undefined {
  // A node of this machine: its worker is what `findWorker` found (the pid file, the service,
  // a live worker started by hand), the same view `ensureWorker` acts on; heartbeats lag it.
  if (node.servedHere === true)
    return node.status === "unreachable" || node.worker?.gatewayReachable === false
      ? "gateway-down"
      : undefined;
  if (node.servedHere === false) {
    const heard = heartbeatAbsence(node, now);
    return heard === undefined || heard === "gateway-down" ? "stopped" : heard;
  }
  return heartbeatAbsence(node, now);
}

/** The same judged from the node's heartbeat alone (a node of another machine). */
function heartbeatAbsence(
  node: NodeView,
  now: number,
): "never" | "stopped" | "gateway-down" | number | undefined {
  const beat = node.lastHeartbeatAt ? Date.parse(node.lastHeartbeatAt) : Number.NaN;
  if (Number.isNaN(beat)) return "never";
  if (now - beat > WORKER_QUIET_MS) return now - beat;
  if (node.worker?.state === "stopped" || node.worker?.state === "stopping") return "stopped";
  if (node.worker && !node.worker.gatewayReachable) return "gateway-down";
  return undefined;
}

/**
 * Why a pending task is not moving, and what would move it: only a node's
 * worker (`clawos node run`) takes tasks out of its inbox.
 */
export function waitingHint(task: TaskView, node: NodeView | undefined, now: number): string | undefined {
  if (task.state !== "pending") return undefined;
  if (!node)
    return `No node called ${task.node} is registered: the task waits in its inbox until it is added again (or cancelled).`;
  const run = `clawos node run --node ${node.id}`;
  if (node.budget?.reached) return `Waiting in ${node.id}'s inbox: ${node.budget.line}.`;
  const absence = workerAbsence(node, now);
  if (absence === "never")
    return `Waiting in ${node.id}'s inbox. No worker has reported for ${node.id}: nothing picks the task up until \`${run}\` runs on ${node.machine}.`;
  if (absence === "stopped")
    return `Waiting in ${node.id}'s inbox. Its worker has stopped: the task runs when \`${run}\` runs on ${node.machine} again.`;
  if (absence === "gateway-down")
    return `Waiting in ${node.id}'s inbox. Its worker runs but cannot reach its gateway: the task runs once that gateway is up.`;
  if (absence !== undefined)
    return `Waiting in ${node.id}'s inbox. Its worker was last heard from ${formatAge(absence)} ago: the task runs when it is back (\`${run}\` on ${node.machine}).`;
  return `Waiting in ${node.id}'s inbox: its worker picks it up shortly.`;
}

/** One line per node whose inbox holds tasks that no running worker will take (for `clawos status`). */
export function stalledInboxes(
  tasks: readonly TaskView[],
  nodes: readonly NodeView[],
  now: number,
): string[] {
  const pending = new Map<string, number>();
  for (const t of tasks) if (t.state === "pending") pending.set(t.node, (pending.get(t.node) ?? 0) + 1);
  const lines: string[] = [];
  for (const [id, count] of pending) {
    const node = nodes.find((n) => n.id === id);
    const tasksWait = `${count} task${count === 1 ? "" : "s"} ${count === 1 ? "waits" : "wait"}`;
    if (!node) {
      lines.push(
        `${tasksWait} for ${id}, which is not a registered node (clawos tasks retry ID sends one elsewhere).`,
      );
      continue;
    }
    if (node.budget?.reached) {
      lines.push(`${tasksWait} in ${id}'s inbox: ${node.budget.line}.`);
      continue;
    }
    const absence = workerAbsence(node, now);
    if (absence === undefined || absence === "gateway-down") continue; // the nodes table says the gateway is down
    const why =
      absence === "never"
        ? `no worker has reported for ${id}`
        : absence === "stopped"
          ? `its worker has stopped`
          : `its worker was last heard from ${formatAge(absence)} ago`;
    lines.push(
      `${tasksWait} in ${id}'s inbox and ${why}: run clawos node run --node ${id} on ${node.machine}.`,
    );
  }
  return lines;
}

/**
 * Marks this machine's nodes with whether its worker (`findWorker`'s answer) serves them, so
 * the waiting hints, `status` and the control center agree with what `ensureWorker` acts on.
 */
export function withMachineWorker(
  views: NodeView[],
  machine: string,
  worker: MachineWorker | undefined,
): NodeView[] {
  if (!worker) return views;
  return views.map((v) => {
    if (v.machine !== machine || v.port === null) return v;
    // Not running but `unserved` listed: a worker started by hand serves the other nodes.
    const servedHere = worker.running || (worker.unserved !== undefined && !worker.unserved.includes(v.id));
    return v.servedHere === servedHere ? v : { ...v, servedHere };
  });
}
