import type { StoredTask } from "../blackboard/types.js";
import { describeError } from "../domain/errors.js";
import type {
  CordonAction,
  DispatchInput,
  DispatchOutcome,
  FederationApi,
  HandedBack,
  IncubateInput,
  IncubateStep,
  LogOptions,
  LogView,
  MachineWorker,
  MigrateInput,
  NodeView,
  Snapshot,
  TaskView,
} from "../domain/federation-types.js";
import type { NodeStatusRecord } from "../domain/schema.js";
import { routeOf } from "../infra/config.js";
import { displayPath } from "../infra/paths.js";
import { registerLocalProfiles } from "../ops/discover.js";
import { type EnsureWorkerResult, ensureWorker, findWorker } from "../ops/worker-autostart.js";
import { watchConfigFile } from "./config-watch.js";
import { cordonedBy, setCordon } from "./drain.js";
import { FederationCore } from "./federation.js";
import { FleetEventLog, fleetStateOf } from "./fleet-event-log.js";
import { LatencyHistory, withLatencyHistory } from "./latency-history.js";
import { streamNodeLog } from "./node-logs.js";
import { toTaskView } from "./views.js";
import { withMachineWorker, workerAbsence } from "./waiting.js";

const PROBE_EVERY_MS = 5_000;
/** This machine's worker is looked up again (pid file, service) at most this often. */
const WORKER_LOOK_MS = 2_000;
const MAX_BACKOFF_MS = 60_000;
/** On close, how long tasks running here get to be handed back before the process goes anyway. */
const HAND_BACK_MS = 5_000;
/** Finished tasks each snapshot holds, newest first (the rest are only counted). */
const FINISHED_SHOWN = 2_000;

/**
 * The facade the UI talks to: owns one immutable snapshot, rebuilds it when the
 * blackboard changes (coalesced), probes nodes on an interval with per-node
 * backoff, and never lets a hanging node block a refresh.
 */
export class LiveFederation implements FederationApi {
  private snapshot: Snapshot;
  private readonly listeners = new Set<(s: Snapshot) => void>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly nextProbeAt = new Map<string, number>();
  private readonly backoff = new Map<string, number>();
  private readonly probing = new Set<string>();
  private readonly latencies = new LatencyHistory();
  private unwatch: () => void = () => {};
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  /**
   * A task record the blackboard hands back unchanged (finished tasks are read once and
   * cached) keeps its view object, so the control center re-sorts only what changed.
   */
  private readonly views = new WeakMap<StoredTask, TaskView>();
  private lastError: string | undefined;
  private closed = false;
  private stopConfigWatch: () => void = () => {};
  private readonly runs = new Map<FederationCore, Set<Promise<unknown>>>();
  /** Aborted on close: localhost tasks still running in this process go back to their inbox. */
  private readonly stopRuns = new AbortController();
  private readonly handedBack: HandedBack[] = [];
  /** Localhost tasks running in this process now: id → node. */
  private readonly runningHere = new Map<string, string>();
  private worker: { at: number; found: MachineWorker } | undefined;
  /** Node transitions, failed tasks and budgets reached, seen between snapshots; `emit` takes others. */
  readonly events = new FleetEventLog();

  /** Until a snapshot with every shown finished task is out: how many the first one reads. */
  private firstFinished: number | undefined;

  private constructor(
    private core: FederationCore,
    private readonly home: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.snapshot = {
      version: 0,
      updatedAt: new Date().toISOString(),
      machine: core.machine,
      blackboardLocation: displayPath(core.blackboard.location, env),
      nodes: [],
      tasks: [],
      counts: { pending: 0, claimed: 0, running: 0, completed: 0, failed: 0, cancelled: 0 },
      problems: [],
    };
  }

  /**
   * `waitForFirstRead: false` returns at once with an empty version-0 snapshot (the UI shows
   * "Reading the federation…") and publishes the real one when the first read is done.
   * `firstFinished`: the snapshots before the first subscriber read only this many finished
   * tasks (what a screen shows; the counts still cover all of them), and the read after it
   * brings the older ones in below them: a long history holds up neither the first frame
   * nor the loading of the screen.
   */
  static async open(
    home: string,
    env: NodeJS.ProcessEnv = process.env,
    options: { waitForFirstRead?: boolean; firstFinished?: number } = {},
  ): Promise<LiveFederation> {
    const live = new LiveFederation(await FederationCore.open(home, { env }), home, env);
    if (options.firstFinished !== undefined && options.firstFinished < FINISHED_SHOWN)
      live.firstFinished = Math.max(0, options.firstFinished);
    const first = live.reload();
    if (options.waitForFirstRead !== false) await first;
    live.start();
    return live;
  }

  private start(): void {
    this.unwatch = this.core.blackboard.watch({ everything: true }, () => this.scheduleReload());
    // Without watching (some filesystems), the registry is read again on R (refresh).
    this.stopConfigWatch = watchConfigFile(this.home, () => {
      if (!this.closed) this.reopen().catch((error: unknown) => this.fail(error));
    });
    this.timers.push(setInterval(() => this.scheduleReload(), this.core.config.timing.rescanMs));
    this.timers.push(setInterval(() => this.probeDue(), 1_000));
    this.probeDue();
  }

  getSnapshot(): Snapshot {
    return this.snapshot;
  }

  subscribe(listener: (snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    // The screen is up (it subscribes once drawn): the older finished tasks are read now, not
    // while it loads, which they would slow down.
    if (this.firstFinished !== undefined && this.snapshot.version > 0) {
      this.firstFinished = undefined;
      this.scheduleReload(0);
    }
    return () => this.listeners.delete(listener);
  }

  /** Many file events in a burst become one reload. */
  private scheduleReload(delayMs = 50): void {
    if (this.closed || this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      void this.reload();
    }, delayMs);
  }

  private async reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        const finishedLimit = this.firstFinished ?? FINISHED_SHOWN;
        try {
          // One listing of the registry per refresh: every machine's nodes, as their owners wrote them.
          const [listing, statuses, registry] = await Promise.all([
            this.core.blackboard.list({ finishedLimit }),
            this.core.blackboard.readNodeStatuses(),
            this.core.refreshRegistry(),
          ]);
          const inFlight = new Map<string, number>();
          for (const t of listing.tasks) {
            if (t.state === "pending" || t.state === "claimed" || t.state === "running")
              inFlight.set(t.node, (inFlight.get(t.node) ?? 0) + 1);
          }
          const { views, usage } = await this.core.nodeViews({ heartbeats: statuses.records, inFlight });
          const worker = await this.machineWorker(statuses.records);
          const served = withMachineWorker(views, this.core.machine, worker);
          this.publish({
            worker,
            nodes: withLatencyHistory(withSshTargets(served, this.core.nodes), this.latencies, (v) =>
              this.sampledAt(v),
            ),
            tasks: listing.tasks.map((task) => this.viewOf(task)),
            counts: listing.counts,
            problems: [...listing.problems, ...statuses.problems, ...registry.problems],
            usage,
          });
          if (this.firstFinished !== undefined && this.listeners.size > 0) {
            this.firstFinished = undefined;
            this.reloadAgain = true;
          }
        } catch (error) {
          this.fail(error);
        }
      } while (this.reloadAgain && !this.closed);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  /** This machine's worker, looked up again when the last look is over WORKER_LOOK_MS old. */
  private async machineWorker(heartbeats: readonly NodeStatusRecord[]): Promise<MachineWorker> {
    const now = Date.now();
    if (!this.worker || now - this.worker.at > WORKER_LOOK_MS) {
      const found = await findWorker(this.home, this.env, { core: this.core, heartbeats });
      this.worker = { at: now, found };
    }
    return this.worker.found;
  }

  /** The control center's start: make sure this machine's worker runs (see ensureWorker). */
  async ensureWorker(): Promise<EnsureWorkerResult> {
    const result = await ensureWorker(this.home, this.env, { core: this.core });
    this.worker = { at: Date.now(), found: result.worker };
    this.scheduleReload();
    return result;
  }

  /** When a node's latency was measured: its last probe from here, else the heartbeat that carried it. */
  private sampledAt(view: NodeView): number | undefined {
    return this.core.lastProbe(view.id)?.checkedAt ?? Date.parse(view.lastHeartbeatAt ?? "");
  }

  private viewOf(task: StoredTask): TaskView {
    let view = this.views.get(task);
    if (!view) {
      view = toTaskView(task);
      this.views.set(task, view);
    }
    return view;
  }

  private publish(
    part: Pick<Snapshot, "nodes" | "tasks" | "counts" | "problems" | "worker" | "usage">,
  ): void {
    const updatedAt = new Date().toISOString();
    this.events.observe(fleetStateOf({ ...part, updatedAt }));
    this.snapshot = {
      ...this.snapshot,
      ...part,
      version: this.snapshot.version + 1,
      updatedAt,
      events: this.events.recent,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
    for (const l of this.listeners) l(this.snapshot);
  }

  private fail(error: unknown): void {
    this.lastError = describeError(error).split("\n")[0];
    this.snapshot = { ...this.snapshot, version: this.snapshot.version + 1, lastError: this.lastError };
    for (const l of this.listeners) l(this.snapshot);
  }

  /** Probe each localhost node when due; a node that keeps failing is probed less often. */
  private probeDue(force = false): void {
    const now = Date.now();
    for (const node of this.core.nodes) {
      if (routeOf(node, this.core.machine) !== "localhost" || this.probing.has(node.id)) continue;
      if (!force && (this.nextProbeAt.get(node.id) ?? 0) > now) continue;
      this.probing.add(node.id);
      void this.core
        .probe(node.id)
        .then((result) => {
          const delay = result.ok
            ? PROBE_EVERY_MS
            : Math.min(MAX_BACKOFF_MS, (this.backoff.get(node.id) ?? PROBE_EVERY_MS / 2) * 2);
          this.backoff.set(node.id, result.ok ? PROBE_EVERY_MS / 2 : delay);
          this.nextProbeAt.set(node.id, Date.now() + delay);
        })
        .finally(() => {
          this.probing.delete(node.id);
          this.scheduleReload();
        });
    }
  }

  async dispatch(input: DispatchInput): Promise<DispatchOutcome> {
    const core = this.core;
    // A task that waits (its gateway is down, say) needs this machine's worker: make sure one
    // runs, as the CLI does. It runs a localhost task too (it outlives the control center);
    // only without one, or on the SSH route, does the task run inside this process.
    const { worker } = await this.ensureWorker();
    const dispatched = await core.dispatch(
      { text: input.text, to: input.to, priority: input.priority },
      { signal: this.stopRuns.signal, runHere: !worker.running },
    );
    // Its progress reaches the screen through the blackboard either way.
    if (dispatched.run) {
      const runs = this.runs.get(core) ?? new Set<Promise<unknown>>();
      this.runs.set(core, runs);
      const { id } = dispatched.request;
      this.runningHere.set(id, dispatched.request.route.node);
      const run = dispatched.run
        .then(async (outcome) => {
          if (outcome.kind === "requeued" && outcome.outcome === "requeued" && this.stopRuns.signal.aborted) {
            // It may have moved on to another node before it was stopped: name the inbox it is in.
            const now = await core.blackboard.get(id).catch(() => undefined);
            const node = now?.node ?? dispatched.request.route.node;
            const view = this.snapshot.nodes.find((n) => n.id === node);
            // The same judgement as the waiting hints: its worker reports, runs and reaches its gateway.
            const served = view !== undefined && workerAbsence(view, Date.now()) === undefined;
            this.handedBack.push({ id, node, ...(served ? { served: true } : {}) });
          }
        })
        .catch((error: unknown) => this.fail(error))
        .finally(() => {
          this.runningHere.delete(id);
          runs.delete(run);
          this.scheduleReload();
        });
      runs.add(run);
    }
    this.scheduleReload(0);
    return { id: dispatched.request.id, decision: dispatched.request.route };
  }

  async retry(id: string): Promise<void> {
    await this.ensureWorker();
    await this.core.blackboard.retry(id);
    this.scheduleReload(0);
  }

  async cancel(id: string): Promise<void> {
    await this.core.blackboard.requestCancel(id);
    this.scheduleReload(0);
  }

  logs(node: string, options: LogOptions, onLines: (view: LogView) => void): Promise<void> {
    // Closing the facade stops every log it follows.
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.stopRuns.signal])
      : this.stopRuns.signal;
    return streamNodeLog(this.core, node, { ...options, signal }, onLines);
  }

  async refresh(): Promise<void> {
    await this.reopen();
  }

  async discover(): Promise<string[]> {
    const report = await registerLocalProfiles(this.home, this.env);
    await this.reopen();
    return report.added;
  }

  async incubate(
    input: IncubateInput,
    onStep: (step: IncubateStep) => void,
  ): Promise<{ node: string; port: number; cannotAnswer?: string }> {
    const { incubate } = await import("../ops/incubate.js");
    const result = await incubate(
      this.home,
      this.env,
      {
        name: input.name,
        ...(input.port !== undefined ? { port: input.port } : {}),
        start: Boolean(input.start),
        configOnly: Boolean(input.configOnly),
      },
      onStep,
    );
    await this.reopen();
    const turn = result.turn;
    return {
      node: result.node,
      port: result.port,
      ...(turn && !turn.ok
        ? { cannotAnswer: turn.hint ? `${turn.error} Fix: ${turn.hint}` : turn.error }
        : {}),
    };
  }

  async migrate(input: MigrateInput, onLine: (line: string) => void): Promise<void> {
    const { migrate, rollbackMigration } = await import("../ops/node-migration.js");
    if (input.rollback) await rollbackMigration(this.home, this.env, input.node, onLine);
    else {
      await migrate(
        this.home,
        this.env,
        {
          node: input.node,
          to: input.to,
          dryRun: Boolean(input.dryRun),
          ...(input.remotePort ? { remotePort: input.remotePort } : {}),
        },
        onLine,
      );
    }
    if (!input.dryRun) await this.reopen();
  }

  async nodeLifecycle(node: string, action: "start" | "stop" | "restart"): Promise<string[]> {
    const { runLifecycle } = await import("../ops/gateway-lifecycle.js");
    const outcomes = await runLifecycle(this.home, this.env, node, action);
    await this.refresh();
    return outcomes.map((o) => o.line);
  }

  async removeNode(node: string, options: { stop: boolean; purge: boolean }): Promise<string[]> {
    const { removeNodeWithGateway } = await import("../ops/node-removal.js");
    const lines = await removeNodeWithGateway(this.home, this.env, node, options);
    await this.reopen();
    return lines;
  }

  async cordon(node: string, action: CordonAction): Promise<string[]> {
    const lines = await setCordon(this.core, node, action, cordonedBy(this.env, this.core.machine));
    await this.reopen();
    return lines;
  }

  /** The registry changed on disk: reopen the core on the new config. */
  private async reopen(): Promise<void> {
    // Open the new one first: an invalid config leaves the old one working (and says why).
    const fresh = await FederationCore.open(this.home, { env: this.env });
    const old = this.core;
    this.unwatch();
    this.core = fresh;
    this.unwatch = this.core.blackboard.watch({ everything: true }, () => this.scheduleReload());
    this.retire(old);
    this.nextProbeAt.clear();
    this.probeDue(true);
    await this.reload();
  }

  /** Close a replaced core once the tasks it is running here have finished. */
  private retire(core: FederationCore): void {
    const pending = this.runs.get(core);
    if (!pending || pending.size === 0) void core.close();
    else void Promise.allSettled([...pending]).then(() => core.close());
  }

  /**
   * Stop watching and probing. Localhost tasks this process is still running are stopped and
   * handed back to their node's inbox (their worker runs them); returns those tasks.
   */
  async close(): Promise<HandedBack[]> {
    this.closed = true;
    this.stopRuns.abort();
    const running = [...this.runs.values()].flatMap((set) => [...set]);
    if (running.length) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(running),
        new Promise((resolve) => {
          timer = setTimeout(resolve, HAND_BACK_MS);
        }),
      ]);
      clearTimeout(timer);
      for (const [id, node] of this.runningHere) this.handedBack.push({ id, node, stillClaimed: true });
    }
    this.stopConfigWatch();
    for (const t of this.timers) clearInterval(t);
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.unwatch();
    this.listeners.clear();
    await this.core.close();
    return this.handedBack;
  }
}

/** The node's SSH target from its config, for the node action "migrate" to offer. */
function withSshTargets(
  views: NodeView[],
  nodes: readonly { id: string; ssh?: { target: string } }[],
): NodeView[] {
  if (!nodes.some((n) => n.ssh)) return views;
  const targets = new Map(nodes.flatMap((n) => (n.ssh ? [[n.id, n.ssh.target] as const] : [])));
  return views.map((v) => {
    const target = targets.get(v.id);
    return target ? { ...v, sshTarget: target } : v;
  });
}
