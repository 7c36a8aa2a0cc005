import type {
  Priority,
  Route,
  RouteDecision,
  TaskError,
  TaskEvent,
  TaskState,
  TokenUsage,
} from "./schema.js";
import type { BudgetView, UsageWindow } from "./usage.js";

/** Live health of a node. "unknown" is never shown as online. */
export const NODE_STATES = [
  "online",
  /** Up, but its last turns failed on the model provider (down, timing out): `any` passes it by for a while. */
  "degraded",
  "stale",
  "asleep",
  "unreachable",
  "misconfigured",
  "planned",
  "unknown",
] as const;
export type NodeState = (typeof NODE_STATES)[number];

export interface NodeView {
  id: string;
  machine: string;
  /** How tasks reach it from this machine; "planned" when it has no endpoint yet. */
  transport: Route | "planned";
  host: string;
  port: number | null;
  profile: string | null;
  agent: string;
  tags: string[];
  status: NodeState;
  /** Why it has that status, in a few words ("health 3 ms", "no heartbeat for 12 min"). */
  reason: string;
  latencyMs?: number;
  inFlight: number;
  lastHeartbeatAt?: string;
  /** What the node's worker said in that heartbeat: whether it runs, and whether it can reach its gateway. */
  worker?: { state: "running" | "stopping" | "stopped"; gatewayReachable: boolean };
  notes?: string;
  /** user@host[:port] of its SSH route, when the config has one (prefills "migrate"). */
  sshTarget?: string;
  /** The last few gateway latencies (ms), oldest first, for a sparkline (at most LATENCY_SAMPLES). */
  recentLatencyMs?: readonly number[];
  /** Tokens (and money, with prices) today and over 7 days; absent when nothing was read. */
  usage?: UsageWindow;
  /** How close the daily budget that binds it is (its own, or the federation's). */
  budget?: BudgetView;
  /** Set while the node takes no new tasks: cordoned, draining (still has work), or drained. */
  cordon?: "cordoned" | "draining" | "drained";
  /** A node of this machine: whether this machine's worker serves it, as `findWorker` sees it. */
  servedHere?: boolean;
}

export interface TaskView {
  id: string;
  target: string;
  node: string;
  state: TaskState;
  priority: Priority;
  text: string;
  createdAt: string;
  attempt: number;
  maxAttempts: number;
  route: RouteDecision;
  history: TaskEvent[];
  /** The reply so far (running) or the final reply (completed). */
  reply?: string;
  error?: TaskError;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** Tokens of the finished attempt; absent for tasks finished by versions that did not ask. */
  usage?: TokenUsage;
  model?: string;
}

/** This machine's worker (`clawos node run`), as `status` and the control center show it. */
export interface MachineWorker {
  running: boolean;
  /** background: started by a clawos command (pid file); service: systemd/launchd; manual: started by hand. */
  kind?: "background" | "service" | "manual";
  pid?: number;
  /** When it started (ISO). */
  since?: string;
  /** A service is installed for this home but does not run. */
  serviceInstalled?: boolean;
  /**
   * Not running for these nodes of this machine, although a worker started by hand serves
   * others (`clawos node run --node X`): their tasks wait.
   */
  unserved?: string[];
}

export interface Snapshot {
  /** Increases with every change; lets the UI skip identical frames. */
  version: number;
  updatedAt: string;
  machine: string;
  blackboardLocation: string;
  nodes: NodeView[];
  /** All nodes merged; the UI sorts and filters. */
  tasks: TaskView[];
  counts: Record<TaskState, number>;
  /** The most recent problem worth a status-bar line (one line, already user-readable). */
  lastError?: string;
  /** Malformed files moved aside, etc. */
  problems: string[];
  /** This machine's worker; absent until the first look. */
  worker?: MachineWorker;
  /** The fleet's latest events (fleet-events.ts), oldest first; a few at most. */
  events?: FleetEvent[];
  /** Every node's usage together, and the federation's own daily budget when one is set. */
  usage?: FederationUsageView;
}

export interface FederationUsageView extends UsageWindow {
  budget?: BudgetView;
}

export interface DispatchInput {
  text: string;
  to: string;
  priority: Priority;
}

export interface DispatchOutcome {
  id: string;
  decision: RouteDecision | { node: null; reason: string };
}

/** Everything the UI may do. The UI never touches files or HTTP itself. */
export interface FederationApi {
  getSnapshot(): Snapshot;
  subscribe(listener: (snapshot: Snapshot) => void): () => void;
  dispatch(input: DispatchInput): Promise<DispatchOutcome>;
  retry(id: string): Promise<void>;
  cancel(id: string): Promise<void>;
  /** Re-read everything and re-probe nodes now. */
  refresh(): Promise<void>;
  /** `clawos init`: find local OpenClaw profiles and register them; returns the ids added. */
  discover(): Promise<string[]>;
  /** `:incubate`: create a local node step by step (see IncubateStep); absent on read-only facades. */
  incubate?(
    input: IncubateInput,
    onStep: (step: IncubateStep) => void,
  ): Promise<{ node: string; port: number; cannotAnswer?: string }>;
  /** Node action "migrate": move a local node to another machine over SSH; each line says what happens. */
  migrate?(input: MigrateInput, onLine: (line: string) => void): Promise<void>;
  /** Start, stop or restart a gateway on this machine; each line says what was done and which way. */
  nodeLifecycle?(node: string, action: "start" | "stop" | "restart"): Promise<string[]>;
  /** Remove a node from the registry, stopping its gateway and moving its profile aside if asked. */
  removeNode?(node: string, options: { stop: boolean; purge: boolean }): Promise<string[]>;
  /** A node's log (worker, gateway or its heartbeat's tail), then new lines as they come until `signal`. */
  logs?(node: string, options: LogOptions, onLines: (lines: LogView) => void): Promise<void>;
  /** Cordon, uncordon or drain a node this machine owns; returns what was done, a line each. */
  cordon?(node: string, action: CordonAction): Promise<string[]>;
  /** The audit log's entries since a time, oldest first (`:audit`). */
  auditLog?(since?: Date): Promise<AuditLine[]>;
  /** Stop; returns the tasks that were running in this process and went back to their node's inbox. */
  close(): Promise<HandedBack[]>;
}

export type CordonAction = "cordon" | "uncordon" | "drain";

/** One audit log entry as the faces show it (fields already sanitized by the log's reader). */
export interface AuditLine {
  at: string;
  who: string;
  action: string;
  target: string;
  result: "ok" | "refused" | "failed";
  reason?: string;
}

export interface HandedBack {
  id: string;
  node: string;
  /** Still running when the process gave up waiting: its lease runs out and the coordinator hands it back. */
  stillClaimed?: boolean;
  /** The node's worker was running at the last look: it picks the task up by itself. */
  served?: boolean;
}

export interface IncubateInput {
  name: string;
  port?: number;
  /** Start the gateway now and wait for it (needs `openclaw` on PATH). */
  start?: boolean;
  /** Write openclaw.json directly instead of running `openclaw onboard`. */
  configOnly?: boolean;
}

export interface IncubateStep {
  step: number;
  total: number;
  title: string;
  status: "running" | "done" | "note" | "warning" | "failed" | "undone";
  detail?: string;
}

export interface MigrateInput {
  node: string;
  /** user@host[:port] */
  to: string;
  dryRun?: boolean;
  rollback?: boolean;
  remotePort?: number;
}

/** Where a log line came from: this machine's worker log, a local gateway's log, or a heartbeat. */
export type LogSource = "worker" | "gateway" | "heartbeat";

export interface LogEntry {
  /** ISO time of the line, when it carries one. */
  at?: string;
  source: LogSource;
  level: string;
  /** One sanitized line, secrets masked. */
  text: string;
}

export interface LogOptions {
  sinceMs?: number;
  grep?: string;
  /** Keep reading new lines until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  /** At most this many of the first lines (the newest). */
  tail?: number;
}

/** One batch of a node's log: the first has what was there, the next ones what came since. */
export interface LogView {
  node: string;
  /** Where the lines come from, in words ("worker log and gateway log", "from the heartbeat of m2, last 50 lines"). */
  origin: string;
  entries: LogEntry[];
  /** True for the first batch. */
  initial: boolean;
}

export const FLEET_EVENT_KINDS = ["node-down", "node-up", "task-failed", "budget-reached"] as const;
export type FleetEventKind = (typeof FLEET_EVENT_KINDS)[number];

/** Something the fleet's operator wants to hear of (`clawos watch`, alert commands). Stable fields. */
export interface FleetEvent {
  /** ISO time it was seen. */
  time: string;
  kind: FleetEventKind;
  /** Absent for the federation as a whole (its daily budget reached). */
  node?: string;
  task?: string;
  /** The state before and after, for transitions. */
  from?: string;
  to?: string;
  message: string;
}
