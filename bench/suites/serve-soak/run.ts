/**
 * The serve soak's run: the server kept up and sampled, hostile clients then normal users, a
 * dispatcher and the planted-files storm, all for --minutes, then stopped.
 */
import { loadavg } from "node:os";
import { round, sleep } from "../../lib.js";
import type { DispatchedTask } from "../soak/audit.js";
import {
  type ClientStats,
  garbagePreAuth,
  garbageShell,
  hugeSizes,
  idlePreAuth,
  type NormalUser,
  normalUser,
  type Target,
} from "./clients.js";
import { DURATION_MS, elapsedS, NODES, opts, say } from "./plan.js";
import { PLANT_KINDS, type Plant, plant } from "./plants.js";
import { type Procs, procStatus } from "./procs.js";
import type { Served, SoakDirs } from "./setup.js";

export interface Sample {
  atS: number;
  rssMiB: number;
  fds: number;
  load: number;
}

/** What the run leaves for the settle and the verdict. */
export interface RunOutcome {
  userStats: NormalUser[];
  hostileStats: ClientStats[];
  dispatched: DispatchedTask[];
  /** Dispatches whose output was not a task (refused or failed). */
  refused: number;
  plants: Plant[];
  plantErrors: string[];
  samples: Sample[];
  serverRestarts: number;
  serverAliveAtEnd: boolean;
}

/** Hostile clients first, then (3 s later) the normal users, who must still get in. */
async function startClients(
  target: Target,
  stop: AbortSignal,
): Promise<{ users: Promise<NormalUser>[]; hostile: Promise<ClientStats>[] }> {
  const hostile: Promise<ClientStats>[] = [];
  const n = (k: string) => Number(opts[k as keyof typeof opts]);
  for (let i = 0; i < n("idle"); i++) hostile.push(idlePreAuth(target, stop, i % 2 === 1));
  for (let i = 0; i < n("huge"); i++) hostile.push(hugeSizes(target, i, stop));
  const garbageShells = Math.ceil(n("garbage") / 2);
  for (let i = 0; i < n("garbage"); i++)
    hostile.push(i < garbageShells ? garbageShell(target, i, stop) : garbagePreAuth(target, stop));
  await sleep(3_000);
  const users = Array.from({ length: n("normal") }, (_, i) => normalUser(target, `user${i}`, stop));
  say(`${users.length + hostile.length} clients started`);
  return { users, hostile };
}

/** `clawos dispatch … --json` in a loop, to both nodes and "any", every 0.5–1 s. */
function startDispatcher(
  procs: Procs,
  stop: AbortSignal,
): { dispatched: DispatchedTask[]; refused: () => number; done: Promise<void> } {
  const dispatched: DispatchedTask[] = [];
  let refused = 0;
  let seq = 0;
  const done = (async () => {
    while (!stop.aborted) {
      const text = `serve soak #${++seq}`;
      const to = seq % 3 === 0 ? "any" : NODES[seq % 2]!;
      const r = await procs.cli(["dispatch", text, "--to", to, "--priority", `P${seq % 4}`, "--json"]);
      try {
        const view = JSON.parse(r.stdout) as { id: string; node?: string };
        dispatched.push({
          id: view.id,
          target: to,
          priority: `P${seq % 4}`,
          text,
          routedTo: view.node ?? "?",
          dispatchedAtMs: Date.now(),
        });
      } catch {
        refused++;
      }
      await sleep(500 + Math.random() * 500);
    }
  })();
  return { dispatched, refused: () => refused, done };
}

/** The planted-files storm: every kind early, then at random, one every --plant-every seconds. */
function startStorm(
  dirs: SoakDirs,
  stop: AbortSignal,
): { plants: Plant[]; plantErrors: string[]; done: Promise<void> } {
  const plants: Plant[] = [];
  const plantErrors: string[] = [];
  const done = (async () => {
    let k = 0;
    while (!stop.aborted) {
      const kind =
        k < PLANT_KINDS.length
          ? PLANT_KINDS[k]!
          : PLANT_KINDS[Math.floor(Math.random() * PLANT_KINDS.length)]!;
      k++;
      try {
        plants.push({
          kind,
          path: await plant(dirs.blackboard, dirs.decoy, kind, k, NODES, dirs.owner),
          atS: elapsedS(),
        });
      } catch (error) {
        plantErrors.push(`${kind}: ${String(error)}`);
      }
      await sleep(Number(opts["plant-every"]) * 1000);
    }
  })();
  return { plants, plantErrors, done };
}

/** Run the load for --minutes, then stop it (`stop` aborts) and collect what every part saw. */
export async function runLoad(
  dirs: SoakDirs,
  procs: Procs,
  served: Served,
  stop: AbortController,
): Promise<RunOutcome> {
  const { server, startServer, target } = served;
  // Keep the server up: a crash is counted (a failure) and it is started again on the same port.
  let serverRestarts = 0;
  const serverWatch = (async () => {
    while (!stop.signal.aborted) {
      await sleep(1_000);
      const c = server.child;
      if (!stop.signal.aborted && c && (c.exitCode !== null || c.signalCode !== null)) {
        serverRestarts++;
        await startServer().catch((error: unknown) => say(`!! could not restart serve: ${String(error)}`));
      }
    }
  })();
  const samples: Sample[] = [];
  const sampler = setInterval(() => {
    const pid = server.child?.pid;
    const st = pid ? procStatus(pid) : undefined;
    if (st) samples.push({ atS: elapsedS(), ...st, load: round(loadavg()[0]!, 2) });
  }, 5_000);

  const { users, hostile } = await startClients(target, stop.signal);
  const dispatcher = startDispatcher(procs, stop.signal);
  const storm = startStorm(dirs, stop.signal);

  const progress = setInterval(() => {
    const last = samples.at(-1);
    say(
      `${dispatcher.dispatched.length} dispatched, ${storm.plants.length} planted, serve RSS ${last?.rssMiB} MiB fds ${last?.fds}, restarts ${serverRestarts}`,
    );
  }, 20_000);
  await sleep(DURATION_MS);
  say("time is up: stopping the clients, the dispatcher and the storm");
  stop.abort();
  clearInterval(progress);
  const userStats: NormalUser[] = await Promise.all(users);
  const hostileStats = await Promise.all(hostile);
  await Promise.all([dispatcher.done, storm.done, serverWatch]);
  clearInterval(sampler);
  const serverAliveAtEnd = server.child?.exitCode === null && server.child.signalCode === null;
  return {
    userStats,
    hostileStats,
    dispatched: dispatcher.dispatched,
    refused: dispatcher.refused(),
    plants: storm.plants,
    plantErrors: storm.plantErrors,
    samples,
    serverRestarts,
    serverAliveAtEnd,
  };
}
