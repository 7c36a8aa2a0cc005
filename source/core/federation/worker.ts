import { UserError } from "../domain/errors.js";
import type { NodeStatusRecord } from "../domain/schema.js";
import type { LogTail } from "../infra/log-entries.js";
import type { FederationCore } from "./federation.js";
import { ClaimLoop } from "./worker-claims.js";
import { CoordinatorDuties } from "./worker-coordinator.js";
import { type NodeLoop, probeGateway, writeHeartbeat } from "./worker-node.js";

export interface WorkerOptions {
  /** Nodes this worker serves; empty = every node whose `machine` is this machine. */
  nodes: string[];
  /** Serve the named nodes even when federation.json says another machine owns them. */
  adopt?: boolean;
  once: boolean;
  /**
   * true: do coordinator duties; "auto": do them while this worker holds the blackboard's
   * coordinator lease (drivers that offer one: NATS), so one worker of the federation does them
   * and another takes over when it stops; false: never.
   */
  coordinator: boolean | "auto";
  concurrency: number;
  /**
   * How long running tasks may finish after `stop` before they are handed back; read when the
   * stop comes (Infinity: wait for them, e.g. a restart on a changed registry).
   */
  graceMs: number;
  /** Hand running tasks back now, whatever the grace (a signal during an unbounded wait). */
  handBack?: AbortSignal;
  log: (line: string) => void;
  /** The worker log's last lines, which each heartbeat carries for other machines. */
  tail?: LogTail;
  stop: AbortSignal;
}

export interface WorkerSummary {
  completed: number;
  failed: number;
  requeued: number;
}

/** The parts of one running worker, shared by its start, its run and its stop. */
interface Worker {
  core: FederationCore;
  options: WorkerOptions;
  loops: NodeLoop[];
  claims: ClaimLoop;
  duties: CoordinatorDuties;
  heartbeat: (loop: NodeLoop, state: NodeStatusRecord["state"]) => Promise<void>;
  probe: (loop: NodeLoop) => Promise<void>;
}

/**
 * `clawos node run`: watch the inboxes of the served nodes, claim, run each task on
 * the node's own gateway, heartbeat. With coordinator duties it also reaps expired
 * leases, finishes interrupted moves and re-routes `any` tasks away from dead nodes.
 */
export async function runWorker(core: FederationCore, options: WorkerOptions): Promise<WorkerSummary> {
  // Nodes registered for this machine elsewhere (a hand-written hub file, a migration) become its own.
  const taken = await core.registryWriter().takeOverHanded();
  for (const t of taken) options.log(`took over node ${t.id}, registered by ${t.tookOverFrom}`);
  if (taken.length) await core.refreshRegistry();
  const served = servedNodes(core, options);
  const summary: WorkerSummary = { completed: 0, failed: 0, requeued: 0 };
  const startedAt = new Date().toISOString();
  const loops: NodeLoop[] = served.map((id) => ({ id, running: new Map(), gatewayUp: true }));
  const log = options.log;
  const heartbeat = (loop: NodeLoop, state: NodeStatusRecord["state"]) =>
    writeHeartbeat(core, loop, state, {
      startedAt,
      summary,
      log,
      ...(options.tail ? { recentLog: (node: string) => options.tail?.forNode(node, served) ?? [] } : {}),
    });
  const worker: Worker = {
    core,
    options,
    loops,
    claims: new ClaimLoop(core, loops, options, summary, heartbeat),
    duties: new CoordinatorDuties(core, options),
    heartbeat,
    probe: (loop) => probeGateway(core, loop, log),
  };

  await worker.duties.recoverAtStart();
  await Promise.all(loops.map(worker.probe));
  await Promise.all(loops.map((l) => heartbeat(l, "running")));
  log(
    `worker started on ${core.machine}: serving ${served.join(", ") || "no nodes"}${options.coordinator === "auto" ? " + coordinator duties while it holds the lease" : options.coordinator ? " + coordinator duties" : ""}; blackboard ${core.blackboard.location}`,
  );
  if (options.once) await runOnce(worker);
  else await runUntilStopped(worker);
  return summary;
}

/**
 * The nodes to serve (checked: each exists, has a gateway port, and is this machine's or
 * adopted). Without names: the nodes whose `machine` is this one, never another machine's,
 * whatever their transport says.
 */
function servedNodes(core: FederationCore, options: WorkerOptions): string[] {
  const served = options.nodes.length
    ? options.nodes.map((id) => core.node(id).id)
    : core.nodes.filter((n) => n.machine === core.machine && n.port !== null).map((n) => n.id);
  if (served.length === 0 && !options.coordinator) {
    throw new UserError(`No node lives on this machine (${core.machine}), so there is nothing to serve.`, {
      hint: "register one here (clawos init, or clawos nodes add ID --port N), or name one with --node ID",
    });
  }
  for (const id of served) {
    const node = core.node(id);
    // Two workers on two machines would claim the same inbox and each run with its own gateway:
    // serving another machine's node is a decision, never a default. One line: it says it all.
    if (node.machine !== core.machine && !options.adopt)
      throw new UserError(
        `Node ${id} belongs to machine ${node.machine}, not this one (${core.machine}): run its worker there, or add --adopt to serve it from here.`,
      );
    if (node.port === null)
      throw new UserError(`Node ${id} is planned (no gateway port yet); it cannot run tasks.`);
  }
  return served;
}

/** `--once`: one round of duties, then claim until every inbox is empty and nothing runs. */
async function runOnce({ options, loops, claims, duties, heartbeat }: Worker): Promise<void> {
  if (options.coordinator) await duties.coordinate();
  const onStop = () => {
    claims.stopping = true;
  };
  options.stop.addEventListener("abort", onStop, { once: true });
  if (options.stop.aborted) onStop();
  claims.wakeAll();
  const draining = claims.drain();
  // A stop during --once: claim nothing more and give the running tasks their grace, as below.
  await Promise.race([draining, abortedPromise(options.stop)]);
  options.stop.removeEventListener("abort", onStop);
  if (claims.stopping) await claims.finishRunning();
  await draining;
  await Promise.all(loops.map((l) => heartbeat(l, "stopped")));
}

/** Watch, rescan, probe and coordinate on timers until `stop`; then hand over and say "stopped". */
async function runUntilStopped(worker: Worker): Promise<void> {
  const { core, options, loops, claims, duties, heartbeat } = worker;
  const timing = core.config.timing;
  const unwatch = loops.map((loop) =>
    core.blackboard.watch({ inboxOf: loop.id }, () => void claims.wake(loop)),
  );
  const timers: NodeJS.Timeout[] = [];
  timers.push(setInterval(() => claims.wakeAll(), timing.rescanMs));
  timers.push(
    setInterval(() => {
      for (const loop of loops) {
        void worker.probe(loop).then(() => {
          void heartbeat(loop, "running");
          void claims.wake(loop);
        });
      }
    }, timing.heartbeatMs),
  );
  if (options.coordinator) timers.push(duties.startTimer());
  claims.wakeAll();

  await abortedPromise(options.stop);
  claims.stopping = true;
  for (const t of timers) clearInterval(t);
  for (const u of unwatch) u();
  await claims.finishRunning();
  await Promise.all(loops.map((l) => heartbeat(l, "stopped")));
  await duties.releaseLease();
  options.log("worker stopped");
}

function abortedPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
