import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import JSON5 from "json5";
import type { SFTPWrapper } from "ssh2";
import { isErrnoException, UserError } from "../domain/errors.js";
import { NodeConfig, type SshSettings } from "../domain/schema.js";
import { writeFileAtomic } from "../infra/atomic-file.js";
import { loadConfig, resolveToken, routeOf, saveConfig, thisMachine } from "../infra/config.js";
import { displayPath, openclawStateDir } from "../infra/paths.js";
import { GatewayClient } from "../transport/gateway-client.js";
import { parseSshTarget, SshSession } from "../transport/ssh-route.js";
import { waitUntilStarted } from "./gateway-ready.js";
import { findOnPath } from "./openclaw-command.js";
import {
  gatewayPidFile,
  startSupervised,
  stopProcessGroup,
  type UndoStep,
  waitReady,
} from "./supervised-gateway.js";

/** Workspace files that make an agent what it is; caches, locks, logs and sessions never travel. */
const WORKSPACE_FILE = /\.(md|txt|json|json5|ya?ml)$/i;
const NEVER =
  /(^|\/)(cache|caches|\.cache|locks?|logs?|sessions?|tmp|node_modules|\.git)(\/|$)|\.(lock|log|sqlite|db|pid|sock)$/i;

export interface MigrateOptions {
  node: string;
  to: string;
  identityFile?: string;
  knownHosts?: string;
  remotePort?: number;
  /** Name of the remote machine in the registry (default: the SSH host). */
  machine?: string;
  dryRun?: boolean;
  readyTimeoutMs?: number;
  drainTimeoutMs?: number;
}

export interface MigrationPlan {
  node: string;
  from: string;
  to: string;
  localStateDir: string;
  remoteStateDir: string;
  remotePort: number;
  files: string[];
  skipped: string[];
}

interface MigrationRecord {
  node: NodeConfig;
  remote: { target: string; stateDir: string; pid?: number; settings: SshSettings };
  localGatewayStopped: boolean;
  at: string;
}

function recordPath(home: string, node: string): string {
  return join(home, "migrations", `${node}.json`);
}

/** Relative paths to copy from a profile's state dir. */
export async function filesToCopy(stateDir: string): Promise<{ files: string[]; skipped: string[] }> {
  const files: string[] = [];
  const skipped: string[] = [];
  try {
    await stat(join(stateDir, "openclaw.json"));
    files.push("openclaw.json");
  } catch {
    throw new UserError(`${displayPath(stateDir)} has no openclaw.json; there is nothing to migrate.`);
  }
  const walk = async (rel: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(join(stateDir, rel), { withFileTypes: true });
    } catch (error) {
      if (isErrnoException(error, "ENOENT")) return;
      throw error;
    }
    for (const e of entries) {
      const path = posix.join(rel, e.name);
      if (NEVER.test(path)) {
        skipped.push(path);
        continue;
      }
      if (e.isDirectory()) await walk(path);
      else if (e.isFile() && WORKSPACE_FILE.test(e.name)) files.push(path);
      else skipped.push(path);
    }
  };
  await walk("workspace");
  // Each agent's own settings and model credentials (auth-profiles.json, models.json):
  // without them the agent there cannot reach its model. Never its sessions.
  let agents: import("node:fs").Dirent[] = [];
  try {
    agents = await readdir(join(stateDir, "agents"), { withFileTypes: true });
  } catch (error) {
    if (!isErrnoException(error, "ENOENT")) throw error;
  }
  for (const agent of agents) {
    if (!agent.isDirectory()) continue;
    const rel = posix.join("agents", agent.name, "agent");
    let entries: import("node:fs").Dirent[] = [];
    try {
      entries = await readdir(join(stateDir, rel), { withFileTypes: true });
    } catch (error) {
      if (!isErrnoException(error, "ENOENT")) throw error;
    }
    for (const e of entries) {
      const path = posix.join(rel, e.name);
      if (e.isFile() && /\.json5?$/i.test(e.name) && !NEVER.test(path)) files.push(path);
    }
  }
  // Provider keys may live in the profile's .env.
  try {
    if ((await stat(join(stateDir, ".env"))).isFile()) files.push(".env");
  } catch {
    // none
  }
  return { files, skipped };
}

/** Files that hold secrets: written 0600 there, as here. */
function isSecret(rel: string): boolean {
  return rel === "openclaw.json" || rel === ".env" || rel.startsWith("agents/");
}

function remoteQuote(path: string): string {
  return `'${path.replace(/'/g, "'\\''")}'`;
}

async function sftpCall<T>(
  fn: (cb: (error: Error | null | undefined, value?: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) =>
    fn((error, value) => (error ? reject(error) : resolve(value as T))),
  );
}

/**
 * `clawos migrate NODE --to user@host`: copy the profile over SFTP, start it there, check it
 * through SSH, switch the registry, then drain and stop the local instance. Until the switch,
 * a failure leaves the local registry and disk as they were.
 */
export async function migrate(
  home: string,
  env: NodeJS.ProcessEnv,
  options: MigrateOptions,
  say: (line: string) => void,
): Promise<MigrationPlan> {
  const loaded = await loadConfig(home);
  const node = loaded.config.nodes.find((n) => n.id === options.node);
  if (!node) throw new UserError(`There is no node "${options.node}".`, { code: "usage" });
  const machine = thisMachine(loaded.config, env);
  if (routeOf(node, machine) !== "localhost" || node.port === null) {
    throw new UserError(
      `Node ${node.id} does not run on this machine (${machine}); only local nodes can be migrated from here.`,
      {
        code: "usage",
      },
    );
  }
  try {
    await stat(recordPath(home, node.id));
    throw new UserError(`Node ${node.id} was already migrated.`, {
      hint: `clawos migrate --rollback ${node.id} undoes it`,
    });
  } catch (error) {
    if (!isErrnoException(error, "ENOENT")) throw error;
  }
  const target = parseSshTarget(options.to);
  const localStateDir = openclawStateDir(node.profile, env);
  const { files, skipped } = await filesToCopy(localStateDir);
  const remotePort = options.remotePort ?? node.ssh?.remotePort ?? node.port;
  const settings: SshSettings = {
    target: options.to,
    // The node's own SSH settings are the defaults (the control center passes only the target).
    ...((options.identityFile ?? node.ssh?.identityFile)
      ? { identityFile: options.identityFile ?? node.ssh?.identityFile }
      : {}),
    ...((options.knownHosts ?? node.ssh?.knownHosts)
      ? { knownHosts: options.knownHosts ?? node.ssh?.knownHosts }
      : {}),
    remotePort,
  };
  const profileDirName =
    node.profile && node.profile !== "default" ? `.openclaw-${node.profile}` : ".openclaw";
  const plan: MigrationPlan = {
    node: node.id,
    from: `${machine}:${displayPath(localStateDir, env)} (port ${node.port})`,
    to: `${options.to}:~/${profileDirName} (port ${remotePort}, bound to loopback)`,
    localStateDir,
    remoteStateDir: `~/${profileDirName}`,
    remotePort,
    files,
    skipped,
  };
  say(`Plan for ${node.id}: ${plan.from} → ${plan.to}`);
  say(`  copy ${files.length} file(s): ${files.join(", ")}`);
  if (skipped.length)
    say(
      `  leave behind ${skipped.length}: ${skipped.slice(0, 8).join(", ")}${skipped.length > 8 ? ", …" : ""}`,
    );
  const outside = pathsOutside(
    await readFile(join(localStateDir, "openclaw.json"), "utf8"),
    localStateDir,
    env.HOME ?? "",
  );
  if (outside.length)
    say(
      `  note: the config names ${outside.length} path(s) outside the profile that do not travel: ${outside.slice(0, 4).join(", ")}`,
    );
  say("  then start the gateway there, check it through SSH, switch the node, drain and stop the local one");

  const token = await resolveToken(node, home, env);
  if (token.problem)
    throw new UserError(`Node ${node.id}: cannot read its token from ${token.source}: ${token.problem}.`);

  // The plan is checked there too (read-only): a plan that cannot work is not offered.
  say(`Checking ${target.host} over SSH …`);
  const session = await SshSession.connect(settings, env);
  let remoteStateDir = "";
  let staging = "";
  let remotePid: number | undefined;
  try {
    const whereHome = await session.exec('printf %s "$HOME"', "");
    const remoteHome = whereHome.stdout.trim();
    if (whereHome.code !== 0 || !remoteHome.startsWith("/"))
      throw new UserError(`Could not find the home directory on ${target.host}.`);
    remoteStateDir = posix.join(remoteHome, profileDirName);
    plan.remoteStateDir = remoteStateDir;
    staging = `${remoteStateDir}.clawos-incoming`;
    const exists = await session.exec(`test -e ${remoteQuote(remoteStateDir)}`, "");
    if (exists.code === 0) {
      throw new UserError(`${target.host} already has ${remoteStateDir}; refusing to overwrite it.`, {
        hint: "move it aside there, or migrate to another machine",
      });
    }
    // Before anything is copied: can the gateway start there at all?
    const openclaw = await session.exec("command -v openclaw", "");
    if (openclaw.code !== 0 || !openclaw.stdout.trim()) {
      throw new UserError(`openclaw is not on the PATH of an SSH session on ${target.host}.`, {
        hint: "install it there (npm install -g openclaw) and make sure a non-interactive login finds it (ssh HOST command -v openclaw)",
      });
    }
    const taken = await session.tunnel(remotePort).then(
      () => true,
      () => false,
    );
    if (taken) {
      throw new UserError(`Port ${remotePort} is already in use on ${target.host}.`, {
        hint: "pick another with --remote-port (keep 20 between gateways)",
      });
    }
    say(
      `  ${target.host}: SSH login works, openclaw is ${openclaw.stdout.trim()}, port ${remotePort} is free, ${remoteStateDir} does not exist yet`,
    );
    if (options.dryRun) {
      session.close();
      return plan;
    }

    // Copy into a staging dir, renamed into place only once complete.
    say(`Copying ${files.length} file(s) to ${target.host} …`);
    await session.exec(`rm -rf ${remoteQuote(staging)}`, "");
    const sftp = await session.sftp();
    const dropAfter = Number(/^ssh-drop-after:(\d+)$/.exec(env.CLAWOS_FAULT ?? "")?.[1] ?? Number.NaN);
    for (const [i, rel] of files.entries()) {
      if (i === dropAfter) session.destroy(); // fault injection for tests: the connection drops mid-copy
      const dest = posix.join(staging, rel);
      await Promise.race([mkdirs(sftp, posix.dirname(dest)), session.dropped]);
      let data = await readFile(join(localStateDir, rel));
      if (rel === "openclaw.json")
        data = Buffer.from(
          remoteConfig(data.toString("utf8"), remotePort, { from: localStateDir, to: remoteStateDir }),
        );
      await sftpCall<void>((cb) => sftp.writeFile(dest, data, { mode: isSecret(rel) ? 0o600 : 0o644 }, cb));
    }
    const moved = await session.exec(`mv ${remoteQuote(staging)} ${remoteQuote(remoteStateDir)}`, "");
    if (moved.code !== 0)
      throw new UserError(`Could not move the copy into place on ${target.host}: ${moved.stderr.trim()}`);

    // Start it there and check it through SSH.
    say(`Starting the gateway on ${target.host} …`);
    const profileFlag =
      node.profile && node.profile !== "default" ? `--profile ${remoteQuote(node.profile)} ` : "";
    const start = await session.exec(
      `cd ~ && S=; command -v setsid >/dev/null && S=setsid; OPENCLAW_DISABLE_BONJOUR=1 $S nohup openclaw ${profileFlag}gateway run > ${remoteQuote(posix.join(remoteStateDir, "clawos-gateway.out"))} 2>&1 < /dev/null & echo $!`,
      "",
    );
    remotePid = Number(start.stdout.trim()) || undefined;
    if (start.code !== 0 || !remotePid)
      throw new UserError(
        `Could not start the gateway on ${target.host}: ${start.stderr.trim().slice(0, 200)}`,
      );
    const pid = remotePid;
    const outFile = posix.join(remoteStateDir, "clawos-gateway.out");
    const checkAlive = async () => {
      const check = await session.exec(`kill -0 ${pid}`, "");
      if (check.code === 0) return;
      const tail = await session.exec(`tail -n 5 ${remoteQuote(outFile)}`, "").catch(() => undefined);
      const said = (tail?.stdout ?? "").trim().split("\n").join(" | ").slice(0, 300);
      throw new UserError(
        `The gateway on ${target.host} exited before it was ready${said ? `: ${said}` : ""}.`,
        {
          hint: `see ${outFile} there`,
        },
      );
    };
    const tunnelPort = await waitTunnel(session, remotePort, options.readyTimeoutMs ?? 180_000, checkAlive);
    const client = new GatewayClient({
      nodeId: node.id,
      host: "127.0.0.1",
      port: tunnelPort,
      ...(token.token ? { token: token.token } : {}),
      tokenSource: token.source,
      profile: node.profile,
      agent: node.agent,
    });
    try {
      await waitUntilStarted(client, {
        timeoutMs: options.readyTimeoutMs ?? 180_000,
        what: "The remote gateway",
        hint: `see ${outFile} on ${target.host}; a first start can take a minute on a small machine (--ready-timeout)`,
        checkAlive,
      });
      await client.models(AbortSignal.timeout(10_000));
    } finally {
      await client.close();
    }
    say(`The gateway on ${target.host} answers through SSH.`);
  } catch (error) {
    // Nothing local has changed yet; tidy what we can on the remote side.
    if (session.alive && !options.dryRun) {
      if (remotePid) await session.exec(killGroup(remotePid), "").catch(() => {});
      if (staging) await session.exec(`rm -rf ${remoteQuote(staging)}`, "").catch(() => {});
      if (remotePid && remoteStateDir)
        await session.exec(`rm -rf ${remoteQuote(remoteStateDir)}`, "").catch(() => {});
    }
    const dropped = !session.alive;
    session.close();
    const reason = error instanceof Error ? error.message.replace(/\.$/, "") : String(error);
    if (options.dryRun)
      throw new UserError(
        `Migration of ${node.id} would fail: ${reason}. Nothing was changed, here or there.`,
        error instanceof UserError && error.hint ? { hint: error.hint } : {},
      );
    throw new UserError(
      `Migration of ${node.id} stopped: ${reason}. Nothing changed here${dropped ? `; a partial copy may be left in ${staging || "a staging dir"} on ${target.host} (the next attempt removes it)` : ""}.`,
      error instanceof UserError && error.hint ? { hint: error.hint } : {},
    );
  }

  // Switch the registry, keeping what is needed to undo it.
  const record: MigrationRecord = {
    node,
    remote: {
      target: options.to,
      stateDir: remoteStateDir,
      ...(remotePid ? { pid: remotePid } : {}),
      settings,
    },
    localGatewayStopped: false,
    at: new Date().toISOString(),
  };
  await writeFileAtomic(recordPath(home, node.id), JSON.stringify(record, null, 2), { mode: 0o600 });
  const fresh = await loadConfig(home);
  fresh.config.nodes = fresh.config.nodes.map((n) =>
    n.id === node.id
      ? NodeConfig.parse({
          ...n,
          machine: options.machine ?? target.host,
          port: remotePort,
          ssh: settings,
          transport: "auto",
          notes: `migrated from ${machine} ${new Date().toISOString().slice(0, 10)}`,
        })
      : n,
  );
  await saveConfig(fresh);
  say(
    `Node ${node.id} now lives on ${options.machine ?? target.host}: tasks reach it through SSH; for the blackboard route, run its worker there (clawos node run --node ${node.id}).`,
  );

  // Drain: tasks already claimed here finish first; then stop the local gateway.
  const deadline = Date.now() + (options.drainTimeoutMs ?? 120_000);
  const { FederationCore } = await import("../federation/federation.js");
  const core = await FederationCore.open(home, { env });
  try {
    for (;;) {
      const listing = await core.blackboard.list({ finishedLimit: 0, activeOnly: true });
      const busy = listing.tasks.filter(
        (t) => t.node === node.id && (t.state === "claimed" || t.state === "running"),
      );
      if (busy.length === 0) break;
      if (Date.now() > deadline) {
        say(`  ${busy.length} task(s) still running here; their leases will hand them to the new place`);
        break;
      }
      await sleep(500);
    }
  } finally {
    await core.close();
  }
  const pidText = await readFile(gatewayPidFile(home, node.id), "utf8").catch(() => "");
  if (pidText.trim()) {
    await stopProcessGroup(Number(pidText.trim()));
    await rm(gatewayPidFile(home, node.id), { force: true });
    record.localGatewayStopped = true;
    await writeFileAtomic(recordPath(home, node.id), JSON.stringify(record, null, 2), { mode: 0o600 });
    say("Stopped the local gateway.");
  } else {
    say(
      `Stop the local gateway when you are ready: openclaw ${node.profile ? `--profile ${node.profile} ` : ""}gateway stop`,
    );
  }
  session.close();
  return plan;
}

/**
 * Undo a migration: the local gateway runs again (if the migration stopped it), the node
 * points here again, and the remote gateway stops; its copy is moved aside there, so the
 * node can be migrated again later. If the local gateway cannot start, nothing changes.
 */
export async function rollbackMigration(
  home: string,
  env: NodeJS.ProcessEnv,
  nodeId: string,
  say: (line: string) => void,
  options: { readyTimeoutMs?: number } = {},
) {
  let record: MigrationRecord;
  try {
    record = JSON.parse(await readFile(recordPath(home, nodeId), "utf8")) as MigrationRecord;
  } catch {
    throw new UserError(`There is no migration of ${nodeId} to roll back.`, { code: "usage" });
  }
  const node = NodeConfig.parse(record.node);
  if (record.localGatewayStopped)
    await restartLocalGateway(home, env, node, record.remote.target, say, options.readyTimeoutMs);
  const loaded = await loadConfig(home);
  loaded.config.nodes = loaded.config.nodes.map((n) => (n.id === nodeId ? node : n));
  if (!loaded.config.nodes.some((n) => n.id === nodeId)) loaded.config.nodes.push(node);
  await saveConfig(loaded);
  say(`Node ${nodeId} points at this machine again (port ${node.port}).`);
  try {
    const session = await SshSession.connect(record.remote.settings, env);
    try {
      if (record.remote.pid) {
        await session.exec(killGroup(record.remote.pid), "");
        for (let i = 0; i < 40; i++) {
          if ((await session.exec(`kill -0 ${record.remote.pid}`, "")).code !== 0) break;
          await sleep(250);
        }
      }
      const aside = `${record.remote.stateDir}.rolled-back-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}`;
      const moved = await session.exec(`mv ${remoteQuote(record.remote.stateDir)} ${remoteQuote(aside)}`, "");
      say(
        moved.code === 0
          ? `Stopped the gateway on ${record.remote.target}; its copy is kept there as ${aside}.`
          : `Stopped the gateway on ${record.remote.target}; its copy stays in ${record.remote.stateDir}.`,
      );
    } finally {
      session.close();
    }
  } catch (error) {
    say(
      `Could not stop the remote gateway (${error instanceof Error ? error.message : String(error)}); stop it there by hand.`,
    );
  }
  await rm(recordPath(home, nodeId), { force: true });
}

/** Start the local gateway the migration stopped, as incubate --start does, and wait for it. */
async function restartLocalGateway(
  home: string,
  env: NodeJS.ProcessEnv,
  node: NodeConfig,
  remoteTarget: string,
  say: (line: string) => void,
  readyTimeoutMs = 180_000,
): Promise<void> {
  const by = `openclaw ${node.profile ? `--profile ${node.profile} ` : ""}gateway run`;
  const openclaw = await findOnPath("openclaw", env);
  // Supervised start is for the profiles incubate made (profile = node id); others are the user's to start.
  if (!openclaw || node.profile !== node.id || node.port === null) {
    say(`Start the local gateway again: ${by}`);
    return;
  }
  say("Starting the local gateway again …");
  const token = await resolveToken(node, home, env);
  const undo: UndoStep[] = [];
  try {
    await startSupervised(home, node.id, openclaw, env, undo);
    const client = new GatewayClient({
      nodeId: node.id,
      host: "127.0.0.1",
      port: node.port,
      ...(token.token ? { token: token.token } : {}),
      tokenSource: token.source,
      profile: node.profile,
      agent: node.agent,
    });
    try {
      await waitReady(client, readyTimeoutMs, home, node.id);
    } finally {
      await client.close();
    }
  } catch (error) {
    for (const step of undo.reverse()) await step.run().catch(() => {});
    const reason = error instanceof Error ? error.message.replace(/\.$/, "") : String(error);
    throw new UserError(
      `Rollback of ${node.id} stopped: the local gateway did not start again (${reason}). Nothing changed; the node still runs on ${remoteTarget}.`,
      { hint: `start it by hand (${by}), then run the rollback again` },
    );
  }
  say("The local gateway is running again.");
}

/**
 * The copied config, set to the remote port and bound to loopback. OpenClaw writes absolute
 * paths into it (agents.defaults.workspace, agents.entries.*.agentDir): those inside the
 * profile are moved to the profile's place there, or the gateway there would look for its
 * workspace under this machine's home.
 */
export function remoteConfig(raw: string, port: number, paths: { from: string; to: string }): string {
  const relocate = (value: unknown): unknown => {
    if (typeof value === "string") {
      if (value === paths.from) return paths.to;
      if (value.startsWith(`${paths.from}/`)) return paths.to + value.slice(paths.from.length);
      return value;
    }
    if (Array.isArray(value)) return value.map(relocate);
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relocate(v)]));
    return value;
  };
  const config = relocate(JSON5.parse(raw)) as { gateway?: Record<string, unknown> };
  config.gateway = { ...(config.gateway ?? {}), port, bind: "loopback" };
  return `${JSON.stringify(config, null, 2)}\n`;
}

async function mkdirs(sftp: SFTPWrapper, dir: string): Promise<void> {
  const parts = dir.split("/").filter(Boolean);
  let path = "";
  for (const part of parts) {
    path += `/${part}`;
    try {
      await sftpCall<void>((cb) => sftp.mkdir(path, cb));
    } catch {
      // exists already (or will fail at the write, with a clearer error)
    }
  }
}

async function waitTunnel(
  session: SshSession,
  port: number,
  timeoutMs: number,
  checkAlive: () => Promise<void>,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await session.tunnel(port);
    } catch (error) {
      await checkAlive();
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

/** The remote gateway was started with setsid: stop its whole process group (its workers too). */
function killGroup(pid: number): string {
  return `kill -TERM -- -${pid} 2>/dev/null || kill -TERM ${pid}`;
}

/** Absolute paths in the config under this machine's home but outside the profile: they do not travel. */
function pathsOutside(raw: string, stateDir: string, home: string): string[] {
  const found = new Set<string>();
  const visit = (value: unknown) => {
    if (typeof value === "string") {
      if (home && value.startsWith(`${home}/`) && value !== stateDir && !value.startsWith(`${stateDir}/`))
        found.add(value);
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") Object.values(value).forEach(visit);
  };
  try {
    visit(JSON5.parse(raw));
  } catch {
    // an unreadable config fails later with its own message
  }
  return [...found];
}
