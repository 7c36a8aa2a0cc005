import type { StoredTask } from "../blackboard/types.js";
import { count } from "../domain/plural.js";
import type { Cordon } from "../domain/registry.js";
import { type RoutableNode, routeTask } from "../domain/router.js";
import { localActor } from "../infra/audit-log.js";
import type { FederationCore } from "./federation.js";

/**
 * Move one waiting `any` task to the best other online node. The move is the drivers' fenced
 * `reroutePending` (a rename, a CAS): if the node's worker claimed it first, the move fails and
 * the task runs where it is, once. Returns the node it went to, or why it stays.
 */
export async function handOver(
  core: FederationCore,
  task: StoredTask,
  routable: RoutableNode[],
): Promise<{ to: string } | { stays: string }> {
  let next: ReturnType<typeof routeTask>;
  try {
    next = routeTask(
      { target: "any", priority: task.request.priority, tags: task.request.tags, exclude: [task.node] },
      routable,
    );
  } catch {
    return { stays: "no other node can take it" };
  }
  if (next.waiting || next.decision.node === task.node) return { stays: "no other node is online" };
  const moved = await core.blackboard
    .coordinator()
    .reroutePending(task.request.id, task.node, { ...next.decision, decidedAt: new Date().toISOString() });
  return moved ? { to: next.decision.node } : { stays: "it was claimed or moved meanwhile" };
}

/** The `any` tasks waiting in a node's inbox: what a drain hands on. */
export async function waitingAny(core: FederationCore, node: string): Promise<StoredTask[]> {
  const listing = await core.blackboard.list({ finishedLimit: 0, activeOnly: true });
  return listing.tasks.filter(
    (t) => t.state === "pending" && t.node === node && t.request.target === "any" && !t.cancelRequested,
  );
}

/**
 * `clawos nodes cordon|uncordon|drain NODE`: the node's record says it (only its owner writes
 * it), then a drain hands its waiting `any` tasks on at once; the coordinator hands on any that
 * arrive later. Tasks sent to the node by name stay: only it may run them.
 */
export async function setCordon(
  core: FederationCore,
  node: string,
  action: "cordon" | "uncordon" | "drain",
  by: string,
): Promise<string[]> {
  const cordon: Cordon | undefined =
    action === "uncordon"
      ? undefined
      : { state: action === "drain" ? "draining" : "cordoned", at: new Date().toISOString(), by };
  await core.registryWriter().setCordon(node, cordon);
  await core.refreshRegistry();
  if (action === "uncordon") return [`${node} takes new tasks again.`];
  if (action === "cordon")
    return [`${node} is cordoned: it takes no new tasks; what it runs and what waits in its inbox stay.`];
  const { routable } = await core.nodeViews({ probe: true });
  const lines: string[] = [];
  for (const task of await waitingAny(core, node)) {
    const outcome = await handOver(core, task, routable);
    lines.push(
      "to" in outcome
        ? `${task.request.id} handed to ${outcome.to}`
        : `${task.request.id} stays on ${node}: ${outcome.stays}`,
    );
  }
  const left = (await core.inFlightCounts()).get(node) ?? 0;
  lines.push(
    left === 0
      ? `${node} is drained: nothing runs or waits there.`
      : `${node} is draining: ${count(left, "task")} still there (running, or sent to it by name); it shows drained when they are done.`,
  );
  return lines;
}

/** Who a cordon record names: the local user and this machine (the audit log says more). */
export function cordonedBy(env: NodeJS.ProcessEnv, machine: string): string {
  return `${localActor(env).user}@${machine}`.slice(0, 100);
}
