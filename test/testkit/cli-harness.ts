/**
 * Runs the real `clawos` binary (dist/clawos/bin.js, the bundle `npm run build` makes) as a child process in a throwaway
 * HOME, so tests see exactly what a user sees: stdout, stderr and the exit code.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess, watchOutput } from "./process.js";

export const BIN = fileURLToPath(new URL("../../clawos/bin.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface World {
  home: string;
  clawosHome: string;
  blackboard: string;
  env: NodeJS.ProcessEnv;
  run(
    args: string[],
    options?: {
      env?: NodeJS.ProcessEnv;
      input?: string;
      timeoutMs?: number;
      /** Run as this user (tests running as root). */
      user?: { uid: number; gid: number };
    },
  ): Promise<CliResult>;
  spawn(args: string[], options?: { env?: NodeJS.ProcessEnv }): RunningCli;
  /** Write ~/.openclaw[-profile]/openclaw.json (JSON5 is fine). */
  writeProfile(profile: string | null, content: string): Promise<void>;
  cleanup(): Promise<void>;
}

export interface RunningCli {
  child: ChildProcess;
  output(): string;
  /** Resolves when the combined output contains `text`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

export async function makeWorld(): Promise<World> {
  const home = await mkdtemp(join(tmpdir(), "clawos-test-"));
  const clawosHome = join(home, ".openclaw", "clawos");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    CLAWOS_MACHINE: "hub",
    NO_COLOR: "1",
    // Tests run their own workers (or none, to see a task wait); the ones about the automatic
    // start turn it back on.
    CLAWOS_WORKER_AUTOSTART: "0",
  };
  const children: ChildProcess[] = [];
  const world: World = {
    home,
    clawosHome,
    blackboard: join(clawosHome, "clawos-blackboard", "federation"),
    env,
    async run(args, options = {}) {
      const { code, stdout, stderr } = await runProcess(process.execPath, [BIN, ...args], {
        env: { ...env, ...options.env },
        input: options.input ?? "",
        timeoutMs: options.timeoutMs ?? 60_000,
        name: `clawos ${args.join(" ")}`,
        ...(options.user ? { user: options.user } : {}),
      });
      return { code, stdout, stderr };
    },
    spawn(args, options = {}) {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { ...env, ...options.env },
        stdio: "pipe",
      });
      children.push(child);
      const watch = watchOutput(child);
      const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      return {
        child,
        output: watch.output,
        exited,
        waitFor: (test, timeoutMs = 30_000) =>
          watch.waitFor(test, timeoutMs, (output) => `never saw ${String(test)} in:\n${output}`),
      };
    },
    async writeProfile(profile, content) {
      const dir = join(home, profile ? `.openclaw-${profile}` : ".openclaw");
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "openclaw.json"), content);
    },
    async cleanup() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      // Gateways clawos started supervised (incubate --start, migrate --rollback) have their own process group.
      const run = join(clawosHome, "run");
      for (const name of await readdir(run).catch(() => [] as string[])) {
        if (!name.endsWith(".gateway.pid")) continue;
        const pid = Number((await readFile(join(run, name), "utf8").catch(() => "")).trim());
        if (!pid) continue;
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await stopBackgroundWorkers(home, clawosHome);
      await rm(home, { recursive: true, force: true });
    },
  };
  return world;
}

/**
 * Background workers a command started (`<home>/run/worker.json`) in this world's homes: the
 * default one and any directly under HOME (a quick start's CLAWOS_HOME). Detached, they would
 * outlive the test.
 */
async function stopBackgroundWorkers(home: string, clawosHome: string): Promise<void> {
  const homes = [clawosHome, ...(await readdir(home).catch(() => [] as string[])).map((d) => join(home, d))];
  for (const dir of homes) {
    const record = await readFile(join(dir, "run", "worker.json"), "utf8").catch(() => "");
    const pid = record ? Number((JSON.parse(record) as { pid?: number }).pid) : 0;
    const args = pid ? await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "") : "";
    if (!args.includes(`\0${dir}\0`)) continue; // gone, or the number is another process's now
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Pids of live `clawos … --home HOME node run` processes (what `ps` would list). */
export async function workerPids(home: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const args = (await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "")).split("\0");
    const at = args.indexOf("--home");
    if (at > 0 && args[at + 1] === home && args.includes("node") && args.includes("run"))
      pids.push(Number(name));
  }
  return pids;
}

/** A profile config as OpenClaw writes it (JSON5, with comments), pointing at a gateway port. */
export function profileConfig(
  port: number,
  token: string,
  options: { chatCompletions?: boolean } = {},
): string {
  return `// written by the test, as openclaw onboard would
{
  gateway: {
    mode: "local",
    port: ${port},
    bind: "loopback",
    auth: { mode: "token", token: "${token}" },
    http: { endpoints: { chatCompletions: { enabled: ${options.chatCompletions ?? true} } } },
  },
}
`;
}

/** A fresh world whose default OpenClaw profile points at a gateway on `port`: `clawos init` registers it as main. */
export async function worldWithMain(port: number, token: string): Promise<World> {
  const world = await makeWorld();
  await world.writeProfile(null, profileConfig(port, token));
  const init = await world.run(["init"]);
  if (init.code !== 0) throw new Error(`clawos init failed: ${init.stderr}`);
  return world;
}

/** Register node `id` of another machine, its gateway on `port`, its token in $tokenEnv. */
export async function addNodeOf(world: World, machine: string, id: string, port: number, tokenEnv: string) {
  const add = await world.run([
    "nodes",
    "add",
    id,
    "--machine",
    machine,
    "--port",
    String(port),
    "--token-env",
    tokenEnv,
  ]);
  if (add.code !== 0) throw new Error(`clawos nodes add ${id} failed: ${add.stderr}`);
}

/** Edit federation.json in place (tests shorten leases and intervals this way). */
export async function editConfig(
  world: World,
  edit: (config: Record<string, unknown>) => void,
): Promise<void> {
  const { readFile } = await import("node:fs/promises");
  const path = join(world.clawosHome, "federation.json");
  const config = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
  edit(config);
  await writeFile(path, JSON.stringify(config, null, 2));
}

export const FAST_TIMING = {
  leaseMs: 1500,
  heartbeatMs: 300,
  rescanMs: 300,
  staleAfterMs: 10_000,
  asleepAfterMs: 60_000,
  rerouteAfterMs: 1000,
};
