import { DirectoryBlackboard } from "../blackboard/directory/directory.js";
import type { Blackboard, Claim, StoredTask } from "../blackboard/types.js";
import { DAY_MS } from "../domain/durations.js";
import { UserError } from "../domain/errors.js";
import type { NodeView } from "../domain/federation-types.js";
import { computeNodeHealth, type ProbeResult } from "../domain/health.js";
import { isValidNodeId, newTaskId } from "../domain/ids.js";
import { nextNodeFor, type RoutableNode, routeTask } from "../domain/router.js";
import {
  MAX_TASK_TEXT,
  type NodeConfig,
  type NodeStatusRecord,
  PRIORITIES,
  type Priority,
  type TaskRequest,
} from "../domain/schema.js";
import type { TurnRecord } from "../domain/turn-health.js";
import {
  blackboardDir,
  type LoadedConfig,
  loadConfig,
  resolveToken,
  routeOf,
  thisMachine,
} from "../infra/config.js";
import { gatewayLogOf } from "../infra/openclaw-logs.js";
import { sanitizeLine } from "../infra/sanitize.js";
import { readTurnRecords, recordTurn } from "../infra/turn-records.js";
import { gatewayStartHere } from "../ops/openclaw-command.js";
import { GatewayClient, GatewayError } from "../transport/gateway-client.js";
import type { SshPool } from "../transport/ssh-route.js";
import { holdDeltas } from "./hold-deltas.js";
import { type RegistryConflict, type RegistryView, RegistryWriter, readRegistry } from "./registry.js";
import { upgradeLegacyNodes } from "./registry-upgrade.js";
import {
  type ChatRunner,
  type PublishingClaim,
  type RunOutcome,
  runClaim,
  turnFactOf,
} from "./task-runner.js";
import { noteUsage, readUsage, withUsage } from "./usage-views.js";
import { conflictView, nodeFactsOf } from "./views.js";
import { type WaitOptions, waitForTask } from "./wait-for-task.js";

/** How long a successful or failed probe stays good enough for routing. */
const PROBE_FRESH_MS = 2_000;

export interface DispatchRequest {
  text: string;
  to: string;
  priority: Priority;
  tags?: string[];
  /** Use a given id (idempotent re-dispatch); otherwise a new seed id. */
  id?: string;
}

export interface Dispatched {
  request: TaskRequest;
  created: boolean;
  waiting: boolean;
  /** Set when the task runs in this process (localhost route). */
  run?: Promise<RunOutcome>;
}

/** The blackboard federation.json names. The NATS client is loaded only when it is the one used. */
async function openBlackboard(
  loaded: LoadedConfig,
  env: NodeJS.ProcessEnv,
  options: { quarantine?: boolean },
): Promise<Blackboard> {
  const bb = loaded.config.blackboard;
  if (bb.driver === "nats") {
    const { NatsBlackboard } = await import("../blackboard/nats/nats.js");
    return new NatsBlackboard({
      servers: bb.servers,
      machine: thisMachine(loaded.config, env),
      ...(bb.domain ? { domain: bb.domain } : {}),
      ...(options.quarantine ? { quarantine: true } : {}),
      ...(bb.archiveAfterDays ? { archiveAfterMs: bb.archiveAfterDays * DAY_MS } : {}),
    });
  }
  return new DirectoryBlackboard(blackboardDir(loaded, env), {
    machine: thisMachine(loaded.config, env),
    ...(options.quarantine ? { quarantine: true } : {}),
    ...(bb.archiveAfterDays ? { archiveAfterMs: bb.archiveAfterDays * DAY_MS } : {}),
  });
}

/** Loads the config once and owns the blackboard and one gateway client per node. */
export class FederationCore {
  readonly machine: string;
  readonly blackboard: Blackboard;
  private readonly clients = new Map<string, GatewayClient>();
  private readonly probes = new Map<string, ProbeResult>();
  /** The last turn of each node as this machine saw it (turn-records.ts), read by nodeViews. */
  private turns = new Map<string, TurnRecord>();
  /** Loaded on first use: ssh2 is heavy, and most commands never need it. */
  private sshPool: SshPool | undefined;
  /** The shared registry as last read (refreshRegistry), with this machine's token sources. */
  registry!: RegistryView;
  /** What the upgrade of a version-1 federation.json moved, said once by the process that did it. */
  upgradeNote: string | undefined;
  /** Who claims the tasks this process runs itself, in their history. */
  get claimer(): string {
    return `clawos on ${this.machine} (pid ${process.pid})`;
  }

  private constructor(
    readonly loaded: LoadedConfig,
    readonly env: NodeJS.ProcessEnv,
    blackboard: Blackboard,
  ) {
    this.machine = thisMachine(loaded.config, env);
    this.blackboard = blackboard;
  }

  static async open(
    home: string,
    options: { env?: NodeJS.ProcessEnv; quarantine?: boolean } = {},
  ): Promise<FederationCore> {
    const env = options.env ?? process.env;
    const loaded = await loadConfig(home);
    const core = new FederationCore(loaded, env, await openBlackboard(loaded, env, options));
    try {
      await core.blackboard.init();
      core.upgradeNote = await upgradeLegacyNodes(loaded, core.blackboard, core.machine);
      await core.refreshRegistry();
    } catch (error) {
      await core.blackboard.close().catch(() => {});
      throw error;
    }
    return core;
  }

  /** Open, run `body`, close: for operations that need the registry once. */
  static async using<T>(
    home: string,
    env: NodeJS.ProcessEnv,
    body: (core: FederationCore) => Promise<T>,
  ): Promise<T> {
    const core = await FederationCore.open(home, { env });
    try {
      return await body(core);
    } finally {
      await core.close();
    }
  }

  /** Read the registry again (one listing); a node whose definition changed gets a fresh gateway client. */
  async refreshRegistry(): Promise<RegistryView> {
    const before = this.registry?.nodes;
    this.registry = await readRegistry(this.blackboard, this.loaded.config, this.machine);
    for (const old of before ?? []) {
      const now = this.registry.nodes.find((n) => n.id === old.id);
      if (now && JSON.stringify(now) === JSON.stringify(old)) continue;
      const client = this.clients.get(old.id);
      this.clients.delete(old.id);
      void client?.close();
    }
    return this.registry;
  }

  get config() {
    return this.loaded.config;
  }
  /** Writes this machine's registry records (read the registry again afterwards to see them). */
  registryWriter(): RegistryWriter {
    return new RegistryWriter(this.blackboard, this.machine);
  }

  /** Every node of the federation the registry resolves (conflicted ids are not among them). */
  get nodes(): NodeConfig[] {
    return this.registry.nodes;
  }
  /** Ids two machines claim: shown, never routed. */
  get conflicts(): RegistryConflict[] {
    return this.registry.conflicts;
  }

  node(id: string): NodeConfig {
    const node = this.nodes.find((n) => n.id === id);
    const conflict = this.conflicts.find((c) => c.id === id);
    if (conflict)
      throw new UserError(
        `Node ${id} is ${conflict.reason}, so it takes no tasks until one of them renames it.`,
        {
          hint: conflict.fix,
          code: "usage",
        },
      );
    if (!node) {
      throw new UserError(`There is no node "${sanitizeLine(id).slice(0, 60)}" in the registry.`, {
        hint: `known nodes: ${this.nodes.map((n) => n.id).join(", ") || "none — run clawos init"}`,
      });
    }
    return node;
  }

  /** The gateway client of a node, with its token resolved (throws a UserError if the token cannot be had). */
  async gateway(nodeId: string): Promise<GatewayClient> {
    const existing = this.clients.get(nodeId);
    if (existing) return existing;
    const node = this.node(nodeId);
    if (node.port === null) throw new UserError(`Node ${nodeId} is planned and has no gateway port yet.`);
    const token = await this.token(node);
    const local = routeOf(node, this.machine) === "localhost";
    const client = new GatewayClient(
      {
        nodeId,
        host: node.host,
        port: node.port,
        ...(token.token ? { token: token.token } : {}),
        tokenSource: token.source,
        profile: node.profile,
        agent: node.agent,
        ...(local ? await this.localGatewayFacts(node.profile) : {}),
      },
      this.turnLimits(),
    );
    this.clients.set(nodeId, client);
    return client;
  }

  /** A gateway of this machine: its log file and what starts it, for the hints that name them. */
  private async localGatewayFacts(profile: string | null) {
    const [logFile, start] = await Promise.all([
      gatewayLogOf(profile, this.env),
      gatewayStartHere(profile, this.env),
    ]);
    return { logFile, startCommand: start.words };
  }

  /** How long one agent turn may take, and stay silent, on any route. */
  private turnLimits() {
    const { requestTimeoutMs, streamIdleMs } = this.config.timing;
    return { timeoutMs: requestTimeoutMs, streamIdleMs };
  }

  private async token(node: NodeConfig) {
    const token = await resolveToken(node, this.loaded.home, this.env);
    if (token.problem) {
      throw new UserError(`Node ${node.id}: cannot read its token from ${token.source}: ${token.problem}.`, {
        hint: token.hint ?? `point the node at another token source in ${this.loaded.path}`,
        code: "token",
      });
    }
    return token;
  }

  /** The P0 route to another machine: the gateway through an SSH tunnel. */
  private async sshRunner(node: NodeConfig): Promise<ChatRunner> {
    if (!node.ssh || node.port === null) throw new UserError(`Node ${node.id} has no SSH settings.`);
    const token = await this.token(node);
    const { SshChatRunner, SshPool } = await import("../transport/ssh-route.js");
    this.sshPool ??= new SshPool(this.env);
    return new SshChatRunner(
      this.sshPool,
      node.ssh,
      {
        nodeId: node.id,
        ...(token.token ? { token: token.token } : {}),
        tokenSource: token.source,
        profile: node.profile,
        agent: node.agent,
        remotePort: node.ssh.remotePort ?? node.port,
      },
      this.turnLimits(),
    );
  }

  /** Probe a node's gateway: /health, then the token through /v1/models. */
  async probe(nodeId: string, timeoutMs = 2_000): Promise<ProbeResult> {
    const checkedAt = Date.now();
    let result: ProbeResult;
    try {
      const client = await this.gateway(nodeId);
      const signal = AbortSignal.timeout(timeoutMs);
      const health = await client.health(signal);
      if (!health.ok) {
        result = {
          ok: false,
          checkedAt,
          errorKind: "unhealthy",
          error: "gateway answered /health but not ok",
        };
      } else {
        await client.models(signal);
        result = { ok: true, latencyMs: health.latencyMs, checkedAt };
      }
    } catch (error) {
      const kind =
        error instanceof GatewayError ? error.kind : error instanceof UserError ? error.code : "error";
      result = {
        ok: false,
        checkedAt,
        errorKind: kind,
        error: error instanceof Error ? error.message : String(error),
        ...(error instanceof UserError && error.hint ? { hint: error.hint } : {}),
      };
    }
    this.probes.set(nodeId, result);
    return result;
  }

  lastProbe(nodeId: string): ProbeResult | undefined {
    return this.probes.get(nodeId);
  }

  /** Probes this machine's nodes; a long-lived process reuses a probe younger than PROBE_FRESH_MS. */
  async probeLocalNodes(always = false): Promise<void> {
    const now = Date.now();
    await Promise.all(
      this.nodes
        .filter((n) => routeOf(n, this.machine) === "localhost")
        .filter((n) => always || now - (this.probes.get(n.id)?.checkedAt ?? 0) > PROBE_FRESH_MS)
        .map((n) => this.probe(n.id)),
    );
  }

  /** Current view of every node. Localhost nodes are probed when `probe` is set (in parallel). */
  async nodeViews(
    options: {
      probe?: boolean | "always";
      heartbeats?: NodeStatusRecord[];
      inFlight?: Map<string, number>;
    } = {},
  ) {
    // The probes wait on the network, the reads on the disk: side by side.
    const [heartbeats, inFlight] = await Promise.all([
      options.heartbeats ?? this.blackboard.readNodeStatuses().then((r) => r.records),
      options.inFlight ?? this.inFlightCounts(),
      options.probe ? this.probeLocalNodes(options.probe === "always") : undefined,
      this.refreshTurns(),
    ]);
    const now = Date.now();
    const routable: RoutableNode[] = [];
    const views: NodeView[] = [];
    for (const node of this.nodes) {
      const route = routeOf(node, this.machine);
      const heartbeat = heartbeats.find((h) => h.node === node.id);
      const probe = this.probes.get(node.id);
      const turn = this.turns.get(node.id);
      const health = computeNodeHealth({
        node,
        route,
        ...(probe ? { probe } : {}),
        ...(turn ? { turn } : {}),
        ...(heartbeat ? { heartbeat } : {}),
        now,
        timing: this.config.timing,
      });
      const facts = nodeFactsOf({
        node,
        route,
        health,
        inFlight: inFlight.get(node.id) ?? 0,
        cordon: this.registry.cordons.get(node.id)?.state,
        ...(probe ? { probe } : {}),
        ...(heartbeat ? { heartbeat } : {}),
      });
      routable.push(facts.routable);
      views.push(facts.view);
    }
    for (const c of this.conflicts) views.push(conflictView(c, this.machine, inFlight.get(c.id) ?? 0));
    return withUsage({ views, routable }, await readUsage(this, heartbeats));
  }

  async inFlightCounts(): Promise<Map<string, number>> {
    return this.blackboard.activeCounts();
  }

  /**
   * Validate, route and publish a task. A localhost task also starts running here, unless
   * `runHere` is false: then it goes into the node's inbox for this machine's worker.
   */
  async dispatch(
    input: DispatchRequest,
    options: { onDelta?: (delta: string) => void; signal?: AbortSignal; runHere?: boolean } = {},
  ): Promise<Dispatched> {
    const text = input.text.trim();
    if (!text)
      throw new UserError("The task text is empty.", {
        hint: 'give it as an argument: clawos dispatch "…"',
        code: "usage",
      });
    if (input.text.length > MAX_TASK_TEXT) {
      throw new UserError(
        `The task text is ${input.text.length} characters; the limit is ${MAX_TASK_TEXT}.`,
        {
          hint: "put the long part in a file on the node's machine and ask the agent to read it, or split the task",
          code: "usage",
        },
      );
    }
    if (!PRIORITIES.includes(input.priority)) {
      throw new UserError(`Priority "${input.priority}" is not one of ${PRIORITIES.join(", ")}.`, {
        code: "usage",
      });
    }
    if (input.to !== "any" && !isValidNodeId(input.to)) {
      throw new UserError(`"${input.to.slice(0, 60)}" is not a node id.`, {
        hint: "use --to any or a name from clawos nodes list",
        code: "usage",
      });
    }
    if (this.conflicts.some((c) => c.id === input.to)) this.node(input.to); // refuses, with the fix
    const { routable } = await this.nodeViews({ probe: true });
    const outcome = routeTask(
      {
        target: input.to,
        priority: input.priority,
        sshAvailable: true,
        ...(input.tags ? { tags: input.tags } : {}),
      },
      routable,
    );
    const now = new Date();
    const request: TaskRequest = {
      schema: "clawos.task/1",
      id: input.id ?? newTaskId(now),
      target: input.to,
      priority: input.priority,
      text: input.text,
      tags: input.tags ?? [],
      createdAt: now.toISOString(),
      createdBy: this.machine,
      attempt: 1,
      maxAttempts: this.config.timing.maxAttempts,
      route: { ...outcome.decision, decidedAt: now.toISOString() },
      history: [{ at: now.toISOString(), event: "routed", detail: outcome.decision.reason }],
    };
    // Stopped while routing (probes can take a few seconds): nothing has been written yet.
    if (options.signal?.aborted)
      throw new UserError("Stopped before the task was queued; nothing was sent.", {
        code: "interrupted",
      });
    if (request.route.transport === "localhost" && options.runHere === false) {
      const { created } = await this.blackboard.enqueue(request);
      return { request, created, waiting: false };
    }
    if (request.route.transport === "localhost" && input.id === undefined) {
      // A fresh id cannot be a duplicate, so the chat starts while the record is written (one
      // fsync less before the first token). If the write fails, the chat is stopped and the error
      // is this call's; the answer's first words are held until the caller has this call's result.
      const held = holdDeltas(options.onDelta);
      const published = this.blackboard.enqueueClaimed(request).then((claim) => {
        if (!claim) throw new Error(`task id ${request.id} was taken while it was being published`);
        return claim;
      });
      const running = this.runLocal({ request, node: request.route.node, published }, routable, {
        ...options,
        ...(held ? { onDelta: held.onDelta } : {}),
      });
      try {
        await published;
      } catch (error) {
        await running.catch(() => {});
        throw error;
      }
      const released = held?.releaseSoon();
      // The outcome comes after every held delta has reached the caller.
      const run = released ? running.finally(() => released) : running;
      return { request, created: true, waiting: false, run };
    }
    if (request.route.transport === "localhost") {
      const claim = await this.blackboard.enqueueClaimed(request);
      if (!claim) return { request, created: false, waiting: false };
      const run = this.runLocal(claim, routable, options);
      return { request, created: true, waiting: false, run };
    }
    if (request.route.transport === "ssh") {
      const claim = await this.blackboard.enqueueClaimed(request);
      if (!claim) return { request, created: false, waiting: false };
      // Any SSH failure hands the task to the node's inbox, where its worker finds it later.
      const run = this.sshRunner(this.node(claim.node)).then(
        (runner) =>
          runClaim(this.blackboard, claim, runner, {
            leaseMs: this.config.timing.leaseMs,
            by: this.claimer,
            ...(options.onDelta ? { onDelta: options.onDelta } : {}),
            ...(options.signal ? { signal: options.signal, stopEvent: this.dispatcherStopped() } : {}),
          }).then((outcome) => this.noteTurn(claim.node, outcome)),
        (error: unknown) =>
          runClaim(
            this.blackboard,
            claim,
            { chat: () => Promise.reject(error) },
            { leaseMs: this.config.timing.leaseMs },
          ),
      );
      return { request, created: true, waiting: false, run };
    }
    const { created } = await this.blackboard.enqueue(request);
    return { request, created, waiting: outcome.waiting };
  }

  /**
   * Run a claimed localhost task here. If its node fails, the task goes to the next
   * eligible node (for `any`) or back to its inbox — never a retry loop on the same node.
   */
  private async runLocal(
    firstClaim: Claim | PublishingClaim,
    routable: RoutableNode[],
    options: { onDelta?: (delta: string) => void; signal?: AbortSignal },
  ): Promise<RunOutcome> {
    let claim: Claim | PublishingClaim = firstClaim;
    const tried: string[] = [];
    for (;;) {
      tried.push(claim.node);
      const gateway = await this.gateway(claim.node).catch((error: unknown) => error as Error);
      const runner =
        gateway instanceof GatewayClient
          ? gateway
          : {
              chat: async () => {
                throw gateway;
              },
            };
      const result = await runClaim(this.blackboard, claim, runner, {
        leaseMs: this.config.timing.leaseMs,
        by: this.claimer,
        ...(options.onDelta ? { onDelta: options.onDelta } : {}),
        ...(options.signal ? { signal: options.signal, stopEvent: this.dispatcherStopped() } : {}),
        rerouteOnFailure: async () => nextNodeFor(claim.request, tried, routable),
      });
      await this.noteTurn(claim.node, result);
      if (result.kind !== "requeued" || result.outcome !== "requeued" || !result.rerouted) return result;
      const nextNode = routable.find((n) => n.config.id === result.rerouted);
      if (nextNode?.route !== "localhost" || tried.includes(nextNode.config.id)) return result;
      const next = await this.blackboard.claim(nextNode.config.id, claim.request.id);
      if (!next) return result; // a worker took it: fine, it runs there
      claim = next;
    }
  }

  /** Remember what a turn said about its node's model (turn-records.ts); returns the outcome. */
  async noteTurn(node: string, outcome: RunOutcome): Promise<RunOutcome> {
    const fact = turnFactOf(node, outcome);
    await noteUsage(this.loaded.home, outcome);
    if (fact) {
      const written = await recordTurn(this.loaded.home, this.turns.get(node), fact);
      if (written) this.turns.set(node, written);
    }
    return outcome;
  }

  /** Read again what every process on this machine has recorded of its turns. */
  async refreshTurns(): Promise<void> {
    this.turns = await readTurnRecords(this.loaded.home);
  }

  /** The last turn this machine saw on a node (for its worker's heartbeat). */
  lastTurn(node: string): TurnRecord | undefined {
    return this.turns.get(node);
  }

  /** The history entry of a task this process was running when it was stopped (and handed back). */
  private dispatcherStopped() {
    return {
      event: "handed-back",
      detail: `the process running it on ${this.machine} was stopped during the attempt`,
    };
  }

  /** Wait until a task is final, reporting the reply as it grows. */
  async waitFor(id: string, options: WaitOptions = {}): Promise<StoredTask> {
    return waitForTask(this.blackboard, id, options);
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    await this.sshPool?.closeAll();
    this.clients.clear();
    await this.blackboard.close();
  }
}
