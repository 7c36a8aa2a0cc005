import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, constants, mkdir, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import JSON5 from "json5";
import { isErrnoException, UserError } from "../domain/errors.js";
import { isValidNodeId } from "../domain/ids.js";
import { writeFileAtomic } from "../infra/atomic-file.js";
import { loadConfig, parseNode, saveConfig, thisMachine } from "../infra/config.js";
import { displayPath, openclawStateDir, tokensDir } from "../infra/paths.js";
import { GatewayClient } from "../transport/gateway-client.js";
import { waitUntilStarted } from "./gateway-ready.js";
import { discoverProfiles } from "./openclaw-profiles.js";

/** OpenClaw uses base+2 and base+11…base+110 besides the base port: keep instances this far apart. */
export const PORT_SPACING = 20;
export const FIRST_BASE_PORT = 18789;

export interface IncubateOptions {
  name: string;
  port?: number;
  agent?: string;
  model?: { baseUrl: string; id: string; apiKey: string; providerId: string };
  /** Extra `openclaw config set KEY VALUE` pairs (e.g. discovery.mdns.mode=off). */
  settings?: [string, string][];
  start?: boolean;
  /** Install as a launchd/systemd service (openclaw gateway install) instead of a supervised child. */
  service?: boolean;
  configOnly?: boolean;
  readyTimeoutMs?: number;
}

export type StepStatus = "running" | "done" | "warning" | "failed" | "undone";
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
}

/** Pure: the first base port ≥ PORT_SPACING away from every known gateway. */
/** Base ports 18789, 18809, … that keep PORT_SPACING from every port in `used`. */
export function* candidateBasePorts(used: number[]): Generator<number> {
  for (let port = FIRST_BASE_PORT; port < 65_000; port += PORT_SPACING) {
    if (used.every((u) => Math.abs(u - port) >= PORT_SPACING)) yield port;
  }
}

const NO_PORT = "No free base port found between 18789 and 65000.";

export function pickBasePort(used: number[], isFree: (port: number) => boolean = () => true): number {
  for (const port of candidateBasePorts(used)) if (isFree(port)) return port;
  throw new UserError(NO_PORT);
}

/** Pure: pairs of known gateways already closer than PORT_SPACING (such as the seed's 18789/18790). */
export function portOverlaps(known: { id: string; port: number }[]): string[] {
  const out: string[] = [];
  for (const [i, a] of known.entries()) {
    for (const b of known.slice(i + 1)) {
      if (Math.abs(a.port - b.port) < PORT_SPACING) {
        out.push(
          `${a.id} (${a.port}) and ${b.id} (${b.port}) are only ${Math.abs(a.port - b.port)} ports apart; OpenClaw's browser ports (base+2, base+11…) will clash`,
        );
      }
    }
  }
  return out;
}

export function portIsFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export async function findOnPath(command: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split(".");
  let cursor = target;
  for (const part of parts.slice(0, -1)) {
    const next = cursor[part];
    cursor[part] = typeof next === "object" && next !== null ? next : {};
    cursor = cursor[part] as Record<string, unknown>;
  }
  cursor[parts.at(-1)!] = value;
}

function parseSettingValue(raw: string): unknown {
  try {
    return JSON5.parse(raw);
  } catch {
    return raw;
  }
}

/** The openclaw.json that `onboard` would write, written directly (--config-only). */
export function profileConfigFor(
  options: IncubateOptions,
  port: number,
  token: string,
): Record<string, unknown> {
  const config: Record<string, unknown> = {
    gateway: {
      mode: "local",
      port,
      bind: "loopback",
      auth: { mode: "token", token },
      http: { endpoints: { chatCompletions: { enabled: true } } },
    },
  };
  if (options.model) {
    const m = options.model;
    config.models = {
      providers: {
        [m.providerId]: {
          baseUrl: m.baseUrl,
          apiKey: m.apiKey,
          api: "openai-completions",
          models: [
            {
              id: m.id,
              name: m.id,
              reasoning: false,
              input: ["text"],
              cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
              contextWindow: 32_768,
              maxTokens: 4_096,
            },
          ],
        },
      },
    };
    config.agents = { defaults: { model: { primary: `${m.providerId}/${m.id}` } } };
  }
  for (const [key, value] of options.settings ?? []) setPath(config, key, parseSettingValue(value));
  return config;
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin?: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env,
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (stdin !== undefined) {
      child.stdin?.on("error", () => {}); // it exited without reading: its exit code says why
      child.stdin?.end(stdin);
    }
    let output = "";
    child.stdout?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-8_000);
    });
    child.stderr?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-8_000);
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

/** Remove secrets the command echoed back before showing its output. */
function redact(text: string, ...secrets: string[]): string {
  for (const secret of secrets) if (secret) text = text.split(secret).join("<secret>");
  return text;
}

/** `what` failed: its last line of output, secrets removed, in one short error. */
function commandFailed(
  what: string,
  result: { code: number | null; output: string },
  ...secrets: string[]
): UserError {
  const last =
    redact(result.output, ...secrets)
      .trim()
      .split("\n")
      .at(-1) ?? "";
  return new UserError(`${what} failed (exit ${result.code}): ${last}`.slice(0, 400));
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
  return withIncubateLock(home, () => incubateNow(home, env, options, onStep));
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
  const total = 5 + (options.start ? 1 : 0);
  let current = 0;
  const undo: { title: string; run: () => Promise<void> }[] = [];
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

  const profileDir = openclawStateDir(name, env);
  const tokenFile = join(tokensDir(home), `${name}.token`);
  let token = "";
  try {
    // 1. Name and port.
    const loaded = await loadConfig(home);
    const machine = thisMachine(loaded.config, env);
    const port = await step("Check the name and pick a port", async () => {
      if (!isValidNodeId(name) || name === "main" || name === "default") {
        throw new UserError(`"${name}" cannot be a node and profile name.`, {
          hint: "use lowercase letters, digits and '-' (not main or default)",
          code: "usage",
        });
      }
      if (loaded.config.nodes.some((n) => n.id === name)) {
        throw new UserError(`Node "${name}" already exists.`, {
          hint: "pick another name, or clawos nodes remove it first",
        });
      }
      try {
        await stat(profileDir);
        throw new UserError(`${displayPath(profileDir, env)} already exists.`, {
          hint: "pick another name, or register that profile with clawos init",
        });
      } catch (error) {
        if (!isErrnoException(error, "ENOENT")) throw error;
      }
      const profiles = await discoverProfiles(env);
      const known = [
        ...loaded.config.nodes
          .filter((n) => n.machine === machine && n.port !== null)
          .map((n) => ({ id: n.id, port: n.port! })),
        ...profiles
          .filter((p) => !loaded.config.nodes.some((n) => n.port === p.port))
          .map((p) => ({ id: p.profile ?? "main", port: p.port })),
      ];
      for (const overlap of portOverlaps(known)) warn(`existing ${overlap}`);
      const used = known.map((k) => k.port);
      if (options.port !== undefined) {
        const near = known.find((k) => Math.abs(k.port - options.port!) < PORT_SPACING);
        if (near) {
          throw new UserError(
            `Port ${options.port} is only ${Math.abs(near.port - options.port)} away from ${near.id} (${near.port}).`,
            {
              hint: `OpenClaw needs ${PORT_SPACING} ports between instances; leave out --port to get one picked`,
              code: "usage",
            },
          );
        }
        if (!(await portIsFree(options.port))) {
          throw new UserError(`Port ${options.port} is already taken on 127.0.0.1.`, {
            hint: "pick another --port, or leave it out",
          });
        }
        return options.port;
      }
      for (const port of candidateBasePorts(used)) if (await portIsFree(port)) return port;
      throw new UserError(NO_PORT);
    });

    // 2. Token, mode 0600, never printed.
    await step("Generate the gateway token", async () => {
      token = randomBytes(24).toString("hex");
      await mkdir(tokensDir(home), { recursive: true, mode: 0o700 });
      const handle = await open(tokenFile, "wx", 0o600);
      undo.push({ title: "remove the token file", run: () => rm(tokenFile, { force: true }) });
      await handle.writeFile(`${token}\n`);
      await handle.close();
    });

    // 3. The OpenClaw profile.
    await step(
      options.configOnly
        ? "Write the OpenClaw profile config"
        : "Create the OpenClaw profile (openclaw onboard)",
      async () => {
        undo.push({
          title: `remove ${displayPath(profileDir, env)}`,
          run: () => rm(profileDir, { recursive: true, force: true }),
        });
        if (options.configOnly) {
          await mkdir(profileDir, { recursive: true, mode: 0o700 });
          await writeFileAtomic(
            join(profileDir, "openclaw.json"),
            `${JSON.stringify(profileConfigFor(options, port, token), null, 2)}\n`,
            {
              mode: 0o600,
            },
          );
          return;
        }
        const openclaw = await findOnPath("openclaw", env);
        if (!openclaw) {
          throw new UserError("openclaw is not on PATH, so the profile cannot be created.", {
            hint: "install it (npm install -g openclaw) or use --config-only to write the config directly",
            code: "openclaw_missing",
          });
        }
        const args = [
          "--profile",
          name,
          "onboard",
          "--non-interactive",
          "--accept-risk",
          "--mode",
          "local",
          "--flow",
          "quickstart",
          "--gateway-port",
          String(port),
          "--gateway-bind",
          "loopback",
          "--gateway-auth",
          "token",
          "--no-install-daemon",
          "--skip-channels",
          "--skip-skills",
          "--skip-search",
          "--skip-health",
          "--skip-ui",
          "--skip-hooks",
          "--json",
        ];
        if (options.model) {
          const m = options.model;
          args.push(
            "--auth-choice",
            "custom-api-key",
            "--custom-base-url",
            m.baseUrl,
            "--custom-model-id",
            m.id,
            "--custom-provider-id",
            m.providerId,
            "--custom-compatibility",
            "openai",
          );
        }
        // Secrets never go on a command line (every local user can read those in ps): the
        // model key through the environment, which onboard reads when --custom-api-key is
        // left out, and the gateway token through stdin by `config patch` below.
        const onboard = await run(
          openclaw,
          args,
          options.model ? { ...env, CUSTOM_API_KEY: options.model.apiKey } : env,
        );
        if (onboard.code !== 0) {
          throw commandFailed("openclaw onboard", onboard, token, options.model?.apiKey ?? "");
        }
        const patch = JSON.stringify({ gateway: { auth: { mode: "token", token } } });
        const patched = await run(openclaw, ["--profile", name, "config", "patch", "--stdin"], env, patch);
        if (patched.code !== 0)
          throw commandFailed("openclaw config patch (the gateway token)", patched, token);
        const settings: [string, string][] = [
          ["gateway.http.endpoints.chatCompletions.enabled", "true"],
          ...(options.settings ?? []),
        ];
        for (const [key, value] of settings) {
          const set = await run(openclaw, ["--profile", name, "config", "set", key, value], env);
          if (set.code !== 0) throw commandFailed(`openclaw config set ${key}`, set, token);
        }
      },
    );

    // 4. Start it.
    let started = false;
    if (options.start) {
      await step(
        options.service ? "Install and start the gateway service" : "Start the gateway",
        async () => {
          const openclaw = await findOnPath("openclaw", env);
          if (!openclaw) {
            throw new UserError("openclaw is not on PATH, so the gateway cannot be started.", {
              hint: "install it (npm install -g openclaw), or leave out --start and start it yourself",
              code: "openclaw_missing",
            });
          }
          if (options.service) {
            undo.push({
              title: "uninstall the service",
              run: async () => void (await run(openclaw, ["--profile", name, "gateway", "uninstall"], env)),
            });
            const install = await run(openclaw, ["--profile", name, "gateway", "install"], env);
            if (install.code !== 0) throw commandFailed("openclaw gateway install", install, token);
          } else {
            await startSupervised(home, name, openclaw, env, undo);
          }
          started = true;
        },
      );
    }

    // 5. Ready and answering with the token.
    await step(options.start ? "Wait for the gateway to be ready" : "Check the profile", async () => {
      if (!options.start) return;
      const client = new GatewayClient({
        nodeId: name,
        host: "127.0.0.1",
        port,
        token,
        tokenSource: `token file ${displayPath(tokenFile, env)}`,
        profile: name,
        agent: options.agent ?? "main",
      });
      try {
        await waitReady(client, options.readyTimeoutMs ?? 180_000, home, name);
        await client.models(AbortSignal.timeout(10_000));
      } finally {
        await client.close();
      }
    });

    // 6. Register: last, so a failure before never leaves a half-made node in the registry.
    await step("Register the node", async () => {
      const fresh = await loadConfig(home);
      fresh.config.nodes.push(
        parseNode({
          id: name,
          machine,
          port,
          profile: name,
          agent: options.agent ?? "main",
          token: { file: tokenFile },
          notes: "incubated",
        }),
      );
      await saveConfig(fresh);
    });
    return { node: name, port, profileDir, tokenFile, started, warnings };
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

export function gatewayPidFile(home: string, name: string): string {
  return join(home, "run", `${name}.gateway.pid`);
}
export function gatewayLogFile(home: string, name: string): string {
  return join(home, "logs", `${name}-gateway.log`);
}

/** Start `openclaw --profile NAME gateway run` in the background, logging to a file; remember its pid. */
export async function startSupervised(
  home: string,
  name: string,
  openclaw: string,
  env: NodeJS.ProcessEnv,
  undo: { title: string; run: () => Promise<void> }[],
): Promise<void> {
  await mkdir(join(home, "run"), { recursive: true });
  await mkdir(join(home, "logs"), { recursive: true });
  const log = await open(gatewayLogFile(home, name), "a", 0o600);
  const child = spawn(openclaw, ["--profile", name, "gateway", "run"], {
    env: { ...env, OPENCLAW_DISABLE_BONJOUR: env.OPENCLAW_DISABLE_BONJOUR ?? "1" },
    stdio: ["ignore", log.fd, log.fd],
    detached: true,
  });
  await log.close();
  const pid = child.pid;
  if (!pid) throw new UserError("The gateway process could not be started.");
  child.unref();
  await writeFile(gatewayPidFile(home, name), `${pid}\n`);
  undo.push({
    title: "stop the gateway",
    run: async () => {
      await stopProcessGroup(pid);
      await rm(gatewayPidFile(home, name), { force: true });
    },
  });
}

export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      return;
    }
  }
  for (let waited = 0; waited < graceMs && alive(); waited += 100) await sleep(100);
  if (alive()) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export async function waitReady(
  client: GatewayClient,
  timeoutMs: number,
  home: string,
  name: string,
): Promise<void> {
  const pid = Number((await readFile(gatewayPidFile(home, name), "utf8").catch(() => "")).trim());
  await waitUntilStarted(client, {
    timeoutMs,
    what: "The gateway",
    hint: `see ${gatewayLogFile(home, name)}; a first start can take a minute on a small machine (--ready-timeout)`,
    checkAlive: async () => {
      if (!pid) return;
      try {
        process.kill(pid, 0);
      } catch {
        const tail = (await readFile(gatewayLogFile(home, name), "utf8").catch(() => ""))
          .trim()
          .split("\n")
          .slice(-3)
          .join(" | ");
        throw new UserError(`The gateway exited before it was ready: ${tail.slice(0, 300)}`, {
          hint: `see ${gatewayLogFile(home, name)}`,
        });
      }
    },
  });
}
