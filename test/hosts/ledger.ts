/**
 * What a scenario dispatched, and the verdict on it: every task completed exactly once (one
 * record, attempt and outcome as expected, one gateway turn across all hosts), and the
 * cross-host pickup latency from the task's own timestamps (created on the hub → claimed on
 * the node's machine). Timestamps from a host with a skewed clock are left out of latency.
 */
import type { Host } from "./host.js";
import type { Lab } from "./lab.js";

export interface TaskJson {
  id: string;
  node: string;
  state: string;
  attempt: number;
  text: string;
  reply?: string;
  createdAt: string;
  startedAt?: string;
  history: { at: string; event: string; detail: string }[];
}

export interface Expectation {
  id: string;
  /** The node that must have run it. */
  node: string;
  /** Count its pickup toward the cross-host latency (dispatched on the hub, claimed elsewhere, clocks agree). */
  crossHost: boolean;
  /** Gateway turns it may take (1 unless the scenario says otherwise). */
  runs?: number;
}

export interface ScenarioResult {
  setup: string;
  scenario: string;
  dispatched: number;
  completed: number;
  lost: number;
  duplicated: number;
  pickupMs: number[];
  ok: boolean;
  error?: string;
  seconds: number;
  notes: string[];
}

export class Ledger {
  readonly expected: Expectation[] = [];
  /** Facts the scenario reports beside the counts. */
  readonly notes: string[] = [];

  constructor(private readonly lab: Lab) {}

  /** `clawos dispatch TEXT --to NODE --json` on `from`; returns the task id. */
  async dispatch(
    from: Host,
    text: string,
    to: string,
    expect: Omit<Expectation, "id">,
    extra: string[] = [],
  ): Promise<TaskJson> {
    const task = await from.clawosJson<TaskJson>(["dispatch", text, "--to", to, ...extra]);
    this.expected.push({ id: task.id, ...expect });
    return task;
  }

  /** Waits until every dispatched task is finished on the hub's view, or the time is up. */
  async waitFinished(timeoutMs: number): Promise<Map<string, TaskJson>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const tasks = await this.list();
      const open = this.expected.filter((e) => {
        const t = tasks.get(e.id);
        return !t || !["completed", "failed", "cancelled"].includes(t.state);
      });
      if (open.length === 0 || Date.now() > deadline) return tasks;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  note(line: string): void {
    this.notes.push(line);
  }

  async list(host: Host = this.lab.hub): Promise<Map<string, TaskJson>> {
    const listed = await host.clawosJson<{ tasks: TaskJson[] }>(["tasks", "list", "--limit", "2000"]);
    const byId = new Map<string, TaskJson>();
    const seen = new Set<string>();
    for (const t of listed.tasks) {
      if (seen.has(t.id)) byId.set(`${t.id}#twice`, t);
      seen.add(t.id);
      byId.set(t.id, t);
    }
    return byId;
  }

  async show(id: string, host: Host = this.lab.hub): Promise<TaskJson> {
    return host.clawosJson<TaskJson>(["tasks", "show", id]);
  }

  /** The verdict: counts, and the problems found (empty = the scenario's tasks are all right). */
  async verdict(tasks: Map<string, TaskJson>): Promise<{
    completed: number;
    lost: number;
    duplicated: number;
    pickupMs: number[];
    problems: string[];
  }> {
    const runs = new Map<string, number>();
    for (const run of await this.lab.gatewayRuns()) {
      const id = run.user?.replace(/^clawos:/, "") ?? "";
      runs.set(id, (runs.get(id) ?? 0) + 1);
    }
    let completed = 0;
    let lost = 0;
    let duplicated = 0;
    const pickupMs: number[] = [];
    const problems: string[] = [];
    for (const e of this.expected) {
      const t = tasks.get(e.id);
      const turns = runs.get(e.id) ?? 0;
      if (tasks.has(`${e.id}#twice`) || turns > (e.runs ?? 1)) {
        duplicated++;
        problems.push(`${e.id}: ran ${turns} times (listed twice: ${tasks.has(`${e.id}#twice`)})`);
      }
      if (t?.state !== "completed" || !t) {
        lost++;
        problems.push(`${e.id}: ${t ? t.state : "missing"} (wanted completed on ${e.node})`);
        continue;
      }
      completed++;
      if (t.node !== e.node) problems.push(`${e.id}: ran on ${t.node}, wanted ${e.node}`);
      if (turns < (e.runs ?? 1) && e.runs !== 0) problems.push(`${e.id}: no gateway turn recorded`);
      if (e.crossHost) {
        const claimed = t.history.find((h) => h.event === "claimed")?.at ?? t.startedAt;
        if (claimed) pickupMs.push(Date.parse(claimed) - Date.parse(t.createdAt));
      }
    }
    return { completed, lost, duplicated, pickupMs, problems };
  }
}

export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
