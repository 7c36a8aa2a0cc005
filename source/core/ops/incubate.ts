import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { isErrnoException, UserError } from "../domain/errors.js";
import { FederationCore } from "../federation/federation.js";
import { loadConfig, thisMachine } from "../infra/config.js";
import { gatewayLogOf } from "../infra/openclaw-logs.js";
import { openclawStateDir, tokensDir } from "../infra/paths.js";
import { firstTurn, planModel, withModelKey } from "./incubate-model.js";
import {
  checkGatewayAnswers,
  checkNameAndPickPort,
  createProfile,
  type Incubation,
  registerNode,
  startGateway,
  writeGatewayToken,
} from "./incubate-steps.js";
import type { UndoStep } from "./supervised-gateway.js";
import type { TurnCheck } from "./turn-check.js";

export interface IncubateOptions {
  name: string;
  port?: number;
  agent?: string;
  /** A custom model server; its key in `apiKey`, or read by incubate from `apiKeyFile` (0600 advised). */
  model?: { baseUrl: string; id: string; apiKey: string; apiKeyFile?: string; providerId: string };
  /** Copy the model and its auth from this node's profile (default: main, else the first local node with one). */
  modelFrom?: string;
  /** Make the node without a model, on purpose. */
  noModel?: boolean;
  /** Extra `openclaw config set KEY VALUE` pairs (e.g. discovery.mdns.mode=off). */
  settings?: [string, string][];
  start?: boolean;
  /** Install as a launchd/systemd service (openclaw gateway install) instead of a supervised child. */
  service?: boolean;
  configOnly?: boolean;
  readyTimeoutMs?: number;
}

export type StepStatus = "running" | "done" | "note" | "warning" | "failed" | "undone";
export interface StepEvent {
  step: number;
  total: number;
  title: string;
  status: StepStatus;
  detail?: string;
}

export interface IncubateResult {
  node: string;
  port: number;
  profileDir: string;
  tokenFile: string;
  started: boolean;
  warnings: string[];
  /** "provider/model" and where it came from, or undefined when the node has none. */
  model?: { primary: string; from: string };
  /** The first turn (with --start): how long it took, or why it failed and the fix. */
  turn?: TurnCheck;
  /** The gateway's log file on this machine. */
  logFile: string;
}

/**
 * `clawos incubate NAME`: a new local OpenClaw instance on its own port, registered as a node.
 * Every step that creates something records how to undo it; a failure undoes them all,
 * newest first, so no half-made node or stray directory is left.
 */
export async function incubate(
  home: string,
  env: NodeJS.ProcessEnv,
  options: IncubateOptions,
  onStep: (event: StepEvent) => void = () => {},
): Promise<IncubateResult> {
  return withIncubateLock(home, async () => incubateNow(home, env, await withModelKey(options), onStep));
}

/**
 * One incubation at a time per federation home: two at once would each see the other's
 * port as free (its profile does not exist yet) and pick the same one. A lock left by a
 * process that is gone is taken over.
 */
async function withIncubateLock<T>(home: string, body: () => Promise<T>): Promise<T> {
  const path = join(home, "run", "incubate.lock");
  await mkdir(join(home, "run"), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      if (!isErrnoException(error, "EEXIST")) throw error;
      const pid = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
      if (attempt > 0 || (pid > 0 && processIsAlive(pid))) {
        throw new UserError(
          `Another clawos incubate${pid > 0 ? ` (pid ${pid})` : ""} is creating a node in ${home} right now.`,
          { hint: "wait for it to finish and run this again: two at once would pick the same port" },
        );
      }
      await rm(path, { force: true }); // left by a process that is gone
    }
  }
  try {
    return await body();
  } finally {
    await rm(path, { force: true });
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !isErrnoException(error, "ESRCH");
  }
}

async function incubateNow(
  home: string,
  env: NodeJS.ProcessEnv,
  options: IncubateOptions,
  onStep: (event: StepEvent) => void,
): Promise<IncubateResult> {
  const name = options.name;
  const total = 5 + (options.start ? 2 : 0);
  let current = 0;
  const undo: UndoStep[] = [];
  const warnings: string[] = [];
  const step = async <T>(title: string, body: () => Promise<T>): Promise<T> => {
    current++;
    onStep({ step: current, total, title, status: "running" });
    const value = await body();
    onStep({ step: current, total, title, status: "done" });
    return value;
  };
  const warn = (detail: string) => {
    warnings.push(detail);
    onStep({ step: current, total, title: "warning", status: "warning", detail });
  };
  const note = (detail: string) => onStep({ step: current, total, title: "note", status: "note", detail });

  const profileDir = openclawStateDir(name, env);
  const tokenFile = join(tokensDir(home), `${name}.token`);
  const run: Incubation = { home, env, options, name, profileDir, tokenFile, undo, warn, note };
  try {
    const loaded = await loadConfig(home);
    const machine = thisMachine(loaded.config, env);
    const port = await step("Check the name and pick a port", () => checkNameAndPickPort(run, machine));
    const nodes = await FederationCore.using(home, env, async (core) => core.nodes);
    const model = await planModel(run, nodes, machine);
    const token = await step("Generate the gateway token", () => writeGatewayToken(run));
    await step(
      options.configOnly
        ? "Write the OpenClaw profile config"
        : "Create the OpenClaw profile (openclaw onboard)",
      () => createProfile(run, port, token, model),
    );
    let started = false;
    if (options.start) {
      await step(
        options.service ? "Install and start the gateway service" : "Start the gateway",
        async () => {
          await startGateway(run, token);
          started = true;
        },
      );
    }
    await step(options.start ? "Wait for the gateway to be ready" : "Check the profile", async () => {
      if (options.start) await checkGatewayAnswers(run, port, token);
    });
    const logFile = await gatewayLogOf(name, env);
    // A gateway that runs but cannot answer is kept (see firstTurn): the fix is one command away.
    const turn = options.start
      ? await step("Run a first turn through /v1/chat/completions", () =>
          firstTurn(run, port, token, logFile),
        )
      : undefined;
    // Register last, so a failure before never leaves a half-made node in the registry.
    await step("Register the node", () => registerNode(run, machine, port));
    return {
      node: name,
      port,
      profileDir,
      tokenFile,
      started,
      warnings,
      ...(model.primary ? { model: { primary: model.primary, from: model.from } } : {}),
      ...(turn ? { turn } : {}),
      logFile,
    };
  } catch (error) {
    onStep({
      step: current,
      total,
      title: "failed",
      status: "failed",
      detail: error instanceof Error ? error.message : String(error),
    });
    for (const u of undo.reverse()) {
      try {
        await u.run();
        onStep({ step: current, total, title: `rolled back: ${u.title}`, status: "undone" });
      } catch {
        onStep({ step: current, total, title: `could not ${u.title}`, status: "warning" });
      }
    }
    throw error;
  }
}
