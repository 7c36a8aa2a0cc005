import { UserError } from "../domain/errors.js";
import { routeTask } from "../domain/router.js";
import type { NodeStatusRecord } from "../domain/schema.js";
import { routeOf } from "../infra/config.js";
import { VERSION } from "../infra/version.js";
import type { FederationCore } from "./federation.js";
import { type RunOutcome, runClaim } from "./task-runner.js";

export interface WorkerOptions {
  /** Nodes this worker serves; empty = every node that lives on this machine. */
  nodes: string[];
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
  stop: AbortSignal;
}

export interface WorkerSummary {
  completed: number;
  failed: number;
  requeued: number;
}

interface NodeLoop {
  id: string;
  running: Map<string, Promise<RunOutcome>>;
  gatewayUp: boolean;
  gatewayError?: string;
  latencyMs?: number;
  lastProgressAt?: string;
  /** The heartbeat writes of this node, chained (see heartbeat()). */
  heartbeats?: Promise<void>;
  /** The "stopped" heartbeat has been asked for: nothing is written after it. */
  stopped?: boolean;
}

/**
 * `clawos node run`: watch the inboxes of the served nodes, claim, run each task on
 * the node's own gateway, heartbeat. With coordinator duties it also reaps expired
 * leases, finishes interrupted moves and re-routes `any` tasks away from dead nodes.
 */
export async function runWorker(core: FederationCore, options: WorkerOptions): Promise<WorkerSummary> {
  const { blackboard, config } = core;
  const timing = config.timing;
  const served = options.nodes.length
    ? options.nodes.map((id) => core.node(id).id)
    : core.nodes.filter((n) => routeOf(n, core.machine) === "localhost").map((n) => n.id);
  if (served.length === 0 && !options.coordinator) {
    throw new UserError(`No node lives on this machine (${core.machine}), so there is nothing to serve.`, {
      hint: "name one with --node ID, or set the node's machine in federation.json",
    });
  }
  for (const id of served) {
    if (core.node(id).port === null)
      throw new UserError(`Node ${id} is planned (no gateway port yet); it cannot run tasks.`);
  }
  const summary: WorkerSummary = { completed: 0, failed: 0, requeued: 0 };
  const startedAt = new Date().toISOString();
  const runAbort = new AbortController();
  const loops: NodeLoop[] = served.map((id) => ({ id, running: new Map(), gatewayUp: true }));
  const log = options.log;
  let stopping = false;

  const heartbeat = async (loop: NodeLoop, state: NodeStatusRecord["state"]) => {
    // "stopped" is a worker's last word: a probe or task that finishes after it must not undo it.
    if (loop.stopped) return;
    if (state === "stopped") loop.stopped = true;
    const record: NodeStatusRecord = {
      schema: "clawos.node-status/1",
      node: loop.id,
      machine: core.machine,
      pid: process.pid,
      version: VERSION,
      startedAt,
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
    };
    // One write at a time per node, in the order asked: a "running" heartbeat still being flushed
    // must never land after the final "stopped" one.
    loop.heartbeats = (loop.heartbeats ?? Promise.resolve()).then(() =>
      blackboard
        .writeNodeStatus(record)
        .catch((error: unknown) => log(`heartbeat for ${loop.id} not written: ${String(error)}`)),
    );
    await loop.heartbeats;
  };

  const probe = async (loop: NodeLoop) => {
    const result = await core.probe(loop.id);
    const wasUp = loop.gatewayUp;
    loop.gatewayUp = result.ok;
    loop.latencyMs = result.latencyMs;
    loop.gatewayError = result.ok ? undefined : result.error;
    if (wasUp !== result.ok)
      log(result.ok ? `${loop.id}: gateway is back` : `${loop.id}: gateway down: ${result.error}`);
  };

  const pump = async (loop: NodeLoop) => {
    while (!stopping && loop.gatewayUp && loop.running.size < options.concurrency) {
      const claim = await blackboard.claim(loop.id);
      if (!claim) return;
      const { request } = claim;
      log(
        `${loop.id}: claimed ${request.id} (${request.priority}, attempt ${request.attempt}/${request.maxAttempts})`,
      );
      const gateway = await core.gateway(loop.id);
      const run = runClaim(blackboard, claim, gateway, {
        leaseMs: timing.leaseMs,
        signal: runAbort.signal,
        onDelta: () => {
          loop.lastProgressAt = new Date().toISOString();
        },
      }).then(
        (outcome) => {
          loop.running.delete(request.id);
          if (outcome.kind === "completed") summary.completed++;
          else if (outcome.kind === "failed" || outcome.kind === "cancelled") summary.failed++;
          else if (outcome.kind === "requeued") {
            // "dead": its last attempt failed, so the task failed for good rather than went back.
            if (outcome.outcome === "dead") summary.failed++;
            else summary.requeued++;
            // Stop claiming until a probe says the gateway is back: no retry loop on a dead gateway.
            loop.gatewayUp = false;
            loop.gatewayError = outcome.error.message;
          } else summary.requeued++; // "lost": the coordinator already handed it out again
          log(`${loop.id}: ${request.id} ${describeOutcome(outcome)}`);
          void heartbeat(loop, stopping ? "stopping" : "running");
          if (!stopping) void wake(loop);
          return outcome;
        },
        (error: unknown): RunOutcome => {
          // The blackboard refused a write (a full disk, say). Never crash the worker: the claim
          // stays behind unrenewed, its lease runs out and the coordinator hands the task out again.
          loop.running.delete(request.id);
          summary.requeued++;
          log(
            `${loop.id}: ${request.id} outcome not recorded (${error instanceof Error ? error.message : String(error)}); it is handed out again when its lease expires`,
          );
          void heartbeat(loop, stopping ? "stopping" : "running");
          if (!stopping) void wake(loop);
          return { kind: "lost" };
        },
      );
      loop.running.set(request.id, run);
    }
  };

  const pumping = new Map<string, Promise<void>>();
  const wake = (loop: NodeLoop): Promise<void> => {
    const current = pumping.get(loop.id);
    if (current) return current;
    const p = pump(loop)
      .catch((error: unknown) => log(`${loop.id}: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => pumping.delete(loop.id));
    pumping.set(loop.id, p);
    return p;
  };

  /**
   * Until nothing runs and nothing is being claimed: a finished task wakes its node's pump,
   * which may claim the next one, so one pass over `running` is not enough.
   */
  const drain = async () => {
    for (;;) {
      const busy = [...pumping.values(), ...loops.flatMap((l) => [...l.running.values()])];
      if (busy.length === 0) return;
      await Promise.allSettled(busy);
    }
  };

  /** After a stop: running tasks get the grace, then are handed back. */
  const finishRunning = async () => {
    const running = loops.flatMap((l) => [...l.running.values()]);
    if (running.length === 0) return;
    const graceMs = options.graceMs;
    log(
      Number.isFinite(graceMs)
        ? `stopping: waiting up to ${Math.round(graceMs / 1000)} s for ${running.length} running task(s)`
        : `stopping: waiting for ${running.length} running task(s) to finish`,
    );
    // setTimeout cannot wait forever (Infinity becomes 1 ms): no timer at all then.
    const grace = Number.isFinite(graceMs) ? setTimeout(() => runAbort.abort(), graceMs) : undefined;
    const handBack = () => runAbort.abort();
    options.handBack?.addEventListener("abort", handBack, { once: true });
    if (options.handBack?.aborted) handBack();
    await drain(); // also a task a pump was claiming when the stop came
    clearTimeout(grace);
    options.handBack?.removeEventListener("abort", handBack);
  };

  const holder = `${core.machine}:${process.pid}`;
  let leading = false;
  /** May this worker do coordinator duties now? (Takes or renews the lease in "auto" mode.) */
  const mayCoordinate = async (): Promise<boolean> => {
    if (options.coordinator !== "auto") return options.coordinator;
    const held = await blackboard.coordinatorLease(holder, timing.leaseMs);
    if (held !== leading)
      log(held ? "coordinator: took the coordinator lease" : "coordinator: lease held elsewhere");
    leading = held;
    return held;
  };

  const coordinate = async () => {
    if (!(await mayCoordinate())) return;
    const duties = blackboard.coordinator();
    for (const expired of await duties.reapExpired(timing.leaseMs)) {
      log(`coordinator: lease of ${expired.id} on ${expired.node} expired → ${expired.outcome}`);
    }
    for (const moved of await duties.quarantineMalformed()) log(`coordinator: quarantined ${moved}`);
    for (const note of await duties.recover()) log(`coordinator: ${note}`);
    await rerouteStuck();
  };

  const rerouteStuck = async () => {
    const listing = await blackboard.list({ finishedLimit: 0, activeOnly: true });
    // A cancel interrupted between its marker and its move: finish it.
    for (const t of listing.tasks.filter((t) => t.state === "pending" && t.cancelRequested)) {
      await blackboard.requestCancel(t.request.id).catch(() => {});
      log(`coordinator: finished cancelling ${t.request.id}`);
    }
    const stuck = listing.tasks.filter(
      (t) =>
        t.state === "pending" &&
        t.request.target === "any" &&
        Date.now() - Date.parse(t.request.route.decidedAt) > timing.rerouteAfterMs,
    );
    if (stuck.length === 0) return;
    const { routable } = await core.nodeViews({ probe: true });
    for (const task of stuck) {
      const here = routable.find((n) => n.config.id === task.node);
      if (here?.status === "online") continue;
      try {
        const next = routeTask(
          { target: "any", priority: task.request.priority, tags: task.request.tags, exclude: [task.node] },
          routable,
        );
        if (next.waiting || next.decision.node === task.node) continue;
        const moved = await blackboard.coordinator().reroutePending(task.request.id, task.node, {
          ...next.decision,
          decidedAt: new Date().toISOString(),
        });
        if (moved)
          log(`coordinator: re-routed ${task.request.id} from ${task.node} to ${next.decision.node}`);
      } catch {
        // No eligible node right now: it keeps waiting.
      }
    }
  };

  if (options.coordinator && (await mayCoordinate())) {
    for (const note of await blackboard.coordinator().recover()) log(`coordinator: ${note}`);
  }
  await Promise.all(loops.map(probe));
  await Promise.all(loops.map((l) => heartbeat(l, "running")));
  log(
    `worker started on ${core.machine}: serving ${served.join(", ") || "no nodes"}${options.coordinator === "auto" ? " + coordinator duties while it holds the lease" : options.coordinator ? " + coordinator duties" : ""}; blackboard ${blackboard.location}`,
  );

  if (options.once) {
    if (options.coordinator) await coordinate();
    const onStop = () => {
      stopping = true;
    };
    options.stop.addEventListener("abort", onStop, { once: true });
    if (options.stop.aborted) onStop();
    loops.forEach((l) => void wake(l));
    const draining = drain();
    // A stop during --once: claim nothing more and give the running tasks their grace, as below.
    await Promise.race([draining, abortedPromise(options.stop)]);
    options.stop.removeEventListener("abort", onStop);
    if (stopping) await finishRunning();
    await draining;
    await Promise.all(loops.map((l) => heartbeat(l, "stopped")));
    return summary;
  }

  const unwatch = loops.map((loop) => blackboard.watch({ inboxOf: loop.id }, () => void wake(loop)));
  const timers: NodeJS.Timeout[] = [];
  timers.push(setInterval(() => loops.forEach((l) => void wake(l)), timing.rescanMs));
  timers.push(
    setInterval(() => {
      for (const loop of loops) {
        void probe(loop).then(() => {
          void heartbeat(loop, "running");
          void wake(loop);
        });
      }
    }, timing.heartbeatMs),
  );
  if (options.coordinator) {
    let busy = false;
    timers.push(
      setInterval(
        () => {
          if (busy) return;
          busy = true;
          coordinate()
            .catch((error: unknown) =>
              log(`coordinator: ${error instanceof Error ? error.message : String(error)}`),
            )
            .finally(() => {
              busy = false;
            });
        },
        Math.max(250, Math.floor(timing.leaseMs / 3)),
      ),
    );
  }
  loops.forEach((l) => void wake(l));

  await abortedPromise(options.stop);
  stopping = true;
  for (const t of timers) clearInterval(t);
  for (const u of unwatch) u();
  await finishRunning();
  await Promise.all(loops.map((l) => heartbeat(l, "stopped")));
  if (leading) {
    // Another worker takes the coordinator's duties over at once instead of after a whole lease.
    await blackboard
      .releaseCoordinatorLease()
      .then(() => log("coordinator: gave the coordinator lease up"))
      .catch((error: unknown) => log(`coordinator: lease not given up (${String(error)})`));
  }
  log("worker stopped");
  return summary;
}

function abortedPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

function describeOutcome(outcome: RunOutcome): string {
  switch (outcome.kind) {
    case "completed":
      return "completed";
    case "failed":
      return `failed: ${outcome.result.error?.message ?? "unknown error"}`;
    case "cancelled":
      return "cancelled";
    case "lost":
      return "lost its lease (the coordinator gave it to another attempt); result discarded";
    case "requeued":
      return `attempt failed (${outcome.error.message}) → ${outcome.outcome}`;
  }
}
