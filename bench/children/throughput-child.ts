import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import { benchArgs, completedResult, disableFsync } from "../lib.js";

const values = benchArgs({
  root: { type: "string" },
  node: { type: "string" },
  concurrency: { type: "string", default: "2" },
  ablate: { type: "string", default: "" },
});
if (!values.root || !values.node || !process.send) {
  process.stderr.write("usage: throughput-child --root DIR --node ID (spawned with an IPC channel)\n");
  process.exit(2);
}
const node = values.node;
const send = (message: unknown) => process.send!(message);
const ablate = new Set(values.ablate.split(",").filter(Boolean));
if (ablate.has("nofsync")) await disableFsync();
const bb = new DirectoryBlackboard(values.root);
await bb.init();

const claimed: string[] = [];
const completed: string[] = [];
let lostCompletions = 0;
let emptyClaims = 0;
let lastCompleteNs = 0n;
let stopping = false;
let going = false;
/** CPU time of this worker from "go" to "stop": the suite divides the workers' sum by the tasks. */
let cpuAtGo = process.cpuUsage();
const waiting = new Set<() => void>();
const wakeAll = () => {
  for (const wake of [...waiting]) wake();
};

/** Ablation "nowatch": no inbox watch (an idle worker polls every 20 ms): what the watch events cost. */
const unwatch = ablate.has("nowatch") ? () => {} : bb.watch({ inboxOf: node }, wakeAll);

/**
 * Ablation "claim-random": instead of claim(node) — which lists, parses (cached) and sorts
 * the whole inbox on every call — keep one listing, try its ids in random order with
 * claim(node, id), and list again only when it is used up. Tells how much of the cost is
 * the per-claim ordering of the inbox and the 4 workers all racing for the same head.
 */
let candidates: string[] = [];
async function claimNext() {
  if (!ablate.has("claim-random")) return bb.claim(node);
  for (let pass = 0; pass < 2; pass++) {
    if (candidates.length === 0) candidates = await bb.pendingIds(node);
    while (candidates.length) {
      const i = Math.floor(Math.random() * candidates.length);
      const id = candidates[i]!;
      candidates[i] = candidates.at(-1)!;
      candidates.pop();
      const claim = await bb.claim(node, id);
      if (claim) return claim;
    }
  }
  return undefined;
}

let reported = 0;
const inFlight = new Set<Promise<void>>();

async function finish(claim: NonNullable<Awaited<ReturnType<typeof claimNext>>>): Promise<void> {
  const won = await bb.complete(claim, completedResult(claim));
  if (won) {
    completed.push(claim.request.id);
    lastCompleteNs = process.hrtime.bigint();
  } else lostCompletions++;
  if (completed.length - reported >= 100) {
    reported = completed.length;
    send({ type: "progress", completed: reported, lastCompleteNs: lastCompleteNs.toString() });
  }
}

/** One claim loop, as the worker's pump: claim while fewer than `concurrency` tasks are in flight. */
async function work(): Promise<void> {
  const concurrency = Number(values.concurrency);
  while (!stopping) {
    if (inFlight.size >= concurrency) {
      await Promise.race(inFlight);
      continue;
    }
    const claim = await claimNext();
    if (!claim) {
      emptyClaims++;
      if (completed.length !== reported) {
        reported = completed.length;
        send({ type: "progress", completed: reported, lastCompleteNs: lastCompleteNs.toString() });
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          waiting.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, 20);
        waiting.add(wake);
      });
      continue;
    }
    claimed.push(claim.request.id);
    const running: Promise<void> = finish(claim).finally(() => inFlight.delete(running));
    inFlight.add(running);
  }
  await Promise.all(inFlight);
}

let working: Promise<void> = Promise.resolve();
process.on("message", (message: { type?: string }) => {
  if (message?.type === "go" && !going) {
    going = true;
    cpuAtGo = process.cpuUsage();
    working = work();
  }
  if (message?.type === "stop") {
    stopping = true;
    wakeAll();
    void working.then(() => {
      unwatch();
      const cpu = process.cpuUsage(cpuAtGo);
      process.send!(
        { type: "final", claimed, completed, lostCompletions, emptyClaims, cpuUs: [cpu.user, cpu.system] },
        () => process.exit(0),
      );
    });
  }
});
setTimeout(() => send({ type: "ready" }), 100);
