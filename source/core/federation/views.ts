import type { StoredTask } from "../blackboard/types.js";
import type { NodeView, TaskView } from "../domain/federation-types.js";
import type { NodeHealth, ProbeResult } from "../domain/health.js";
import { completeHistory } from "../domain/history.js";
import type { RoutableNode } from "../domain/router.js";
import type { NodeConfig, NodeStatusRecord } from "../domain/schema.js";
import { routeOf } from "../infra/config.js";
import type { RegistryConflict } from "./registry.js";

/** A conflicted id in the tables: misconfigured, with the one-line fix as its reason. */
export function conflictView(c: RegistryConflict, machine: string, inFlight: number): NodeView {
  const { node } = c;
  return {
    id: c.id,
    machine: c.claimants.join(", "),
    transport: routeOf(node, machine),
    host: node.host,
    port: node.port,
    profile: node.profile,
    agent: node.agent,
    tags: node.tags,
    status: "misconfigured",
    reason: `${c.reason}; fix ${c.fix}`,
    inFlight,
  };
}

export function toTaskView(task: StoredTask): TaskView {
  const { request, result, progress } = task;
  const reply = result?.text ?? progress?.text;
  return {
    id: request.id,
    target: request.target,
    node: task.node,
    state: task.state,
    priority: request.priority,
    text: request.text,
    createdAt: request.createdAt,
    attempt: request.attempt,
    maxAttempts: request.maxAttempts,
    route: request.route,
    history: completeHistory(request, task.node, result, progress),
    ...(reply !== undefined ? { reply } : {}),
    ...(result?.error ? { error: result.error } : {}),
    ...(result?.startedAt || progress?.startedAt
      ? { startedAt: result?.startedAt ?? progress?.startedAt }
      : {}),
    ...(result?.finishedAt ? { finishedAt: result.finishedAt } : {}),
    ...(result?.durationMs !== undefined ? { durationMs: result.durationMs } : {}),
    ...(result?.usage ? { usage: result.usage } : {}),
    ...(result?.model ? { model: result.model } : {}),
  };
}

/**
 * What a node view says of its cordon: draining turns drained once nothing is left on the node
 * (nothing running, nothing waiting), and the reason leads with it so every table shows it.
 */
export function cordonView(
  state: "cordoned" | "draining" | undefined,
  active: number,
  reason: string,
): Pick<NodeView, "cordon" | "reason"> {
  if (!state) return { reason };
  const cordon = state === "draining" && active === 0 ? "drained" : state;
  return { cordon, reason: `${cordon}; ${reason}` };
}

/** One node as the router weighs it and as the tables show it, from its health and counts. */
export function nodeFactsOf(input: {
  node: NodeConfig;
  route: ReturnType<typeof routeOf>;
  health: NodeHealth;
  inFlight: number;
  cordon: "cordoned" | "draining" | undefined;
  probe?: ProbeResult;
  heartbeat?: NodeStatusRecord;
}): { routable: RoutableNode; view: NodeView } {
  const { node, route, health, inFlight, cordon, probe, heartbeat } = input;
  const lastSeenAt = probe?.ok ? probe.checkedAt : heartbeat ? Date.parse(heartbeat.heartbeatAt) : undefined;
  const latency = health.latencyMs !== undefined ? { latencyMs: health.latencyMs } : {};
  return {
    routable: {
      config: node,
      route,
      status: health.status,
      statusReason: health.reason,
      ...(health.hint ? { statusHint: health.hint } : {}),
      inFlight,
      ...latency,
      ...(lastSeenAt !== undefined ? { lastSeenAt } : {}),
      ...(cordon ? { cordon } : {}),
    },
    view: {
      id: node.id,
      machine: node.machine,
      transport: route,
      host: node.host,
      port: node.port,
      profile: node.profile,
      agent: node.agent,
      tags: node.tags,
      status: health.status,
      ...cordonView(cordon, inFlight, health.reason),
      ...latency,
      inFlight,
      ...(heartbeat
        ? {
            lastHeartbeatAt: heartbeat.heartbeatAt,
            worker: { state: heartbeat.state, gatewayReachable: heartbeat.gateway.reachable },
          }
        : {}),
      ...(node.notes ? { notes: node.notes } : {}),
    },
  };
}
