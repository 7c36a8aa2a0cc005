/**
 * The soak's federation: `clawos init` on the hub, three remote nodes each with a stub gateway
 * and a worker, short timing, the blackboard on the small filesystem, and the hub coordinator.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CHUNK_DELAY_MS, NODES, say, TIMING } from "./plan.js";
import { type Crash, Managed, programs, runCli } from "./processes.js";

/** The shared state of one soak run: its directories, processes and whether it is ending. */
export interface SoakRun {
  root: string;
  home: string;
  logs: string;
  hubEnv: NodeJS.ProcessEnv;
  managed: Managed[];
  crashes: Crash[];
  ending: boolean;
}

export interface Federation {
  gateways: Managed[];
  workers: Managed[];
  coordinator: Managed;
}

/** Start every process and wait until each says it is ready. */
export async function startFederation(run: SoakRun, blackboard: string): Promise<Federation> {
  const { hubEnv, logs, managed } = run;
  const restartAfterCrash = (m: Managed, crash: Crash) => {
    run.crashes.push(crash);
    say(`!! ${m.name} exited unexpectedly (code ${crash.code}, signal ${crash.signal}); restarting`);
    if (run.ending) return;
    m.busy = true;
    void sleep(1000)
      .then(() => (run.ending ? undefined : m.start()))
      .catch((error: unknown) => say(`!! could not restart ${m.name}: ${String(error)}`))
      .finally(() => {
        m.busy = false;
      });
  };
  const init = await runCli(["init"], hubEnv);
  if (init.code !== 0) throw new Error(`clawos init failed: ${init.stderr}`);

  const gateways: Managed[] = [];
  const workers: Managed[] = [];
  for (const [i, node] of NODES.entries()) {
    const token = `soak-secret-${node}`;
    let port = 0;
    const gw = new Managed(
      `gateway-${node}`,
      "gateway",
      () => [
        programs.stubMain,
        "--port",
        String(port),
        "--token",
        token,
        "--chunk-delay-ms",
        String(CHUNK_DELAY_MS),
      ],
      { PATH: process.env.PATH },
      /^\{"port":\d+\}$/,
      join(logs, `gateway-${node}.log`),
      restartAfterCrash,
    );
    // The first start picks a free port; every restart reuses it (the node's registered port).
    await gw.start();
    port = (JSON.parse(gw.readyLine) as { port: number }).port;
    gateways.push(gw);
    managed.push(gw);
    const tokenEnv = `${node.toUpperCase()}_TOKEN`;
    const add = await runCli(
      ["nodes", "add", node, "--machine", `box${i + 1}`, "--port", String(port), "--token-env", tokenEnv],
      hubEnv,
    );
    if (add.code !== 0) throw new Error(`clawos nodes add ${node} failed: ${add.stderr}`);
    const worker = new Managed(
      `worker-${node}`,
      "worker",
      () => [programs.bin, "node", "run", "--node", node, "--no-coordinator", "--grace", "3"],
      { ...hubEnv, CLAWOS_MACHINE: `box${i + 1}`, [tokenEnv]: token },
      /worker started on /,
      join(logs, `worker-${node}.log`),
      restartAfterCrash,
    );
    workers.push(worker);
    managed.push(worker);
  }
  const configPath = join(run.home, ".openclaw", "clawos", "federation.json");
  const config = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
  config.timing = TIMING;
  // One home plays every machine: no machine field, so each process's CLAWOS_MACHINE names it
  // (init wrote "hub", which would win over it).
  delete config.machine;
  config.blackboard = { driver: "directory", path: blackboard, coordinator: "hub" };
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);

  const coordinator = new Managed(
    "coordinator",
    "coordinator",
    () => [programs.bin, "node", "run", "--coordinator", "--grace", "3"],
    hubEnv,
    /worker started on /,
    join(logs, "coordinator.log"),
    restartAfterCrash,
  );
  managed.push(coordinator);
  await coordinator.start();
  await Promise.all(workers.map((w) => w.start()));
  say("3 gateways, 3 workers and the coordinator are up");
  return { gateways, workers, coordinator };
}

/** Stop the workers and coordinator with SIGTERM (they must exit cleanly), then the gateways. */
export async function stopFederation(
  f: Federation,
): Promise<Record<string, { code: number | null; signal: string | null; hung: boolean }>> {
  const stops: Record<string, { code: number | null; signal: string | null; hung: boolean }> = {};
  await Promise.all(
    [...f.workers, f.coordinator].map(async (m) => {
      stops[m.name] = await m.stop("SIGTERM");
    }),
  );
  await Promise.all(f.gateways.map((g) => g.stop("SIGTERM")));
  return stops;
}
