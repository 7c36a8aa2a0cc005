/**
 * Seeding a directory blackboard for the benchmarks, through the driver itself (enqueueClaimed +
 * complete), so the files on disk are exactly the driver's: finished tasks spread back in time
 * one a minute, and heartbeats of nodes on other machines.
 */
import type { DirectoryBlackboard } from "../source/core/blackboard/directory/directory.js";
import { newTaskId } from "../source/core/domain/ids.js";
import type { TaskRequest, TaskResult } from "../source/core/domain/schema.js";

const TEXTS = [
  "检查 alpha 节点的健康状态并汇报",
  "整理今天的日志并给出摘要",
  "把 FEDERATION_STATUS.md 同步到最新",
  "summarise yesterday's failed tasks",
  "为 macbook-air 生成每周报告",
  "rotate the gateway tokens on cloud-node",
];

export interface SeedOptions {
  /** Task numbers from (inclusive) … to (exclusive); task i was created i + 1 minutes before `newest`. */
  from: number;
  to: number;
  /** The nodes the tasks ran on, round robin. */
  nodes: readonly string[];
  /** Nodes on another machine (their route says blackboard). */
  remote?: ReadonlySet<string>;
  newest?: number;
  concurrency?: number;
}

/**
 * Finished tasks through the driver: 85 % completed, 10 % failed, 5 % cancelled, one a minute
 * back in time (so the hub's coordinator archives all but the last day of them).
 * Returns how many of each status were written, and the id of the oldest.
 */
export async function seedFinishedTasks(
  bb: DirectoryBlackboard,
  options: SeedOptions,
): Promise<{ counts: Record<TaskResult["status"], number>; oldestId?: string }> {
  const counts = { completed: 0, failed: 0, cancelled: 0 } as Record<TaskResult["status"], number>;
  let oldestId: string | undefined;
  const newest = options.newest ?? Date.now() - 60_000;
  let next = options.from;
  const lane = async () => {
    for (let i = next++; i < options.to; i = next++) {
      const created = new Date(newest - i * 61_000);
      const node = options.nodes[i % options.nodes.length]!;
      const at = created.toISOString();
      const request: TaskRequest = {
        schema: "clawos.task/1",
        id: newTaskId(created),
        target: i % 4 === 0 ? "any" : node,
        priority: (["P0", "P1", "P2", "P2", "P3"] as const)[i % 5]!,
        text: `${TEXTS[i % TEXTS.length]} (#${i})`,
        tags: [],
        createdAt: at,
        createdBy: "hub",
        attempt: 1,
        maxAttempts: 3,
        route: {
          node,
          transport: options.remote?.has(node) ? "blackboard" : "localhost",
          reason: `${node} is online, 0 task(s) in flight`,
          decidedAt: at,
        },
        history: [{ at, event: "routed", detail: `${node} is online` }],
      };
      const claim = await bb.enqueueClaimed(request);
      if (!claim) throw new Error(`duplicate id ${request.id}`);
      if (i === options.to - 1) oldestId = request.id;
      const pick = i % 20;
      const status: TaskResult["status"] = pick === 0 ? "cancelled" : pick <= 2 ? "failed" : "completed";
      counts[status]++;
      await bb.complete(claim, {
        schema: "clawos.result/1",
        id: request.id,
        attempt: 1,
        node,
        status,
        ...(status === "completed"
          ? { text: `完成：${request.text}。All checks passed; nothing else needs attention today.` }
          : {
              error:
                status === "failed"
                  ? { kind: "gateway_provider_timeout", message: "upstream provider timeout" }
                  : { kind: "cancelled", message: "cancelled by request" },
            }),
        startedAt: at,
        finishedAt: new Date(created.getTime() + 4_000).toISOString(),
        durationMs: 4_000,
        model: "openclaw/main",
      });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, lane));
  return { counts, oldestId };
}

/** A fresh heartbeat of `node`, a worker on another machine `ageMs` ago. */
export async function seedHeartbeat(bb: DirectoryBlackboard, node: string, ageMs = 20_000): Promise<void> {
  const heartbeatAt = new Date(Date.now() - ageMs).toISOString();
  await bb.writeNodeStatus({
    schema: "clawos.node-status/1",
    node,
    machine: node,
    pid: 4242,
    version: "0.1.0",
    startedAt: new Date(Date.now() - 3_600_000).toISOString(),
    heartbeatAt,
    state: "running",
    inFlight: [],
    completed: 120,
    failed: 3,
    gateway: { reachable: true, latencyMs: 2, checkedAt: heartbeatAt },
  });
}
