import { UserError } from "./errors.js";
import type { NodeState } from "./federation-types.js";
import { count } from "./plural.js";
import type { NodeConfig, Priority, Route, RouteDecision, TaskRequest } from "./schema.js";
import { localeOrder } from "./text-order.js";

export interface RoutableNode {
  config: NodeConfig;
  route: Route | "planned";
  status: NodeState;
  statusReason: string;
  statusHint?: string;
  inFlight: number;
  latencyMs?: number;
  /** ms since epoch when last seen alive (probe or heartbeat); helps choose where to wait. */
  lastSeenAt?: number;
  /** Set once its daily budget (or the federation's) is reached: why it takes nothing new today. */
  overBudget?: string;
  /** Cordoned or draining: it takes no new task, from `any` or by name. */
  cordon?: "cordoned" | "draining";
}

export interface RouteRequest {
  target: string;
  priority: Priority;
  tags?: string[];
  /** Nodes to avoid (e.g. the one that just failed). */
  exclude?: string[];
  /** Whether the SSH route can be used for urgent tasks to other machines. */
  sshAvailable?: boolean;
}

export type RoutingOutcome = { decision: Omit<RouteDecision, "decidedAt">; waiting: boolean };

const STATUS_RANK: Record<NodeState, number> = {
  online: 0,
  degraded: 1,
  stale: 2,
  unknown: 3,
  asleep: 4,
  unreachable: 5,
  misconfigured: 6,
  planned: 7,
};

/** Pure: pick the node and transport for a task, and say why in words. */
export function routeTask(request: RouteRequest, nodes: RoutableNode[]): RoutingOutcome {
  if (request.target !== "any") return routeExplicit(request, nodes);
  const exclude = new Set(request.exclude ?? []);
  const wanted = request.tags ?? [];
  const candidates = nodes.filter(
    (n) =>
      n.route !== "planned" && !exclude.has(n.config.id) && wanted.every((t) => n.config.tags.includes(t)),
  );
  const cordoned = candidates.filter((n) => n.cordon).map((n) => n.config.id);
  const tagged = candidates.filter((n) => !n.cordon);
  if (tagged.length === 0) {
    const what = wanted.length ? ` with tags ${wanted.join(", ")}` : "";
    const why = cordoned.length
      ? ` (${cordoned.join(", ")} ${cordoned.length > 1 ? "are" : "is"} cordoned)`
      : "";
    throw new UserError(
      `No node${what} can take tasks${exclude.size ? " besides the one that failed" : ""}${why}.`,
      {
        hint: cordoned.length
          ? `uncordon one: clawos nodes uncordon ${cordoned[0]}`
          : nodes.length
            ? "check `clawos nodes list`"
            : "add one with `clawos init` or `clawos nodes add`",
        code: "no_node", // nothing was queued: the CLI's usage exit, not a failed task
      },
    );
  }
  const skipped = cordoned.length ? `; skipped ${cordoned.join(", ")}: cordoned` : "";
  // A node over its daily budget takes nothing new today: `any` goes to one under its cap.
  const online = tagged.filter((n) => n.status === "online" && !n.overBudget).sort(byLoad);
  const capped = tagged.filter((n) => n.status === "online" && n.overBudget).sort(byLoad);
  const best = online[0];
  if (best) {
    const others = online.length - 1;
    const why = [
      `${best.config.id} is online`,
      `${count(best.inFlight, "task")} in flight`,
      best.latencyMs !== undefined ? `${Math.round(best.latencyMs)} ms latency` : undefined,
      others ? `best of ${online.length} online nodes` : "the only online node",
      capped.length
        ? `passed by ${capped.map((n) => n.config.id).join(", ")} (daily budget reached)`
        : undefined,
    ].filter(Boolean);
    return {
      decision: {
        node: best.config.id,
        transport: transportFor(best, request),
        reason: `${why.join(", ")}${skipped}`,
      },
      waiting: false,
    };
  }
  if (capped[0]) return waitForBudget(capped[0]);
  // Nothing online: wait where the task is most likely to run soonest; the coordinator moves it later.
  const fallback = [...tagged].sort(
    (a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || (b.lastSeenAt ?? 0) - (a.lastSeenAt ?? 0),
  )[0]!;
  return {
    decision: {
      node: fallback.config.id,
      transport: "blackboard",
      reason: `no node is online; waiting in ${fallback.config.id}'s inbox (${fallback.status}: ${fallback.statusReason}) until it or another node can take it${skipped}`,
    },
    waiting: true,
  };
}

function routeExplicit(request: RouteRequest, nodes: RoutableNode[]): RoutingOutcome {
  const node = nodes.find((n) => n.config.id === request.target);
  if (!node) {
    const known = nodes.map((n) => n.config.id).join(", ") || "none yet";
    throw new UserError(`There is no node "${request.target}" (known: ${known}).`, {
      hint: "use --to any, or add the node with `clawos nodes add`",
      code: "usage",
    });
  }
  if (node.cordon) {
    throw new UserError(`Node ${node.config.id} is ${node.cordon}: it takes no new tasks.`, {
      hint: `send it elsewhere (--to any), or take it back: clawos nodes uncordon ${node.config.id}`,
      code: "usage",
    });
  }
  if (node.route === "planned") {
    return {
      decision: {
        node: node.config.id,
        transport: "blackboard",
        reason: `${node.config.id} is planned (no gateway yet); the task waits in its inbox`,
      },
      waiting: true,
    };
  }
  if (node.overBudget) {
    // Refused rather than queued: the user asked for this node now, and it takes nothing more today.
    throw new UserError(`Not queued: ${node.overBudget}.`, {
      hint: "or dispatch with --to any: it goes to a node under its budget",
      code: "budget",
    });
  }
  if (node.status === "misconfigured") {
    // Waiting would not help: the node needs a fix first.
    throw new UserError(`Node ${node.config.id} is misconfigured: ${node.statusReason}`, {
      ...(node.statusHint ? { hint: node.statusHint } : {}),
      code: "misconfigured",
    });
  }
  // Degraded (its provider failed a while ago) is still tried when asked for by name: it may be back.
  if (node.route === "localhost" && node.status !== "online" && node.status !== "degraded") {
    return {
      decision: {
        node: node.config.id,
        transport: "blackboard",
        reason: `asked for ${node.config.id}, which is ${node.status} (${node.statusReason.replace(/\.+$/, "")}); the task waits in its inbox until its gateway answers`,
      },
      waiting: true,
    };
  }
  const transport = transportFor(node, request);
  return {
    decision: {
      node: node.config.id,
      transport,
      reason: `asked for ${node.config.id} (${node.status}: ${node.statusReason})`,
    },
    waiting: transport === "blackboard" && node.status !== "online",
  };
}

/** Every online node reached its budget: the task waits in the least loaded one's inbox. */
function waitForBudget(node: RoutableNode): RoutingOutcome {
  return {
    decision: {
      node: node.config.id,
      transport: "blackboard",
      reason: `every online node reached its daily budget; waiting in ${node.config.id}'s inbox: ${node.overBudget}`,
    },
    waiting: true,
  };
}

function transportFor(node: RoutableNode, request: RouteRequest): Route {
  if (node.route === "planned") return "blackboard";
  if (node.route !== "blackboard" || !request.sshAvailable || !node.config.ssh) return node.route;
  if (request.priority === "P0") return "ssh";
  // Its worker is silent (asleep, stale, never seen) but the machine may still answer SSH.
  if (node.config.ssh.whenWorkerSilent !== false && node.status !== "online" && node.status !== "unreachable")
    return "ssh";
  return node.route;
}

function byLoad(a: RoutableNode, b: RoutableNode): number {
  return (
    a.inFlight - b.inFlight ||
    (a.route === "localhost" ? 0 : 1) - (b.route === "localhost" ? 0 : 1) ||
    (a.latencyMs ?? 1e9) - (b.latencyMs ?? 1e9) ||
    localeOrder(a.config.id, b.config.id)
  );
}

/**
 * Where an `any` task goes after a node failed it: the best other node, with the ones tried
 * marked down so they are not picked again; undefined when no other node can take it.
 */
export function nextNodeFor(
  request: TaskRequest,
  tried: string[],
  routable: RoutableNode[],
): RouteDecision | undefined {
  if (request.target !== "any") return undefined;
  const marked = routable.map((n) =>
    tried.includes(n.config.id) ? { ...n, status: "unreachable" as const } : n,
  );
  try {
    const next = routeTask(
      { target: "any", priority: request.priority, exclude: tried, tags: request.tags },
      marked,
    );
    return { ...next.decision, decidedAt: new Date().toISOString() };
  } catch {
    return undefined;
  }
}
