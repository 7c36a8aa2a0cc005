import { readFile, rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { UserError } from "../domain/errors.js";
import { NodeConfig } from "../domain/schema.js";
import { FederationCore } from "../federation/federation.js";
import { writeFileAtomic } from "../infra/atomic-file.js";
import { displayPath, openclawStateDir } from "../infra/paths.js";
import { parseSshTarget, SshSession } from "../transport/ssh-route.js";
import { clientFor, startGateway } from "./gateway-lifecycle.js";
import {
  compareVersions,
  openclawVersion,
  parseOpenclawVersion,
  restoreHere,
  transitDir,
} from "./migration-archive.js";
import { type MigrationRecord, recordPath } from "./migration-record.js";
import {
  answersATurn,
  archiveThere,
  killGroup,
  type RemoteMigration,
  remoteQuote,
  startRemoteGateway,
} from "./migration-remote.js";
import { findOnPath } from "./openclaw-command.js";

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.replace(/\.$/, "") : String(error);
}

/**
 * Undo a migration the same way it was done: the gateway there stops, `openclaw backup create
 * --verify` archives its profile there, SFTP brings it back, `openclaw backup restore` puts it
 * in the profile's place here (the profile as it was before the move is kept aside), and the
 * local gateway starts again the way it ran before. So whatever the node lived through there
 * (sessions, memory) comes back too. Then the node points here again and the copy there is
 * moved aside. A failure before the switch starts the gateway there again: nothing changes.
 * If the machine there cannot be reached, the node comes back as it was before the move.
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
  const openclaw = await findOnPath("openclaw", env);
  if (!openclaw)
    throw new UserError("openclaw is not on PATH here, so the node cannot be restored here.", {
      hint: "install it (npm install -g openclaw), or put it on the PATH clawos runs with",
    });
  const there = record.remote.target;
  let session: SshSession | undefined;
  try {
    session = await SshSession.connect(record.remote.settings, env);
  } catch (error) {
    say(
      `Cannot reach ${there} (${reasonOf(error)}): the node comes back as it was before the move; what it did there stays there.`,
    );
  }
  try {
    const run: Rollback = { home, env, node, record, say, readyTimeoutMs: options.readyTimeoutMs };
    if (session) await bringBack(run, session, openclaw);
    else if (record.localGatewayStopped)
      await startHere({ home, env, node, record, say, readyTimeoutMs: options.readyTimeoutMs });
  } catch (error) {
    session?.close();
    throw error;
  }
  // Handed back: this machine's record again, above whatever the target wrote meanwhile.
  await FederationCore.using(home, env, (core) => core.registryWriter().hand(node));
  say(`Node ${nodeId} points at this machine again (port ${node.port}).`);
  if (session) {
    try {
      const aside = `${record.remote.stateDir}.rolled-back-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}`;
      const moved = await session.exec(`mv ${remoteQuote(record.remote.stateDir)} ${remoteQuote(aside)}`, "");
      say(
        moved.code === 0
          ? `Stopped the gateway on ${there}; its copy is kept there as ${aside}.`
          : `Stopped the gateway on ${there}; its copy stays in ${record.remote.stateDir}.`,
      );
    } finally {
      session.close();
    }
  }
  await rm(recordPath(home, nodeId), { force: true });
}

/** One rollback: what its steps share. */
interface Rollback {
  home: string;
  env: NodeJS.ProcessEnv;
  node: NodeConfig;
  record: MigrationRecord;
  say: (line: string) => void;
  readyTimeoutMs: number | undefined;
}

/** Stop there, archive there, restore here, start here; on failure the gateway there runs again. */
async function bringBack(run: Rollback, session: SshSession, openclaw: string): Promise<void> {
  const { home, env, node, record, say } = run;
  const there = record.remote.target;
  const host = parseSshTarget(there).host;
  const transit = await transitDir();
  let stoppedThere = false;
  try {
    const here = await openclawVersion(openclaw, env);
    const theirs = parseOpenclawVersion((await session.exec("openclaw --version", "")).stdout);
    if (theirs && compareVersions(here, theirs) < 0)
      throw new UserError(
        `OpenClaw here is ${here.join(".")}, older than on ${host} (${theirs.join(".")}): the node's state may not open here.`,
        { hint: `update it here (npm install -g openclaw@${theirs.join(".")}), then roll back again` },
      );
    if (record.remote.pid) {
      say(`Stopping the gateway on ${there} (one writer per state dir) …`);
      await session.exec(killGroup(record.remote.pid), "");
      for (let i = 0; i < 120; i++) {
        if ((await session.exec(`kill -0 ${record.remote.pid}`, "")).code !== 0) break;
        await sleep(250);
      }
      stoppedThere = true;
    }
    say(`Archiving it there with openclaw backup create --verify …`);
    const archive = await archiveThere(session, host, node, transit);
    const localStateDir = openclawStateDir(node.profile, env);
    say(`Restoring it here with openclaw backup restore into ${displayPath(localStateDir, env)} …`);
    const aside = await restoreHere(
      openclaw,
      env,
      archive,
      { from: record.remote.stateDir, to: localStateDir },
      node.port ?? 0,
    );
    if (aside) say(`  the profile as it was before the move is kept as ${displayPath(aside, env)}`);
    if (record.localGatewayStopped) await startHere(run);
  } catch (error) {
    let again = "";
    if (stoppedThere) {
      const remote: RemoteMigration = {
        session,
        host,
        node,
        profileDirName: "",
        remotePort: record.remote.settings.remotePort ?? node.port ?? 0,
        stateDir: record.remote.stateDir,
        staging: "",
      };
      again = await startRemoteGateway(remote).then(
        async () => {
          record.remote.pid = remote.pid;
          await writeFileAtomic(recordPath(home, node.id), JSON.stringify(record, null, 2), { mode: 0o600 });
          return " (its gateway there runs again)";
        },
        (startError: unknown) => ` (its gateway there did not start again: ${reasonOf(startError)})`,
      );
    }
    throw new UserError(
      `Rollback of ${node.id} stopped: ${reasonOf(error)}. The node still runs on ${there}${again}.`,
      {
        ...(error instanceof UserError && error.hint ? { hint: error.hint } : {}),
      },
    );
  } finally {
    await rm(transit, { recursive: true, force: true });
  }
}

/** The local gateway starts the way it ran before the move, and answers a real turn. */
async function startHere(run: Rollback): Promise<void> {
  const { home, env, node, record, say, readyTimeoutMs } = run;
  say("Starting the local gateway again …");
  const outcome = await startGateway(home, env, node, readyTimeoutMs ? { readyTimeoutMs } : {}, {
    keeper: record.localKeeper === "service" ? "service" : "none",
    running: false,
  });
  const client = await clientFor(home, env, node);
  try {
    const ms = await answersATurn(client);
    say(
      `${outcome.line}\nThe local gateway is running again (a real turn took ${(ms / 1000).toFixed(1)} s).`,
    );
  } finally {
    await client.close();
  }
}
