import { formatAge } from "./durations.js";
import type { NodeState } from "./federation-types.js";
import type { NodeConfig, NodeStatusRecord, Route, TimingConfig } from "./schema.js";
import { newestTurn, type TurnRecord, turnHealth } from "./turn-health.js";

/** What the last probe of a node's gateway found (localhost nodes, or through SSH). */
export interface ProbeResult {
  ok: boolean;
  latencyMs?: number;
  checkedAt: number;
  /** GatewayError kind when not ok, or a token problem. */
  errorKind?: string;
  error?: string;
  /** The fix, when the probe knows it (e.g. the exact openclaw command). */
  hint?: string;
}

export interface NodeHealth {
  status: NodeState;
  reason: string;
  hint?: string;
  latencyMs?: number;
}

const MISCONFIGURED = new Set(["unauthorized", "endpoint_disabled", "unknown_agent", "token"]);

type HealthInput = {
  node: NodeConfig;
  route: Route | "planned";
  probe?: ProbeResult;
  heartbeat?: NodeStatusRecord;
  /** The last turn this machine ran on the node (its heartbeat carries its own machine's). */
  turn?: TurnRecord;
  now: number;
  timing: Pick<TimingConfig, "staleAfterMs" | "asleepAfterMs">;
};

/**
 * Pure: from what we know to a state and a reason. A node we know nothing about is "unknown",
 * never "online"; a gateway that is up but whose last turn failed on its model is not "online".
 */
export function computeNodeHealth(input: HealthInput): NodeHealth {
  const health = gatewayHealth(input);
  if (health.status !== "online") return health;
  const heartbeatTurn = input.heartbeat?.turn ? { node: input.node.id, ...input.heartbeat.turn } : undefined;
  const turn = turnHealth(newestTurn(input.turn, heartbeatTurn as TurnRecord | undefined), input.now);
  return turn
    ? { ...turn, ...(health.latencyMs !== undefined ? { latencyMs: health.latencyMs } : {}) }
    : health;
}

function gatewayHealth(input: HealthInput): NodeHealth {
  const { node, route, probe, heartbeat, now, timing } = input;
  if (route === "planned") return { status: "planned", reason: "planned: no gateway yet (port TBD)" };

  if (route === "localhost" || (probe && route === "ssh")) {
    if (!probe) return { status: "unknown", reason: "not probed yet" };
    if (probe.ok) {
      return {
        status: "online",
        reason: `health ${Math.round(probe.latencyMs ?? 0)} ms`,
        latencyMs: probe.latencyMs ?? 0,
      };
    }
    if (probe.errorKind && MISCONFIGURED.has(probe.errorKind)) {
      return {
        status: "misconfigured",
        reason: probe.error ?? probe.errorKind,
        ...(probe.hint ? { hint: probe.hint } : {}),
      };
    }
    return { status: "unreachable", reason: probe.error ?? "gateway not reachable" };
  }

  // Another machine: we only know what its worker tells us through heartbeats.
  if (!heartbeat)
    return { status: "unknown", reason: `no heartbeat yet (run clawos node run --node ${node.id} there)` };
  const heartbeatAt = Date.parse(heartbeat.heartbeatAt);
  const age = Number.isFinite(heartbeatAt) ? now - heartbeatAt : Number.POSITIVE_INFINITY;
  // A stopped worker is stale at once (it takes no task), and asleep only after the same
  // asleepAfterMs as a silent one: a restart a few seconds later is not a machine asleep.
  if (heartbeat.state === "stopped")
    return {
      status: age > timing.asleepAfterMs ? "asleep" : "stale",
      reason: `worker stopped ${formatAge(age)} ago`,
    };
  if (age > timing.asleepAfterMs) return { status: "asleep", reason: `no heartbeat for ${formatAge(age)}` };
  if (age > timing.staleAfterMs) return { status: "stale", reason: `last heartbeat ${formatAge(age)} ago` };
  if (!heartbeat.gateway.reachable) {
    return {
      status: "unreachable",
      reason: `worker up, gateway down: ${heartbeat.gateway.error ?? "not reachable"}`,
    };
  }
  // Alive but not progressing: a task in flight whose reply has not grown for a while.
  const lastProgress = heartbeat.lastProgressAt ? Date.parse(heartbeat.lastProgressAt) : Number.NaN;
  const quiet = heartbeat.inFlight.length > 0 && Number.isFinite(lastProgress) ? now - lastProgress : 0;
  return {
    status: "online",
    reason: `heartbeat ${formatAge(age)} ago${quiet > timing.staleAfterMs ? `; no task progress for ${formatAge(quiet)}` : ""}`,
    ...(heartbeat.gateway.latencyMs !== undefined ? { latencyMs: heartbeat.gateway.latencyMs } : {}),
  };
}
