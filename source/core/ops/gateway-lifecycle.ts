import { readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { UserError } from "../domain/errors.js";
import type { NodeConfig } from "../domain/schema.js";
import { FederationCore } from "../federation/federation.js";
import { resolveToken, routeOf } from "../infra/config.js";
import { displayPath } from "../infra/paths.js";
import { GatewayClient } from "../transport/gateway-client.js";
import { waitUntilStarted } from "./gateway-ready.js";
import { commandFailed, findOnPath, runCommand } from "./openclaw-command.js";
import {
  gatewayLogFile,
  gatewayPidFile,
  startSupervised,
  stopProcessGroup,
  type UndoStep,
  waitReady,
} from "./supervised-gateway.js";

/**
 * Who keeps a node's gateway running: clawos (a supervised child with a pid file), an OpenClaw
 * service (launchd/systemd, installed by `openclaw gateway install`), someone by hand (it
 * answers on its port but is neither), or nobody (it is not running and has no service).
 */
export type GatewayKeeper = "clawos" | "service" | "by-hand" | "none";

export interface GatewayState {
  keeper: GatewayKeeper;
  running: boolean;
  /** The gateway's process, when known (clawos's pid file, or the listener OpenClaw reports). */
  pid?: number;
}

export type LifecycleAction = "start" | "stop" | "restart";

/**
 * How long a gateway gets to shut down cleanly before it is killed. A killed gateway leaves
 * its state lease behind, and on a busy machine the next one then fails to start.
 */
const STOP_GRACE_MS = 60_000;

export interface LifecycleOptions {
  readyTimeoutMs?: number;
}

/** What a lifecycle action did, in one line, and which way it went. */
export interface LifecycleOutcome {
  keeper: GatewayKeeper;
  line: string;
}

/** `openclaw [--profile P] …`: the profile flag for a node (none for the default profile). */
export function profileArgs(profile: string | null): string[] {
  return profile && profile !== "default" ? ["--profile", profile] : [];
}

export function openclawCommandFor(node: NodeConfig, ...rest: string[]): string {
  return ["openclaw", ...profileArgs(node.profile), ...rest].join(" ");
}

/** The node, which must have a gateway on this machine; another machine's node says where to run it. */
export async function localGatewayNode(
  home: string,
  env: NodeJS.ProcessEnv,
  id: string,
  command: string,
): Promise<NodeConfig> {
  const { node, machine } = await FederationCore.using(home, env, async (core) => ({
    node: core.nodes.find((n) => n.id === id),
    machine: core.machine,
  }));
  if (!node) throw new UserError(`There is no node "${id.slice(0, 60)}".`, { code: "usage" });
  const route = routeOf(node, machine);
  if (route === "planned")
    throw new UserError(`Node ${node.id} is planned: it has no gateway yet.`, {
      code: "usage",
      hint: `create one with clawos incubate ${node.id}, or give it a port (clawos nodes add)`,
    });
  if (node.machine !== machine)
    throw new UserError(`Node ${node.id} runs on machine ${node.machine}, not on this one (${machine}).`, {
      code: "usage",
      hint: `run it there: clawos nodes ${command} ${node.id}`,
    });
  return node;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listening(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (value: boolean) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** What `openclaw gateway status --json --no-probe` says: a loaded service, and who listens on the port. */
async function serviceStatus(
  openclaw: string,
  node: NodeConfig,
  env: NodeJS.ProcessEnv,
): Promise<{ loaded: boolean; pid?: number }> {
  const result = await runCommand(
    openclaw,
    [...profileArgs(node.profile), "gateway", "status", "--json", "--no-probe"],
    env,
  );
  if (result.code !== 0) return { loaded: false };
  try {
    const start = result.output.indexOf("{");
    const status = JSON.parse(result.output.slice(start)) as {
      service?: { loaded?: unknown };
      port?: { listeners?: { pid?: unknown }[] };
    };
    const pid = status.port?.listeners?.find((l) => typeof l.pid === "number")?.pid as number | undefined;
    return { loaded: status.service?.loaded === true, ...(pid ? { pid } : {}) };
  } catch {
    return { loaded: false };
  }
}

async function supervisedPid(home: string, node: NodeConfig): Promise<number | undefined> {
  const pid = Number((await readFile(gatewayPidFile(home, node.id), "utf8").catch(() => "")).trim());
  if (pid > 0 && alive(pid)) return pid;
  if (pid > 0) await rm(gatewayPidFile(home, node.id), { force: true }); // left by a gateway that is gone
  return undefined;
}

/** Who keeps the node's gateway, and whether it runs now. */
export async function gatewayState(
  home: string,
  env: NodeJS.ProcessEnv,
  node: NodeConfig,
): Promise<GatewayState> {
  const pid = await supervisedPid(home, node);
  if (pid) return { keeper: "clawos", running: true, pid };
  const port = node.port ?? 0;
  const up = port > 0 && (await listening(node.host, port));
  const openclaw = await findOnPath("openclaw", env);
  const service = openclaw ? await serviceStatus(openclaw, node, env) : { loaded: false };
  const known = service.pid ? { pid: service.pid } : {};
  if (service.loaded) return { keeper: "service", running: up, ...known };
  return up ? { keeper: "by-hand", running: true, ...known } : { keeper: "none", running: false };
}

export function byHand(node: NodeConfig, state: GatewayState, action: LifecycleAction): UserError {
  return new UserError(
    `The gateway of ${node.id} (port ${node.port}${state.pid ? `, pid ${state.pid}` : ""}) was started by hand: neither clawos nor an OpenClaw service runs it, so clawos cannot ${action} it.`,
    {
      hint: `stop it where it runs (Ctrl+C in its terminal${state.pid ? `, or kill ${state.pid}` : ""}), then clawos nodes start ${node.id} runs it under clawos`,
    },
  );
}

async function openclawOrFail(env: NodeJS.ProcessEnv, what: string): Promise<string> {
  const openclaw = await findOnPath("openclaw", env);
  if (!openclaw)
    throw new UserError(`openclaw is not on PATH, so the gateway cannot be ${what}.`, {
      hint: "install it (npm install -g openclaw), or put it on the PATH clawos runs with",
      code: "openclaw_missing",
    });
  return openclaw;
}

/** A client for the node's gateway here, with its token. */
export async function clientFor(
  home: string,
  env: NodeJS.ProcessEnv,
  node: NodeConfig,
): Promise<GatewayClient> {
  const token = await resolveToken(node, home, env);
  return new GatewayClient(
    {
      nodeId: node.id,
      host: node.host,
      port: node.port ?? 0,
      ...(token.token ? { token: token.token } : {}),
      tokenSource: token.source,
      profile: node.profile,
      agent: node.agent,
    },
    { probeTimeoutMs: 30_000 },
  );
}

/** Stop the node's gateway the way it was started. */
export async function stopGateway(
  home: string,
  env: NodeJS.ProcessEnv,
  node: NodeConfig,
  state?: GatewayState,
): Promise<LifecycleOutcome> {
  const now = state ?? (await gatewayState(home, env, node));
  if (now.keeper === "clawos" && now.pid) {
    await stopProcessGroup(now.pid, STOP_GRACE_MS);
    await rm(gatewayPidFile(home, node.id), { force: true });
    return { keeper: "clawos", line: `Stopped the gateway of ${node.id} (pid ${now.pid}, run by clawos).` };
  }
  if (now.keeper === "service") {
    const openclaw = await openclawOrFail(env, "stopped");
    const result = await runCommand(openclaw, [...profileArgs(node.profile), "gateway", "stop"], env);
    if (result.code !== 0) throw commandFailed(openclawCommandFor(node, "gateway", "stop"), result);
    return {
      keeper: "service",
      line: `Stopped the gateway of ${node.id} through its OpenClaw service (${openclawCommandFor(node, "gateway", "stop")}).`,
    };
  }
  if (now.keeper === "by-hand") throw byHand(node, now, "stop");
  return { keeper: "none", line: `The gateway of ${node.id} is not running.` };
}

/** Start the node's gateway: through its OpenClaw service if it has one, else as a child clawos keeps. */
export async function startGateway(
  home: string,
  env: NodeJS.ProcessEnv,
  node: NodeConfig,
  options: LifecycleOptions = {},
  state?: GatewayState,
): Promise<LifecycleOutcome> {
  const now = state ?? (await gatewayState(home, env, node));
  if (now.running) {
    const by = {
      clawos: "run by clawos",
      service: "its OpenClaw service",
      "by-hand": "started by hand",
      none: "",
    }[now.keeper];
    return {
      keeper: now.keeper,
      line: `The gateway of ${node.id} is already running (${by}${now.pid ? `, pid ${now.pid}` : ""}).`,
    };
  }
  const openclaw = await openclawOrFail(env, "started");
  const timeoutMs = options.readyTimeoutMs ?? 180_000;
  const client = await clientFor(home, env, node);
  try {
    if (now.keeper === "service") {
      const command = openclawCommandFor(node, "gateway", "start");
      const result = await runCommand(openclaw, [...profileArgs(node.profile), "gateway", "start"], env);
      if (result.code !== 0) throw commandFailed(command, result);
      await waitUntilStarted(client, {
        timeoutMs,
        what: `The gateway of ${node.id}`,
        hint: `see ${openclawCommandFor(node, "gateway", "status")} and the service's log`,
      });
      return {
        keeper: "service",
        line: `Started the gateway of ${node.id} through its OpenClaw service (${command}).`,
      };
    }
    const undo: UndoStep[] = [];
    try {
      const pid = await startSupervised(home, node.id, openclaw, env, undo, node.profile);
      await waitReady(client, timeoutMs, home, node.id);
      return {
        keeper: "clawos",
        line: `Started the gateway of ${node.id} under clawos (pid ${pid}); its log is ${displayPath(gatewayLogFile(home, node.id), env)}.`,
      };
    } catch (error) {
      for (const step of undo.reverse()) await step.run().catch(() => {});
      throw error;
    }
  } finally {
    await client.close();
  }
}

export async function restartGateway(
  home: string,
  env: NodeJS.ProcessEnv,
  node: NodeConfig,
  options: LifecycleOptions = {},
): Promise<LifecycleOutcome[]> {
  const now = await gatewayState(home, env, node);
  if (now.keeper === "by-hand") throw byHand(node, now, "restart");
  const stopped = await stopGateway(home, env, node, now);
  const started = await startGateway(home, env, node, options, {
    keeper: now.keeper === "service" ? "service" : "none",
    running: false,
  });
  return [stopped, started];
}

/** `clawos nodes start|stop|restart NODE`: each line says what was done and which way. */
export async function runLifecycle(
  home: string,
  env: NodeJS.ProcessEnv,
  id: string,
  action: LifecycleAction,
  options: LifecycleOptions = {},
): Promise<LifecycleOutcome[]> {
  const node = await localGatewayNode(home, env, id, action);
  if (action === "stop") return [await stopGateway(home, env, node)];
  if (action === "start") return [await startGateway(home, env, node, options)];
  return restartGateway(home, env, node, options);
}

/** What to do later about a gateway left running when its node goes. */
export function keptRunningNote(node: NodeConfig, state: GatewayState): string {
  const how =
    state.keeper === "service"
      ? `stop it with ${openclawCommandFor(node, "gateway", "stop")}`
      : state.keeper === "clawos" && state.pid
        ? `stop it with kill ${state.pid}`
        : "stop it where it runs";
  return `the gateway of ${node.id} keeps running on port ${node.port}; ${how}`;
}
