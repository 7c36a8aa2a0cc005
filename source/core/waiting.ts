import { formatAge } from "./durations.js";
import type { NodeView, TaskView } from "./federation-types.js";

/** A worker that has not been heard from for this long is not counted on to pick a task up soon. */
const WORKER_QUIET_MS = 60_000;

/**
 * How long this node's worker has been silent: "never" (no heartbeat at all), the time since its
 * last one when that is over WORKER_QUIET_MS, or undefined while it reports (its inbox is served).
 */
function workerSilence(node: NodeView, now: number): "never" | number | undefined {
  const beat = node.lastHeartbeatAt ? Date.parse(node.lastHeartbeatAt) : Number.NaN;
  if (Number.isNaN(beat)) return "never";
  return now - beat > WORKER_QUIET_MS ? now - beat : undefined;
}

/**
 * Why a pending task is not moving, and what would move it: only a node's
 * worker (`clawos node run`) takes tasks out of its inbox.
 */
export function waitingHint(task: TaskView, node: NodeView | undefined, now: number): string | undefined {
  if (task.state !== "pending") return undefined;
  if (!node) return `No node called ${task.node} is registered: the task waits in its inbox.`;
  const run = `clawos node run --node ${node.id}`;
  const silence = workerSilence(node, now);
  if (silence === "never")
    return `Waiting in ${node.id}'s inbox. No worker has reported for ${node.id}: nothing picks the task up until \`${run}\` runs on ${node.machine}.`;
  if (silence !== undefined)
    return `Waiting in ${node.id}'s inbox. Its worker was last heard from ${formatAge(silence)} ago: the task runs when it is back (\`${run}\` on ${node.machine}).`;
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
    const silence = workerSilence(node, now);
    if (silence === undefined) continue;
    const why =
      silence === "never"
        ? `no worker has reported for ${id}`
        : `its worker was last heard from ${formatAge(silence)} ago`;
    lines.push(
      `${tasksWait} in ${id}'s inbox and ${why}: run clawos node run --node ${id} on ${node.machine}.`,
    );
  }
  return lines;
}
