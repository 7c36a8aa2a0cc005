import { readFile, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isErrnoException, UserError } from "../domain/errors.js";
import { NodeConfig, type SshSettings } from "../domain/schema.js";
import { FederationCore } from "../federation/federation.js";
import { updateLocalSettings } from "../federation/registry.js";
import { writeFileAtomic } from "../infra/atomic-file.js";
import { resolveToken, routeOf } from "../infra/config.js";
import { displayPath, openclawStateDir } from "../infra/paths.js";
import { parseSshTarget, SshSession } from "../transport/ssh-route.js";
import {
  byHand,
  type GatewayState,
  gatewayState,
  openclawCommandFor,
  startGateway,
  stopGateway,
} from "./gateway-lifecycle.js";
import { archiveHere, openclawVersion, transitDir } from "./migration-archive.js";
import { pathsOutside } from "./migration-files.js";
import { type MigrationRecord, recordPath } from "./migration-record.js";
import {
  checkRemote,
  checkRemoteGateway,
  checkRemoteVersion,
  type RemoteMigration,
  restoreThere,
  sendArchive,
  startRemoteGateway,
  tidyRemote,
} from "./migration-remote.js";
import { findOnPath } from "./openclaw-command.js";
import { describeBytes, describeSize, measureTree } from "./profile-purge.js";

export { rollbackMigration } from "./migration-rollback.js";

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
  /** What the archive takes: the whole profile directory. */
  files: number;
  bytes: number;
}

/**
 * `clawos migrate NODE --to user@host`: the node's whole life moves. Its tasks drain, its
 * gateway stops (one writer per state dir), `openclaw backup create --verify` archives the
 * profile (config, sessions and memory databases, auth profiles, workspace), SFTP carries it,
 * `openclaw backup restore` unpacks it into the profile's place there, the gateway starts
 * there and answers a real turn through SSH; then the registry switches. A failure before the
 * switch starts the local gateway again and tidies the remote side.
 */
export async function migrate(
  home: string,
  env: NodeJS.ProcessEnv,
  options: MigrateOptions,
  say: (line: string) => void,
): Promise<MigrationPlan> {
  const { node, machine } = await localNodeToMigrate(home, env, options.node);
  const target = parseSshTarget(options.to);
  const openclaw = await findOnPath("openclaw", env);
  if (!openclaw)
    throw new UserError("openclaw is not on PATH here, so the node cannot be archived for the move.", {
      hint: "install it (npm install -g openclaw), or put it on the PATH clawos runs with",
    });
  const { plan, settings, profileDirName } = await planMigration(node, machine, env, options, say);
  const token = await resolveToken(node, home, env);
  if (token.problem)
    throw new UserError(`Node ${node.id}: cannot read its token from ${token.source}: ${token.problem}.`);
  const here = await openclawVersion(openclaw, env);
  const local = await gatewayState(home, env, node);
  if (local.keeper === "by-hand") throw byHand(node, local, "stop");

  // The plan is checked there too (read-only): a plan that cannot work is not offered.
  say(`Checking ${target.host} over SSH …`);
  const session = await SshSession.connect(settings, env);
  const remote: RemoteMigration = {
    session,
    host: target.host,
    node,
    profileDirName,
    remotePort: plan.remotePort,
    stateDir: "",
    staging: "",
  };
  let stopped: GatewayState | undefined;
  const transit = await transitDir();
  try {
    plan.remoteStateDir = await checkRemote(remote, say);
    say(`  OpenClaw there is ${await checkRemoteVersion(remote, here)} (here ${here.join(".")})`);
    if (options.dryRun) {
      session.close();
      return plan;
    }
    await drainLocalTasks(home, env, node.id, options.drainTimeoutMs ?? 120_000, say);
    if (local.running) {
      say(
        `${(await stopGateway(home, env, node, local)).line.replace(/\.$/, "")} (one writer per state dir).`,
      );
      stopped = local;
    }
    say(`Archiving ${node.id} with openclaw backup create --verify …`);
    const archive = await archiveHere(openclaw, node, env, transit);
    const size = await stat(archive.archivePath);
    say(`  ${basename(archive.archivePath)} (${describeBytes(size.size)}), verified`);
    say(`Sending it to ${target.host} over SFTP …`);
    await sendArchive(remote, archive.archivePath, env);
    say(`Restoring it there with openclaw backup restore into ${remote.stateDir} …`);
    await restoreThere(remote, plan.localStateDir);
    say(`Starting the gateway on ${target.host} …`);
    await startRemoteGateway(remote);
    const turnMs = await checkRemoteGateway(remote, token, options.readyTimeoutMs);
    say(
      `The gateway on ${target.host} answers through SSH (a real turn took ${(turnMs / 1000).toFixed(1)} s).`,
    );
  } catch (error) {
    const again = stopped ? await startAgain(home, env, node, stopped, options.readyTimeoutMs) : "";
    throw await migrationStopped(remote, node.id, options.dryRun === true, error, again);
  } finally {
    await rm(transit, { recursive: true, force: true });
  }

  const record = await switchRegistry(home, env, node, machine, options, remote, settings, say);
  record.localGatewayStopped = stopped !== undefined;
  record.localKeeper = stopped?.keeper ?? "none";
  await writeFileAtomic(recordPath(home, node.id), JSON.stringify(record, null, 2), { mode: 0o600 });
  if (stopped?.keeper === "service")
    say(
      `Its OpenClaw service here is stopped, not uninstalled: uninstall it (${openclawCommandFor(node, "gateway", "uninstall")}) so it does not start again at login.`,
    );
  session.close();
  return plan;
}

/** After a failure: the local gateway runs again, the way it ran before. */
async function startAgain(
  home: string,
  env: NodeJS.ProcessEnv,
  node: NodeConfig,
  stopped: GatewayState,
  readyTimeoutMs: number | undefined,
): Promise<string> {
  try {
    await startGateway(home, env, node, readyTimeoutMs ? { readyTimeoutMs } : {}, {
      keeper: stopped.keeper === "service" ? "service" : "none",
      running: false,
    });
    return "; the local gateway runs again";
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/\.$/, "") : String(error);
    return `; the local gateway did not start again (${reason}): clawos nodes start ${node.id}`;
  }
}

/** The node, which must be local and not migrated already. */
async function localNodeToMigrate(
  home: string,
  env: NodeJS.ProcessEnv,
  id: string,
): Promise<{ node: NodeConfig; machine: string }> {
  const { node, machine } = await FederationCore.using(home, env, async (core) => ({
    node: core.nodes.find((n) => n.id === id),
    machine: core.machine,
  }));
  if (!node) throw new UserError(`There is no node "${id}".`, { code: "usage" });
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
  return { node, machine };
}

/** What travels where, said before anything is done. */
async function planMigration(
  node: NodeConfig,
  machine: string,
  env: NodeJS.ProcessEnv,
  options: MigrateOptions,
  say: (line: string) => void,
): Promise<{ plan: MigrationPlan; settings: SshSettings; profileDirName: string }> {
  const localStateDir = openclawStateDir(node.profile, env);
  let rawConfig: string;
  try {
    rawConfig = await readFile(join(localStateDir, "openclaw.json"), "utf8");
  } catch {
    throw new UserError(
      `${displayPath(localStateDir, env)} has no openclaw.json; there is nothing to migrate.`,
    );
  }
  const { files, bytes } = await measureTree(localStateDir);
  const remotePort = options.remotePort ?? node.ssh?.remotePort ?? node.port!;
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
    bytes,
  };
  say(`Plan for ${node.id}: ${plan.from} → ${plan.to}`);
  say(
    `  the whole profile travels (${describeSize(files, bytes)} on disk, less caches and temporary files): config, sessions and memory databases, auth profiles and workspace, as one archive made by openclaw backup create --verify`,
  );
  const outside = pathsOutside(rawConfig, localStateDir, env.HOME ?? "");
  if (outside.length)
    say(
      `  note: the config names ${outside.length} path(s) outside the profile that do not travel: ${outside.slice(0, 4).join(", ")}`,
    );
  say(
    "  then: drain its tasks, stop the local gateway, send the archive over SFTP, restore it there with openclaw backup restore, start the gateway there, check a real turn through SSH, switch the node",
  );
  return { plan, settings, profileDirName };
}

/** A failure before the switch: nothing local has changed yet; tidy what we can on the remote side. */
async function migrationStopped(
  remote: RemoteMigration,
  nodeId: string,
  dryRun: boolean,
  error: unknown,
  again = "",
): Promise<UserError> {
  const { session } = remote;
  if (session.alive && !dryRun) await tidyRemote(remote);
  const dropped = !session.alive;
  session.close();
  const reason = error instanceof Error ? error.message.replace(/\.$/, "") : String(error);
  if (dryRun)
    return new UserError(
      `Migration of ${nodeId} would fail: ${reason}. Nothing was changed, here or there.`,
      error instanceof UserError && error.hint ? { hint: error.hint } : {},
    );
  return new UserError(
    `Migration of ${nodeId} stopped: ${reason}. Nothing changed here${again}${dropped ? `; a partial copy may be left in ${remote.staging || "a staging dir"} on ${remote.host} (the next attempt removes it)` : ""}.`,
    error instanceof UserError && error.hint ? { hint: error.hint } : {},
  );
}

/** Switch the registry, keeping what is needed to undo it. */
async function switchRegistry(
  home: string,
  env: NodeJS.ProcessEnv,
  node: NodeConfig,
  machine: string,
  options: MigrateOptions,
  remote: RemoteMigration,
  settings: SshSettings,
  say: (line: string) => void,
): Promise<MigrationRecord> {
  const record: MigrationRecord = {
    node,
    remote: {
      target: options.to,
      stateDir: remote.stateDir,
      ...(remote.pid ? { pid: remote.pid } : {}),
      settings,
    },
    localGatewayStopped: false,
    at: new Date().toISOString(),
  };
  await writeFileAtomic(recordPath(home, node.id), JSON.stringify(record, null, 2), { mode: 0o600 });
  // Handed to the target in the shared registry (its worker or join takes it over); the SSH key paths stay here.
  await FederationCore.using(home, env, async (core) => {
    await core.registryWriter().hand(
      NodeConfig.parse({
        ...node,
        machine: options.machine ?? remote.host,
        port: remote.remotePort,
        ssh: settings,
        transport: "auto",
        notes: `migrated from ${machine} ${new Date().toISOString().slice(0, 10)}`,
      }),
    );
  });
  await updateLocalSettings(home, { id: node.id, ssh: sshKeysOf(settings) });
  say(
    `Node ${node.id} now lives on ${options.machine ?? remote.host}: tasks reach it through SSH; for the blackboard route, run its worker there (clawos node run --node ${node.id}).`,
  );
  return record;
}

/** Drain: tasks already claimed here finish first, up to the drain timeout. */
async function drainLocalTasks(
  home: string,
  env: NodeJS.ProcessEnv,
  nodeId: string,
  drainTimeoutMs: number,
  say: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + drainTimeoutMs;
  const core = await FederationCore.open(home, { env });
  try {
    for (;;) {
      const listing = await core.blackboard.list({ finishedLimit: 0, activeOnly: true });
      const busy = listing.tasks.filter(
        (t) => t.node === nodeId && (t.state === "claimed" || t.state === "running"),
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
}

/** The SSH settings that stay on this machine: which key, which known_hosts. */
function sshKeysOf(settings: SshSettings): { identityFile?: string; knownHosts?: string } {
  return {
    ...(settings.identityFile ? { identityFile: settings.identityFile } : {}),
    ...(settings.knownHosts ? { knownHosts: settings.knownHosts } : {}),
  };
}
