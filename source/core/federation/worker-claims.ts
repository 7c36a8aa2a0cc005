import { count } from "../domain/plural.js";
import { nextNodeFor } from "../domain/router.js";
import type { NodeStatusRecord, TaskRequest } from "../domain/schema.js";
import type { FederationCore } from "./federation.js";
import { type RunOutcome, runClaim } from "./task-runner.js";
import { budgetStop } from "./usage-views.js";
import type { WorkerOptions, WorkerSummary } from "./worker.js";
import type { NodeLoop } from "./worker-node.js";

/** How long a budget reading is reused by the claim loop. */
const BUDGET_READ_MS = 1000;

/**
 * The claim loop of a worker: each served node claims from its inbox while its gateway is up and
 * it has room, runs what it claimed, and counts the outcome. At most one pump runs per node.
 */
export class ClaimLoop {
  /** Set once the worker stops: nothing more is claimed. */
  stopping = false;
  /** Fired when running tasks are to be handed back (grace over, or asked to). */
  private readonly runAbort = new AbortController();
  private readonly pumping = new Map<string, Promise<void>>();

  constructor(
    private readonly core: FederationCore,
    private readonly loops: NodeLoop[],
    private readonly options: WorkerOptions,
    private readonly summary: WorkerSummary,
    private readonly heartbeat: (loop: NodeLoop, state: NodeStatusRecord["state"]) => Promise<void>,
  ) {}

  wake(loop: NodeLoop): Promise<void> {
    const current = this.pumping.get(loop.id);
    if (current) return current;
    const p = this.pump(loop)
      .catch((error: unknown) =>
        this.options.log(`${loop.id}: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => this.pumping.delete(loop.id));
    this.pumping.set(loop.id, p);
    return p;
  }

  wakeAll(): void {
    this.loops.forEach((l) => void this.wake(l));
  }

  /**
   * Until nothing runs and nothing is being claimed: a finished task wakes its node's pump,
   * which may claim the next one, so one pass over `running` is not enough.
   */
  async drain(): Promise<void> {
    for (;;) {
      const busy = [...this.pumping.values(), ...this.loops.flatMap((l) => [...l.running.values()])];
      if (busy.length === 0) return;
      await Promise.allSettled(busy);
    }
  }

  /** After a stop: running tasks get the grace, then are handed back. */
  async finishRunning(): Promise<void> {
    const { options, runAbort } = this;
    const running = this.loops.flatMap((l) => [...l.running.values()]);
    if (running.length === 0) return;
    const graceMs = options.graceMs;
    options.log(
      Number.isFinite(graceMs)
        ? `stopping: waiting up to ${Math.round(graceMs / 1000)} s for ${count(running.length, "running task")}`
        : `stopping: waiting for ${count(running.length, "running task")} to finish`,
    );
    // setTimeout cannot wait forever (Infinity becomes 1 ms): no timer at all then.
    const grace = Number.isFinite(graceMs) ? setTimeout(() => runAbort.abort(), graceMs) : undefined;
    const handBack = () => runAbort.abort();
    options.handBack?.addEventListener("abort", handBack, { once: true });
    if (options.handBack?.aborted) handBack();
    await this.drain(); // also a task a pump was claiming when the stop came
    clearTimeout(grace);
    options.handBack?.removeEventListener("abort", handBack);
  }

  private async pump(loop: NodeLoop): Promise<void> {
    const { core, options } = this;
    while (!this.stopping && loop.gatewayUp && loop.running.size < options.concurrency) {
      // Over its daily budget: its tasks stay pending until the day turns or the cap is raised.
      if (await this.overBudget(loop)) return;
      const claim = await core.blackboard.claim(loop.id);
      if (!claim) return;
      const { request } = claim;
      options.log(
        `${loop.id}: claimed ${request.id} (${request.priority}, attempt ${request.attempt}/${request.maxAttempts})`,
      );
      const gateway = await core.gateway(loop.id);
      const run = runClaim(core.blackboard, claim, gateway, {
        leaseMs: core.config.timing.leaseMs,
        signal: this.runAbort.signal,
        by: `the worker on ${core.machine} (pid ${process.pid})`,
        onDelta: () => {
          loop.lastProgressAt = new Date().toISOString();
        },
        // Claim nothing more for it until a probe says the gateway is back: the task this run
        // hands back would otherwise be claimed again before the run has ended.
        onRetryableFailure: (error) => {
          loop.gatewayUp = false;
          loop.gatewayError = error.message;
        },
        // An `any` task this node cannot run (its model has no key, say) goes to the next node.
        rerouteOnFailure: async () =>
          nextNodeFor(request, [loop.id], (await core.nodeViews({ probe: true })).routable),
      })
        .then((outcome) => core.noteTurn(loop.id, outcome))
        .then(
          (outcome) => this.recordOutcome(loop, request, outcome),
          (error: unknown) => this.recordUnrecorded(loop, request, error),
        );
      loop.running.set(request.id, run);
    }
  }

  /** Whether the node's budget (or the federation's) is reached; logged once each time it is. */
  private async overBudget(loop: NodeLoop): Promise<boolean> {
    // The ledger (and, for a federation cap, every heartbeat) is read at most once a second per
    // node, not before every claim; a finished turn clears it, so this machine's own new usage
    // counts before its next claim.
    const now = Date.now();
    if (loop.budgetReadAt !== undefined && now - loop.budgetReadAt < BUDGET_READ_MS)
      return loop.budgetLine !== undefined;
    loop.budgetReadAt = now;
    const line = await budgetStop(this.core, loop.id);
    if (line && line !== loop.budgetLine) this.options.log(`${loop.id}: claims nothing more: ${line}`);
    loop.budgetLine = line;
    return line !== undefined;
  }

  private recordOutcome(loop: NodeLoop, request: TaskRequest, outcome: RunOutcome): RunOutcome {
    const { summary } = this;
    loop.running.delete(request.id);
    loop.budgetReadAt = undefined;
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
    this.options.log(`${loop.id}: ${request.id} ${describeOutcome(outcome)}`);
    this.afterRun(loop);
    return outcome;
  }

  /**
   * The blackboard refused a write (a full disk, say). Never crash the worker: the claim
   * stays behind unrenewed, its lease runs out and the coordinator hands the task out again.
   */
  private recordUnrecorded(loop: NodeLoop, request: TaskRequest, error: unknown): RunOutcome {
    loop.running.delete(request.id);
    this.summary.requeued++;
    this.options.log(
      `${loop.id}: ${request.id} outcome not recorded (${error instanceof Error ? error.message : String(error)}); it is handed out again when its lease expires`,
    );
    this.afterRun(loop);
    return { kind: "lost" };
  }

  /** A task ended: tell the blackboard, and claim the next one unless stopping. */
  private afterRun(loop: NodeLoop): void {
    void this.heartbeat(loop, this.stopping ? "stopping" : "running");
    if (!this.stopping) void this.wake(loop);
  }
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
      return outcome.attemptKept && outcome.outcome === "requeued"
        ? `did not start (${outcome.error.message}) → back in the inbox, attempt kept; claiming again once the gateway answers`
        : `attempt failed (${outcome.error.message}) → ${outcome.outcome}`;
  }
}
