/**
 * Syscalls per task of the directory driver: one process drains a board that another
 * filled, so `strace -c -f` of the drain counts only claim → complete.
 *
 *   node dist/bench/tools/drain-syscalls.js --root DIR --tasks 300 --phase fill
 *   strace -c -f -o /tmp/drain.strace node dist/bench/tools/drain-syscalls.js --root DIR --phase drain
 *
 * The drain prints how many tasks it finished (divide strace's call counts by it) and its CPU
 * time per task, which load on the machine disturbs far less than a throughput does.
 *
 * --handles K drains through K handles in turn, as K workers would (each lists and orders the
 * inbox itself and finds its listing stale as the others claim), without their scheduling.
 */
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import { newTaskId } from "../../source/core/domain/ids.js";
import type { TaskRequest } from "../../source/core/domain/schema.js";
import { benchArgs, completedResult } from "../lib.js";

const values = benchArgs({
  root: { type: "string" },
  tasks: { type: "string", default: "300" },
  phase: { type: "string", default: "drain" },
  node: { type: "string", default: "worker-pool" },
  handles: { type: "string", default: "1" },
});
if (!values.root) {
  process.stderr.write("usage: drain-syscalls --root DIR [--tasks N] --phase fill|drain\n");
  process.exit(2);
}
const node = values.node;
const bb = new DirectoryBlackboard(values.root);
await bb.init();

if (values.phase === "fill") {
  const base = Date.now() - 60_000;
  for (let i = 0; i < Number(values.tasks); i++) {
    const at = new Date(base + i);
    const request: TaskRequest = {
      schema: "clawos.task/1",
      id: newTaskId(at),
      target: node,
      priority: "P2",
      text: `drain task ${i}`,
      tags: [],
      createdAt: at.toISOString(),
      createdBy: "hub",
      attempt: 1,
      maxAttempts: 3,
      route: { node, transport: "blackboard", reason: "bench", decidedAt: at.toISOString() },
      history: [],
    };
    if (!(await bb.enqueue(request)).created) throw new Error(`id collision: ${request.id}`);
  }
  console.log(`filled ${values.tasks} tasks into ${values.root}`);
} else {
  const handles = [bb];
  for (let k = 1; k < Number(values.handles); k++) {
    handles.push(new DirectoryBlackboard(values.root));
    await handles.at(-1)!.init();
  }
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let turn = 0, idle = 0; idle < handles.length; turn++) {
    const h = handles[turn % handles.length]!;
    const claim = await h.claim(node);
    if (!claim) {
      idle++;
      continue;
    }
    idle = 0;
    if (await h.complete(claim, completedResult(claim))) done++;
  }
  const wall = performance.now() - t0;
  for (const h of handles.slice(1)) await h.close();
  const { user, system } = process.cpuUsage(cpu0);
  console.log(
    `drained ${done} tasks: ${Math.round(wall)} ms wall, CPU per task ${Math.round(user / done)} µs user + ${Math.round(system / done)} µs sys`,
  );
}
await bb.close();
