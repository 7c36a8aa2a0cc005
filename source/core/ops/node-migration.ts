import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isErrnoException, UserError } from "../domain/errors.js";
import { NodeConfig, type SshSettings } from "../domain/schema.js";
import { FederationCore } from "../federation/federation.js";
import { updateLocalSettings } from "../federation/registry.js";
import { writeFileAtomic } from "../infra/atomic-file.js";
import { resolveToken, routeOf } from "../infra/config.js";
import { displayPath, openclawStateDir } from "../infra/paths.js";
import { GatewayClient } from "../transport/gateway-client.js";
import { parseSshTarget, SshSession } from "../transport/ssh-route.js";
import { filesToCopy, pathsOutside } from "./migration-files.js";
import {
  checkRemote,
  checkRemoteGateway,
  copyProfile,
  killGroup,
  type RemoteMigration,
  remoteQuote,
  startRemoteGateway,
  tidyRemote,
} from "./migration-remote.js";
import { findOnPath } from "./openclaw-command.js";
import {
  gatewayPidFile,
  startSupervised,
  stopProcessGroup,
  type UndoStep,
  waitReady,
} from "./supervised-gateway.js";

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
  const { node, machine } = await localNodeToMigrate(home, env, options.node);
  const target = parseSshTarget(options.to);
  const { plan, settings, profileDirName } = await planMigration(node, machine, env, options, say);
  const token = await resolveToken(node, home, env);
  if (token.problem)
    throw new UserError(`Node ${node.id}: cannot read its token from ${token.source}: ${token.problem}.`);

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
  try {
    plan.remoteStateDir = await checkRemote(remote, say);
    if (options.dryRun) {
      session.close();
      return plan;
    }
    say(`Copying ${plan.files.length} file(s) to ${target.host} …`);
    await copyProfile(remote, plan.files, plan.localStateDir, env);
    say(`Starting the gateway on ${target.host} …`);
    await startRemoteGateway(remote);
    await checkRemoteGateway(remote, token, options.readyTimeoutMs);
    say(`The gateway on ${target.host} answers through SSH.`);
  } catch (error) {
    throw await migrationStopped(remote, node.id, options.dryRun === true, error);
  }

  const record = await switchRegistry(home, env, node, machine, options, remote, settings, say);
  await drainLocalTasks(home, env, node.id, options.drainTimeoutMs ?? 120_000, say);
  await stopLocalGateway(home, node, record, say);
  session.close();
  return plan;
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
  const { files, skipped } = await filesToCopy(localStateDir);
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
  return { plan, settings, profileDirName };
}

/** A failure before the switch: nothing local has changed yet; tidy what we can on the remote side. */
async function migrationStopped(
  remote: RemoteMigration,
  nodeId: string,
  dryRun: boolean,
  error: unknown,
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
    `Migration of ${nodeId} stopped: ${reason}. Nothing changed here${dropped ? `; a partial copy may be left in ${remote.staging || "a staging dir"} on ${remote.host} (the next attempt removes it)` : ""}.`,
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

/** Stop the local gateway if clawos started it (it has a pid file); otherwise say how to. */
async function stopLocalGateway(
  home: string,
  node: NodeConfig,
  record: MigrationRecord,
  say: (line: string) => void,
): Promise<void> {
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
  // Handed back: this machine's record again, above whatever the target wrote meanwhile.
  await FederationCore.using(home, env, (core) => core.registryWriter().hand(node));
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

/** The SSH settings that stay on this machine: which key, which known_hosts. */
function sshKeysOf(settings: SshSettings): { identityFile?: string; knownHosts?: string } {
  return {
    ...(settings.identityFile ? { identityFile: settings.identityFile } : {}),
    ...(settings.knownHosts ? { knownHosts: settings.knownHosts } : {}),
  };
}
