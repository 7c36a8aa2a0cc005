import { AlertRunner } from "./alert-runner.js";
import { handOver } from "./drain.js";
import type { FederationCore } from "./federation.js";
import type { WorkerOptions } from "./worker.js";

/**
 * A worker's coordinator duties: reap expired leases, quarantine malformed records, finish
 * interrupted moves and cancels, and re-route `any` tasks away from dead nodes. In "auto" mode
 * only while this worker holds the blackboard's coordinator lease.
 */
export class CoordinatorDuties {
  /** This worker holds the coordinator lease ("auto" mode). */
  private leading = false;
  private readonly holder: string;
  /** `alerts` in federation.json: sent by whoever does these duties, so by one machine. */
  readonly alerts: AlertRunner;

  constructor(
    private readonly core: FederationCore,
    private readonly options: Pick<WorkerOptions, "coordinator" | "log">,
  ) {
    this.holder = `${core.machine}:${process.pid}`;
    this.alerts = new AlertRunner(core, options.log);
  }

  /** At start: finish what a coordinator left half done, if this worker may coordinate. */
  async recoverAtStart(): Promise<void> {
    if (this.options.coordinator && (await this.mayCoordinate())) {
      for (const note of await this.core.blackboard.coordinator().recover())
        this.options.log(`coordinator: ${note}`);
    }
  }

  /** One round of the duties (every leaseMs/3 while the worker runs). */
  async coordinate(): Promise<void> {
    if (!(await this.mayCoordinate())) return;
    const { log } = this.options;
    const leaseMs = this.core.config.timing.leaseMs;
    const duties = this.core.blackboard.coordinator();
    for (const expired of await duties.reapExpired(leaseMs)) {
      log(`coordinator: lease of ${expired.id} on ${expired.node} expired → ${expired.outcome}`);
    }
    for (const moved of await duties.quarantineMalformed()) log(`coordinator: quarantined ${moved}`);
    for (const note of await duties.recover()) log(`coordinator: ${note}`);
    await this.rerouteStuck();
    await this.alerts
      .round()
      .catch((error: unknown) =>
        log(`coordinator: alerts: ${error instanceof Error ? error.message : String(error)}`),
      );
  }

  /** Runs coordinate() every leaseMs/3, one round at a time. */
  startTimer(): NodeJS.Timeout {
    let busy = false;
    return setInterval(
      () => {
        if (busy) return;
        busy = true;
        this.coordinate()
          .catch((error: unknown) =>
            this.options.log(`coordinator: ${error instanceof Error ? error.message : String(error)}`),
          )
          .finally(() => {
            busy = false;
          });
      },
      Math.max(250, Math.floor(this.core.config.timing.leaseMs / 3)),
    );
  }

  /** At stop: another worker takes the coordinator's duties over at once instead of after a whole lease. */
  async releaseLease(): Promise<void> {
    await this.alerts.settled();
    if (!this.leading) return;
    const { log } = this.options;
    await this.core.blackboard
      .releaseCoordinatorLease()
      .then(() => log("coordinator: gave the coordinator lease up"))
      .catch((error: unknown) => log(`coordinator: lease not given up (${String(error)})`));
  }

  /** May this worker do coordinator duties now? (Takes or renews the lease in "auto" mode.) */
  private async mayCoordinate(): Promise<boolean> {
    if (this.options.coordinator !== "auto") return this.options.coordinator;
    const held = await this.core.blackboard.coordinatorLease(this.holder, this.core.config.timing.leaseMs);
    if (held !== this.leading)
      this.options.log(
        held ? "coordinator: took the coordinator lease" : "coordinator: lease held elsewhere",
      );
    this.leading = held;
    if (!held) this.alerts.forget();
    return held;
  }

  private async rerouteStuck(): Promise<void> {
    const { core } = this;
    const { blackboard } = core;
    const { log } = this.options;
    const listing = await blackboard.list({ finishedLimit: 0, activeOnly: true });
    // A cancel interrupted between its marker and its move: finish it.
    for (const t of listing.tasks.filter((t) => t.state === "pending" && t.cancelRequested)) {
      await blackboard.requestCancel(t.request.id).catch(() => {});
      log(`coordinator: finished cancelling ${t.request.id}`);
    }
    // A draining node's waiting `any` tasks move at once (those that arrived after the drain).
    const draining = new Set(
      [...core.registry.cordons].filter(([, c]) => c.state === "draining").map(([id]) => id),
    );
    const stuck = listing.tasks.filter(
      (t) =>
        t.state === "pending" &&
        t.request.target === "any" &&
        !t.cancelRequested &&
        (draining.has(t.node) ||
          Date.now() - Date.parse(t.request.route.decidedAt) > core.config.timing.rerouteAfterMs),
    );
    if (stuck.length === 0) return;
    const { routable } = await core.nodeViews({ probe: true });
    for (const task of stuck) {
      const here = routable.find((n) => n.config.id === task.node);
      // Online but over its daily budget, or draining, is stuck too: another node may take it.
      if (here?.status === "online" && !here.overBudget && !draining.has(task.node)) continue;
      const outcome = await handOver(core, task, routable);
      if ("to" in outcome)
        log(`coordinator: re-routed ${task.request.id} from ${task.node} to ${outcome.to}`);
    }
  }
}
