import type { NodeStatusRecord } from "../domain/schema.js";
import { VERSION } from "../infra/version.js";
import type { FederationCore } from "./federation.js";
import type { RunOutcome } from "./task-runner.js";
import { localTallies } from "./usage-views.js";
import type { WorkerSummary } from "./worker.js";

/** One node a worker serves: the tasks it runs and what the last probe said of its gateway. */
export interface NodeLoop {
  id: string;
  running: Map<string, Promise<RunOutcome>>;
  gatewayUp: boolean;
  gatewayError?: string;
  latencyMs?: number;
  lastProgressAt?: string;
  /** The heartbeat writes of this node, chained (see writeHeartbeat()). */
  heartbeats?: Promise<void>;
  /** The "stopped" heartbeat has been asked for: nothing is written after it. */
  stopped?: boolean;
  /** Why it claims nothing today (a budget reached), as last logged. */
  budgetLine?: string | undefined;
  /** When the budget was last read (ms): claims within a second reuse it; a finished turn clears it. */
  budgetReadAt?: number | undefined;
}

/** What every heartbeat of one worker shares. */
export interface HeartbeatContext {
  startedAt: string;
  summary: WorkerSummary;
  log: (line: string) => void;
  /** The worker log's last lines about a node (see LogTail). */
  recentLog?: (node: string) => NonNullable<NodeStatusRecord["recentLog"]>;
}

/** Writes a node's status record (after the ones asked before it). */
export async function writeHeartbeat(
  core: FederationCore,
  loop: NodeLoop,
  state: NodeStatusRecord["state"],
  context: HeartbeatContext,
): Promise<void> {
  // "stopped" is a worker's last word: a probe or task that finishes after it must not undo it.
  if (loop.stopped) return;
  if (state === "stopped") loop.stopped = true;
  const { summary, log } = context;
  // Not awaited: the record must be built before any later call's (see below); the next one has it.
  void core.refreshTurns().catch(() => {});
  const record: NodeStatusRecord = {
    schema: "clawos.node-status/1",
    node: loop.id,
    machine: core.machine,
    pid: process.pid,
    version: VERSION,
    startedAt: context.startedAt,
    heartbeatAt: new Date().toISOString(),
    state,
    inFlight: [...loop.running.keys()],
    completed: summary.completed,
    failed: summary.failed,
    ...(loop.lastProgressAt ? { lastProgressAt: loop.lastProgressAt } : {}),
    gateway: {
      reachable: loop.gatewayUp,
      ...(loop.latencyMs !== undefined ? { latencyMs: loop.latencyMs } : {}),
      checkedAt: new Date().toISOString(),
      ...(loop.gatewayError ? { error: loop.gatewayError.slice(0, 400) } : {}),
    },
    ...turnOf(core, loop.id),
    ...(context.recentLog ? { recentLog: context.recentLog(loop.id) } : {}),
  };
  // One write at a time per node, in the order asked: a "running" heartbeat still being flushed
  // must never land after the final "stopped" one.
  // The node's tokens as this machine recorded them, read when the write's turn comes (so fresh).
  loop.heartbeats = (loop.heartbeats ?? Promise.resolve()).then(async () => {
    const usage = (await localTallies(core.loaded.home, loop.id).catch(() => [])).slice(0, 200);
    await core.blackboard
      .writeNodeStatus(usage.length ? { ...record, usage } : record)
      .catch((error: unknown) => log(`heartbeat for ${loop.id} not written: ${String(error)}`));
  });
  await loop.heartbeats;
}

/** Probes the node's gateway and logs when it goes down or comes back. */
export async function probeGateway(
  core: FederationCore,
  loop: NodeLoop,
  log: (line: string) => void,
): Promise<void> {
  const result = await core.probe(loop.id);
  const wasUp = loop.gatewayUp;
  loop.gatewayUp = result.ok;
  loop.latencyMs = result.latencyMs;
  loop.gatewayError = result.ok ? undefined : result.error;
  if (wasUp !== result.ok)
    log(result.ok ? `${loop.id}: gateway is back` : `${loop.id}: gateway down: ${result.error}`);
}

/** The last turn this machine saw on the node, for the other machines (turn-health.ts). */
function turnOf(core: FederationCore, node: string): Pick<NodeStatusRecord, "turn"> {
  const turn = core.lastTurn(node);
  if (!turn) return {};
  const { node: _node, ...rest } = turn;
  return { turn: rest };
}
