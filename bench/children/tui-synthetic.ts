/**
 * A synthetic FederationApi for the TUI benchmarks: N nodes and M tasks, and a new
 * snapshot `hz` times a second the way the live facade makes them — a new
 * snapshot object, new node and task arrays, new objects for what changed.
 *
 * Each tick: one new pending task arrives (the oldest finished one goes, so the
 * count stays at M), ten tasks move on (pending → running → completed or failed),
 * five running tasks get a reply chunk, a tenth of the nodes get a new
 * latency and heartbeat, and the federation's usage is read again. Deterministic
 * (a seeded generator), so runs compare.
 */
import type {
  DispatchInput,
  DispatchOutcome,
  FederationApi,
  HandedBack,
  NodeView,
  Snapshot,
  TaskView,
} from "../../source/core/domain/federation-types.js";
import { TASK_STATES, type TaskState } from "../../source/core/domain/schema.js";
import type { UsageWindow } from "../../source/core/domain/usage.js";

const TEXTS = [
  "检查 alpha 节点的健康状态并汇报",
  "整理今天的日志并给出摘要",
  "把 FEDERATION_STATUS.md 同步到最新",
  "summarise yesterday's failed tasks",
  "为 macbook-air 生成每周报告 🚀",
  "rotate the gateway tokens on cloud-node",
  "Python 函数计算两数之和",
  "开发 babel chrome 插件 v2",
];

/** xorshift32: the same numbers every run. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function taskId(at: number, n: number): string {
  const stamp = new Date(at).toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
  return `req_${stamp}_${n.toString(16).padStart(8, "0")}`;
}

export interface SyntheticOptions {
  nodes: number;
  tasks: number;
  /** Snapshots per second; 0 = never changes. */
  hz: number;
  seed?: number;
}

export class SyntheticFederation implements FederationApi {
  private snapshot: Snapshot;
  private readonly listeners = new Set<(s: Snapshot) => void>();
  private timer: NodeJS.Timeout | undefined;
  private readonly rand: () => number;
  private serial = 0;
  /** Time spent making snapshots (not the UI's): subtract it from the process's CPU. */
  emitMs = 0;
  ticks = 0;

  constructor(private readonly options: SyntheticOptions) {
    this.rand = random(options.seed ?? 42);
    const now = Date.now();
    const nodes: NodeView[] = Array.from({ length: options.nodes }, (_, i) => this.node(i, now));
    const tasks: TaskView[] = [];
    for (let i = 0; i < options.tasks; i++) {
      // Most finished, a few hundred still active, spread back over a week.
      const at = now - (options.tasks - i) * 60_000;
      const pick = this.rand();
      const state: TaskState =
        pick < 0.01
          ? "pending"
          : pick < 0.03
            ? "running"
            : pick < 0.9
              ? "completed"
              : pick < 0.97
                ? "failed"
                : "cancelled";
      tasks.push(this.task(at, nodes[i % nodes.length]?.id ?? "main", state));
    }
    this.snapshot = {
      version: 1,
      updatedAt: new Date(now).toISOString(),
      machine: "hub",
      blackboardLocation: "~/.openclaw/clawos/clawos-blackboard/federation",
      nodes,
      tasks,
      counts: count(tasks),
      problems: [],
      usage: usageWindow(options.nodes * 40, 7),
    };
  }

  private node(i: number, now: number): NodeView {
    const remote = i % 5 === 4;
    const status = i % 17 === 3 ? "unreachable" : i % 23 === 5 ? "asleep" : "online";
    return {
      id: `node-${String(i).padStart(3, "0")}`,
      machine: remote ? `machine-${i}` : "hub",
      transport: remote ? "blackboard" : "localhost",
      host: remote ? `100.71.${i % 250}.${(i * 7) % 250}` : "127.0.0.1",
      port: 18789 + i * 20,
      profile: remote ? null : `p${i}`,
      agent: "main",
      tags: i % 3 === 0 ? ["gpu"] : [],
      status,
      reason:
        status === "online"
          ? `health ${Math.round(this.rand() * 40)} ms`
          : status === "asleep"
            ? "no heartbeat for 42 min"
            : `The gateway of node node-${i} is not running on 127.0.0.1:${18789 + i * 20} (ECONNREFUSED).`,
      ...(status === "online" ? { latencyMs: this.rand() * 40 } : {}),
      inFlight: Math.floor(this.rand() * 3),
      lastHeartbeatAt: new Date(now - Math.floor(this.rand() * 20_000)).toISOString(),
      ...(i % 4 === 0 ? { notes: `rack ${i % 12}, 备注 ${i}` } : {}),
      // Tokens as the live facade reads them for every node; a budget on every third.
      usage: usageWindow(40 + i, 7),
      ...(i % 3 === 0 ? { budget: { percent: i % 100, reached: false, line: "" } } : {}),
    };
  }

  private task(at: number, node: string, state: TaskState): TaskView {
    const n = this.serial++;
    const createdAt = new Date(at).toISOString();
    const finished = state === "completed" || state === "failed" || state === "cancelled";
    return {
      id: taskId(at, n),
      target: n % 4 === 0 ? "any" : node,
      node,
      state,
      priority: (["P0", "P1", "P2", "P2", "P3"] as const)[n % 5] ?? "P2",
      text: `${TEXTS[n % TEXTS.length]} (#${n})`,
      createdAt,
      attempt: 1,
      maxAttempts: 3,
      route: {
        node,
        transport: "localhost",
        reason: `${node} is online, 0 tasks in flight`,
        decidedAt: createdAt,
      },
      history: [{ at: createdAt, event: "routed", detail: `${node} is online` }],
      ...(state === "running" ? { startedAt: createdAt, reply: "正在处理…" } : {}),
      ...(finished
        ? { startedAt: createdAt, finishedAt: new Date(at + 4_000).toISOString(), durationMs: 4_000 }
        : {}),
      ...(state === "completed" ? { reply: "完成。All checks passed." } : {}),
      ...(state === "failed"
        ? { error: { kind: "gateway_provider_timeout", message: "upstream provider timeout" } }
        : {}),
    };
  }

  /** One tick of change, published to every listener. */
  tick(): void {
    const started = performance.now();
    const now = Date.now();
    const old = this.snapshot;
    const tasks = old.tasks.slice();
    // A new task arrives; the oldest finished one leaves.
    const nodes = old.nodes.slice();
    tasks.push(this.task(now, nodes[Math.floor(this.rand() * nodes.length)]?.id ?? "main", "pending"));
    const drop = tasks.findIndex(
      (t) => t.state === "completed" || t.state === "failed" || t.state === "cancelled",
    );
    if (drop >= 0) tasks.splice(drop, 1);
    // Ten tasks move on, five running ones stream a chunk.
    for (let i = 0; i < 15; i++) {
      const at = Math.floor(this.rand() * tasks.length);
      const t = tasks[at];
      if (!t) continue;
      if (i < 10) {
        if (t.state === "pending")
          tasks[at] = { ...t, state: "running", startedAt: new Date(now).toISOString() };
        else if (t.state === "running")
          tasks[at] = {
            ...t,
            state: this.rand() < 0.9 ? "completed" : "failed",
            finishedAt: new Date(now).toISOString(),
            durationMs: 4_000,
          };
      } else {
        const running = tasks.findIndex((x, j) => j >= at && x.state === "running");
        const r = tasks[running];
        if (r) tasks[running] = { ...r, reply: `${r.reply ?? ""} 第 ${this.ticks} 段 chunk ${this.ticks}.` };
      }
    }
    // A tenth of the nodes report a new latency and heartbeat.
    for (let i = 0; i < Math.max(1, Math.floor(nodes.length / 10)); i++) {
      const at = Math.floor(this.rand() * nodes.length);
      const n = nodes[at];
      if (n && n.status === "online") {
        const ms = this.rand() * 40;
        nodes[at] = {
          ...n,
          latencyMs: ms,
          reason: `health ${Math.round(ms)} ms`,
          lastHeartbeatAt: new Date(now).toISOString(),
        };
      }
    }
    this.snapshot = {
      ...old,
      version: old.version + 1,
      updatedAt: new Date(now).toISOString(),
      nodes,
      tasks,
      counts: count(tasks),
      // A new object every reload, as the live facade's usage read gives.
      usage: usageWindow(nodes.length * 40 + this.ticks, 7),
    };
    this.ticks++;
    for (const l of this.listeners) l(this.snapshot);
    this.emitMs += performance.now() - started;
  }

  start(): void {
    if (this.options.hz > 0 && !this.timer)
      this.timer = setInterval(() => this.tick(), 1000 / this.options.hz);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  getSnapshot(): Snapshot {
    return this.snapshot;
  }

  subscribe(listener: (snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async dispatch(input: DispatchInput): Promise<DispatchOutcome> {
    const node = this.snapshot.nodes[0]?.id ?? "main";
    const task = this.task(Date.now(), node, "pending");
    this.snapshot = { ...this.snapshot, tasks: [...this.snapshot.tasks, { ...task, text: input.text }] };
    return { id: task.id, decision: task.route };
  }

  async retry(): Promise<void> {}
  async cancel(): Promise<void> {}
  async refresh(): Promise<void> {}
  async discover(): Promise<string[]> {
    return [];
  }
  async close(): Promise<HandedBack[]> {
    this.stop();
    this.listeners.clear();
    return [];
  }
}

/** Today's tasks and tokens, and seven days of the same. */
function usageWindow(tasks: number, days: number): UsageWindow {
  const totals = (n: number) => ({
    prompt: n * 300,
    completion: n * 120,
    tasks: n,
    cost: { USD: n * 0.002 },
  });
  return { today: totals(tasks), week: totals(tasks * days) };
}

function count(tasks: readonly TaskView[]): Record<TaskState, number> {
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  for (const t of tasks) counts[t.state]++;
  return counts;
}
