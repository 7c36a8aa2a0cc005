import type {
  DispatchInput,
  DispatchOutcome,
  FederationApi,
  HandedBack,
  NodeView,
  Snapshot,
  TaskView,
} from "../../source/core/domain/federation-types.js";
import { completeHistory } from "../../source/core/domain/history.js";
import { TASK_STATES, type TaskState } from "../../source/core/domain/schema.js";

/**
 * An in-memory FederationApi for UI tests: nodes and tasks are whatever the
 * test says, `emit()` publishes a new snapshot, and every action is recorded.
 * Dispatch creates a pending task and (optionally) streams a reply into it.
 */

export const FIXED_NOW = Date.parse("2026-02-27T20:37:00Z");

export function makeNode(partial: Partial<NodeView> & { id: string }): NodeView {
  return {
    machine: "mac-mini",
    transport: "localhost",
    host: "127.0.0.1",
    port: 18789,
    profile: null,
    agent: "main",
    tags: [],
    status: "online",
    reason: "health 3 ms",
    latencyMs: 3,
    inFlight: 0,
    lastHeartbeatAt: new Date(FIXED_NOW - 5_000).toISOString(),
    ...partial,
  };
}

export function makeTask(partial: Partial<TaskView> & { id: string }): TaskView {
  const node = partial.node ?? "mac-mini";
  const createdAt = partial.createdAt ?? new Date(FIXED_NOW - 60_000).toISOString();
  return {
    target: node,
    node,
    state: "pending",
    priority: "P2",
    text: "do something",
    createdAt,
    attempt: 1,
    maxAttempts: 3,
    route: { node, transport: "localhost", reason: "target named explicitly", decidedAt: createdAt },
    ...partial,
    // As core's toTaskView gives it: the recorded events, then the attempt's start and end.
    history:
      partial.history ??
      completeHistory(
        { attempt: partial.attempt ?? 1, history: [{ at: createdAt, event: "created", detail: "by test" }] },
        node,
        partial.finishedAt && ["completed", "failed", "cancelled"].includes(partial.state ?? "")
          ? {
              schema: "clawos.result/1",
              id: partial.id,
              attempt: partial.attempt ?? 1,
              node,
              status: partial.state as "completed" | "failed" | "cancelled",
              finishedAt: partial.finishedAt,
              ...(partial.startedAt ? { startedAt: partial.startedAt } : {}),
              ...(partial.durationMs !== undefined ? { durationMs: partial.durationMs } : {}),
            }
          : undefined,
        partial.startedAt ? { startedAt: partial.startedAt } : undefined,
      ),
  };
}

/** The seed document's federation (FEDERATION_STATUS_v7.md): four nodes, four tasks. */
export function seedNodes(): NodeView[] {
  return [
    makeNode({ id: "alpha", port: 18790, profile: "alpha", notes: "Quant node, running", inFlight: 1 }),
    makeNode({ id: "mac-mini", port: 18789, notes: "Main node" }),
    makeNode({
      id: "macbook-air",
      machine: "macbook-air",
      transport: "blackboard",
      host: "100.71.170.104",
      status: "asleep",
      reason: "no heartbeat for 42 min",
      latencyMs: undefined,
      lastHeartbeatAt: new Date(FIXED_NOW - 42 * 60_000).toISOString(),
      notes: "Sleeping, Tailscale 100.71.170.104",
    }),
    makeNode({
      id: "cloud-node",
      machine: "cloud",
      transport: "planned",
      host: "",
      port: null,
      status: "planned",
      reason: "no endpoint yet",
      latencyMs: undefined,
      lastHeartbeatAt: undefined,
      notes: "AWS Lightsail ($5/mo)",
    }),
  ];
}

export function seedTasks(): TaskView[] {
  return [
    makeTask({
      id: "req_20260227_200645",
      node: "macbook-air",
      target: "macbook-air",
      text: "开发 babel chrome 插件 v2",
      createdAt: "2026-02-27T20:06:45Z",
      route: {
        node: "macbook-air",
        transport: "blackboard",
        reason: "target named explicitly",
        decidedAt: "2026-02-27T20:06:45Z",
      },
    }),
    makeTask({
      id: "req_20260227_203220_e68aee2d",
      node: "alpha",
      target: "alpha",
      text: "测试 localhost 路由",
      createdAt: "2026-02-27T20:32:20Z",
      state: "running",
      startedAt: "2026-02-27T20:32:21Z",
      reply: "正在测试…",
    }),
    makeTask({
      id: "req_20260227_203300_0badc0de",
      node: "mac-mini",
      target: "any",
      text: "Implement user authentication",
      createdAt: "2026-02-27T20:33:00Z",
      state: "failed",
      priority: "P1",
      error: {
        kind: "gateway",
        message: "401 bad token",
        hint: "Check the token with clawos nodes probe mac-mini",
      },
      finishedAt: "2026-02-27T20:33:05Z",
    }),
    makeTask({
      id: "req_20260227_195930",
      node: "mac-mini",
      target: "mac-mini",
      text: "Python 函数计算两数之和",
      createdAt: "2026-02-27T19:59:30Z",
      state: "completed",
      reply: "def add(a, b):\n    return a + b",
      startedAt: "2026-02-27T19:59:31Z",
      finishedAt: "2026-02-27T19:59:33Z",
      durationMs: 2100,
    }),
  ];
}

export interface FakeFederationOptions {
  nodes?: NodeView[];
  tasks?: TaskView[];
  blackboardLocation?: string;
  now?: () => number;
  lastError?: string;
  /** What discover() finds (and adds as online nodes), or an error it throws. */
  discoverFinds?: string[] | Error;
  /** If set, dispatch() streams these chunks as the reply, one per `streamIntervalMs`, then completes. */
  streamReply?: string[];
  streamIntervalMs?: number;
  /** Make dispatch() reject with this error. */
  dispatchError?: Error;
}

export interface FakeCalls {
  dispatch: DispatchInput[];
  retry: string[];
  cancel: string[];
  refresh: number;
  discover: number;
  close: number;
}

function countTasks(tasks: readonly TaskView[]): Record<TaskState, number> {
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  for (const task of tasks) counts[task.state]++;
  return counts;
}

export class FakeFederation implements FederationApi {
  readonly calls: FakeCalls = { dispatch: [], retry: [], cancel: [], refresh: 0, discover: 0, close: 0 };
  /** Absent unless a test gives it one (the UI then says migration is not available). */
  migrate?: FederationApi["migrate"];
  options: FakeFederationOptions;
  private snapshot: Snapshot;
  private readonly listeners = new Set<(snapshot: Snapshot) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private sequence = 0;

  constructor(options: FakeFederationOptions = {}) {
    this.options = options;
    const now = this.now();
    const tasks = options.tasks ?? [];
    this.snapshot = {
      version: 1,
      updatedAt: new Date(now).toISOString(),
      machine: "mac-mini",
      blackboardLocation: options.blackboardLocation ?? "~/.openclaw/clawos/clawos-blackboard",
      nodes: options.nodes ?? [],
      tasks,
      counts: countTasks(tasks),
      problems: [],
      ...(options.lastError ? { lastError: options.lastError } : {}),
    };
  }

  now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  getSnapshot(): Snapshot {
    return this.snapshot;
  }

  subscribe(listener: (snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Publish a new snapshot: a patch or a function of the current one. Version and counts are kept right. */
  emit(change: Partial<Snapshot> | ((current: Snapshot) => Partial<Snapshot>) = {}): Snapshot {
    const patch = typeof change === "function" ? change(this.snapshot) : change;
    const tasks = patch.tasks ?? this.snapshot.tasks;
    this.snapshot = {
      ...this.snapshot,
      ...patch,
      tasks,
      counts: countTasks(tasks),
      version: this.snapshot.version + 1,
      updatedAt: new Date(this.now()).toISOString(),
    };
    for (const listener of [...this.listeners]) listener(this.snapshot);
    return this.snapshot;
  }

  updateTask(id: string, patch: Partial<TaskView>): void {
    this.emit((s) => ({ tasks: s.tasks.map((t) => (t.id === id ? { ...t, ...patch } : t)) }));
  }

  appendReply(id: string, chunk: string): void {
    this.emit((s) => ({
      tasks: s.tasks.map((t) =>
        t.id === id
          ? {
              ...t,
              state: "running",
              reply: `${t.reply ?? ""}${chunk}`,
              startedAt: t.startedAt ?? new Date(this.now()).toISOString(),
            }
          : t,
      ),
    }));
  }

  async dispatch(input: DispatchInput): Promise<DispatchOutcome> {
    this.calls.dispatch.push(input);
    if (this.options.dispatchError) throw this.options.dispatchError;
    this.sequence++;
    const at = new Date(this.now());
    const stamp = at.toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
    const id = `req_${stamp}_${this.sequence.toString(16).padStart(8, "0")}`;
    const node =
      input.to !== "any"
        ? input.to
        : (this.snapshot.nodes.find((n) => n.status === "online")?.id ??
          this.snapshot.nodes[0]?.id ??
          "mac-mini");
    const reason = input.to === "any" ? "first online node (fake router)" : "target named explicitly";
    const decision = { node, transport: "localhost" as const, reason, decidedAt: at.toISOString() };
    const task = makeTask({
      id,
      node,
      target: input.to,
      text: input.text,
      priority: input.priority,
      createdAt: at.toISOString(),
      route: decision,
      history: [{ at: at.toISOString(), event: "created", detail: `routed to ${node}` }],
    });
    this.emit((s) => ({ tasks: [...s.tasks, task] }));
    if (this.options.streamReply)
      this.stream(id, this.options.streamReply, this.options.streamIntervalMs ?? 100);
    return { id, decision };
  }

  /** Stream `chunks` into the task's reply on a timer, then complete it. */
  stream(id: string, chunks: readonly string[], intervalMs: number): void {
    const rest = [...chunks];
    const tick = () => {
      const chunk = rest.shift();
      if (chunk === undefined) {
        this.updateTask(id, {
          state: "completed",
          finishedAt: new Date(this.now()).toISOString(),
          durationMs: 1234,
        });
        return;
      }
      this.appendReply(id, chunk);
      this.later(tick, intervalMs);
    };
    this.later(tick, intervalMs);
  }

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  async retry(id: string): Promise<void> {
    this.calls.retry.push(id);
    const task = this.snapshot.tasks.find((t) => t.id === id);
    if (!task) throw new Error(`no task ${id}`);
    this.updateTask(id, { state: "pending", attempt: task.attempt + 1, error: undefined });
  }

  async cancel(id: string): Promise<void> {
    this.calls.cancel.push(id);
    this.updateTask(id, { state: "cancelled", finishedAt: new Date(this.now()).toISOString() });
  }

  async refresh(): Promise<void> {
    this.calls.refresh++;
    this.emit();
  }

  async discover(): Promise<string[]> {
    this.calls.discover++;
    const finds = this.options.discoverFinds ?? [];
    if (finds instanceof Error) throw finds;
    this.emit((s) => ({
      nodes: [...s.nodes, ...finds.map((id, i) => makeNode({ id, port: 18789 + 20 * i, profile: id }))],
    }));
    return finds;
  }

  async close(): Promise<HandedBack[]> {
    this.calls.close++;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.listeners.clear();
    return [];
  }
}
