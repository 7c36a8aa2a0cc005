import { isAbsolute, resolve } from "node:path";
import { UserError } from "../domain/errors.js";
import { count } from "../domain/plural.js";
import type { TaskState } from "../domain/schema.js";
import { blackboardDir, loadConfig, saveConfig } from "../infra/config.js";
import { displayPath, expandTilde } from "../infra/paths.js";
import { DirectoryBlackboard } from "./directory/directory.js";
import { NatsBlackboard, probeNats } from "./nats/nats.js";
import type { StoredTask } from "./types.js";

/**
 * `clawos blackboard migrate --to nats://…`: copy every task and node status from the
 * directory blackboard to NATS JetStream, then switch federation.json to it.
 *
 *  - pending tasks arrive pending; claimed/running ones arrive pending again with the same
 *    attempt (a claim does not survive the move: that run is redone on NATS);
 *  - finished tasks arrive finished, with their result;
 *  - idempotent: an id already on NATS is left alone, so running it again (after a crash,
 *    or to pick up tasks dispatched to the directory meanwhile) copies only what is missing;
 *  - federation.json is switched only after every task was checked to be on NATS; the
 *    directory itself is left as it was (nothing is deleted).
 */

export interface MigrationPlan {
  from: string;
  to: string[];
  tasks: number;
  /** Tasks that arrive pending: were pending, or were claimed/running (their run is redone). */
  pending: number;
  wereClaimed: number;
  finished: Record<"completed" | "failed" | "cancelled", number>;
  byNode: Record<string, number>;
  nodeStatuses: number;
  /** Records in the directory that could not be read: they are not copied. */
  problems: string[];
  /** Workers whose heartbeat says they are running: stop them first. */
  liveWorkers: string[];
}

export interface MigrationReport extends MigrationPlan {
  dryRun: boolean;
  /** What federation.json's "blackboard" becomes. */
  blackboard: { driver: "nats"; servers: string[]; domain?: string };
  reachable?: { ok: true; version: string } | { ok: false; error: string };
  created: number;
  alreadyThere: number;
  /** True when federation.json was changed by this run. */
  switched: boolean;
  config: string;
}

const RUNNING_RECENTLY_MS = 60_000;

export async function migrateBlackboard(
  home: string,
  env: NodeJS.ProcessEnv,
  options: { to: string[]; domain?: string; from?: string; dryRun?: boolean; now?: () => number },
): Promise<MigrationReport> {
  const servers = normalizeServers(options.to);
  const loaded = await loadConfig(home);
  if (!loaded.exists)
    throw new UserError(`There is no federation at ${displayPath(loaded.path, env)} yet.`, {
      hint: "run clawos init first",
    });
  const current = loaded.config.blackboard;
  if (current.driver === "nats" && !sameServers(current.servers, servers)) {
    throw new UserError(
      `federation.json already uses the NATS blackboard at ${current.servers.join(", ")}, not ${servers.join(", ")}.`,
      {
        hint: "this command moves a directory blackboard to NATS; edit blackboard.servers to move NATS itself",
      },
    );
  }
  const from = options.from ? resolvePath(options.from, env) : blackboardDir(loaded, env); // the directory federation.json names, or the default one
  const source = new DirectoryBlackboard(from);
  const listing = await source.list({ finishedLimit: Number.MAX_SAFE_INTEGER });
  const statuses = await source.readNodeStatuses();
  const now = options.now?.() ?? Date.now();
  const plan = planOf(from, servers, listing.tasks, statuses.records.length, [
    ...listing.problems,
    ...statuses.problems,
  ]);
  plan.liveWorkers = statuses.records
    .filter((r) => r.state === "running" && now - Date.parse(r.heartbeatAt) < RUNNING_RECENTLY_MS)
    .map((r) => `${r.node} (pid ${r.pid} on ${r.machine})`);
  const report: MigrationReport = {
    ...plan,
    dryRun: Boolean(options.dryRun),
    blackboard: { driver: "nats", servers, ...(options.domain ? { domain: options.domain } : {}) },
    created: 0,
    alreadyThere: 0,
    switched: false,
    config: loaded.path,
  };
  if (options.dryRun) {
    report.reachable = await probeNats(servers, options.domain);
    return report;
  }

  const domain = options.domain ? { domain: options.domain } : {};
  const target = new NatsBlackboard({ servers, ...domain });
  await target.init();
  try {
    for (const task of listing.tasks) {
      const outcome = await target.importTask(task, `the directory blackboard at ${displayPath(from, env)}`);
      if (outcome === "created") report.created++;
      else report.alreadyThere++;
    }
    for (const record of statuses.records) await target.writeNodeStatus(record);
    // The shared registry moves too, each record as its owner wrote it.
    for (const record of (await source.readNodeDefinitions()).records)
      await target.importNodeDefinition(record);
    // Only switch once every task is known to be there.
    const missing: string[] = [];
    for (const task of listing.tasks) if (!(await target.get(task.request.id))) missing.push(task.request.id);
    if (missing.length)
      throw new UserError(
        `${count(missing.length, "task")} did not arrive on NATS (${missing.slice(0, 3).join(", ")}…); federation.json was not changed.`,
        { hint: "run the same command again: it copies only what is missing" },
      );
  } finally {
    await target.close();
  }
  if (current.driver !== "nats") {
    loaded.config.blackboard = report.blackboard;
    await saveConfig(loaded);
    report.switched = true;
  }
  return report;
}

function planOf(
  from: string,
  to: string[],
  tasks: StoredTask[],
  nodeStatuses: number,
  problems: string[],
): MigrationPlan {
  const plan: MigrationPlan = {
    from,
    to,
    tasks: tasks.length,
    pending: 0,
    wereClaimed: 0,
    finished: { completed: 0, failed: 0, cancelled: 0 },
    byNode: {},
    nodeStatuses,
    problems,
    liveWorkers: [],
  };
  const bump = (state: TaskState) => {
    if (state === "pending") plan.pending++;
    else if (state === "claimed" || state === "running") {
      plan.pending++;
      plan.wereClaimed++;
    } else plan.finished[state]++;
  };
  for (const task of tasks) {
    // A cancel requested before the move finishes the task cancelled on arrival.
    bump(task.cancelRequested && !isFinished(task.state) ? "cancelled" : task.state);
    plan.byNode[task.node] = (plan.byNode[task.node] ?? 0) + 1;
  }
  return plan;
}

function isFinished(state: TaskState): boolean {
  return state === "completed" || state === "failed" || state === "cancelled";
}

function normalizeServers(to: string[]): string[] {
  const servers = to
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter(Boolean);
  if (servers.length === 0)
    throw new UserError("Name the NATS server(s) to move to.", {
      hint: "clawos blackboard migrate --to nats://127.0.0.1:4222",
      code: "usage",
    });
  for (const s of servers) {
    let url: URL | undefined;
    try {
      url = new URL(s.includes("://") ? s : `nats://${s}`);
    } catch {
      url = undefined;
    }
    if (!url || !["nats:", "tls:"].includes(url.protocol) || !url.hostname)
      throw new UserError(`"${s.slice(0, 80)}" is not a NATS server URL.`, {
        hint: "write it as nats://host:port",
        code: "usage",
      });
  }
  return servers;
}

function sameServers(a: string[], b: string[]): boolean {
  return [...a].sort().join(",") === [...b].sort().join(",");
}

function resolvePath(path: string, env: NodeJS.ProcessEnv): string {
  const p = expandTilde(path, env);
  return isAbsolute(p) ? p : resolve(p);
}
