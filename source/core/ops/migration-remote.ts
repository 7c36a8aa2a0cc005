import { join, posix } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { UserError } from "../domain/errors.js";
import type { NodeConfig } from "../domain/schema.js";
import { GatewayClient } from "../transport/gateway-client.js";
import type { SshSession } from "../transport/ssh-route.js";
import { PORT_SPACING } from "./gateway-ports.js";
import { waitUntilStarted } from "./gateway-ready.js";
import { compareVersions, parseCreated, parseOpenclawVersion, stateAssetPath } from "./migration-archive.js";
import { remoteConfig } from "./migration-files.js";
import { checkRemoteSpacing } from "./migration-ports.js";

/** A gateway that has just started can be slow to answer its first requests on a busy machine. */
export const CHECK_TIMEOUT_MS = 30_000;

/** The remote side of one migration, filled in as its steps go: what a failure has to tidy there. */
export interface RemoteMigration {
  session: SshSession;
  host: string;
  node: NodeConfig;
  profileDirName: string;
  remotePort: number;
  stateDir: string;
  staging: string;
  pid?: number;
}

/** Read-only: the home there, no profile in the way, openclaw on the PATH, the port free. */
export async function checkRemote(m: RemoteMigration, say: (line: string) => void): Promise<string> {
  const { session, host, remotePort } = m;
  const whereHome = await session.exec('printf %s "$HOME"', "");
  const remoteHome = whereHome.stdout.trim();
  if (whereHome.code !== 0 || !remoteHome.startsWith("/"))
    throw new UserError(`Could not find the home directory on ${host}.`);
  m.stateDir = posix.join(remoteHome, m.profileDirName);
  m.staging = `${m.stateDir}.clawos-incoming`;
  const exists = await session.exec(`test -e ${remoteQuote(m.stateDir)}`, "");
  if (exists.code === 0) {
    throw new UserError(`${host} already has ${m.stateDir}; refusing to overwrite it.`, {
      hint: "move it aside there, or migrate to another machine",
    });
  }
  // Before anything is copied: can the gateway start there at all?
  const openclaw = await session.exec("command -v openclaw", "");
  if (openclaw.code !== 0 || !openclaw.stdout.trim()) {
    throw new UserError(`openclaw is not on the PATH of an SSH session on ${host}.`, {
      hint: "install it there (npm install -g openclaw) and make sure a non-interactive login finds it (ssh HOST command -v openclaw)",
    });
  }
  await checkRemoteSpacing(session, host, remotePort);
  const taken = await session.tunnel(remotePort).then(
    () => true,
    () => false,
  );
  if (taken) {
    throw new UserError(`Port ${remotePort} is already in use on ${host}.`, {
      hint: `pick another with --remote-port (keep ${PORT_SPACING} between gateways)`,
    });
  }
  say(
    `  ${host}: SSH login works, openclaw is ${openclaw.stdout.trim()}, port ${remotePort} is free, ${m.stateDir} does not exist yet`,
  );
  return m.stateDir;
}

/** Send the archive into a private staging dir there (the next attempt removes a partial one). */
export async function sendArchive(
  m: RemoteMigration,
  archive: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const { session, staging } = m;
  await session.exec(`rm -rf ${remoteQuote(staging)} && mkdir -m 700 -p ${remoteQuote(staging)}`, "");
  const sftp = await session.sftp();
  const put = sftpCall<void>((cb) =>
    sftp.fastPut(archive, posix.join(staging, "archive.tar.gz"), { mode: 0o600 }, (error) => cb(error)),
  );
  // Fault injection for tests: the connection drops while the archive is on its way.
  if (/^ssh-drop-after:\d+$/.test(env.CLAWOS_FAULT ?? "")) session.destroy();
  await Promise.race([put, session.dropped]);
}

/**
 * `openclaw backup restore` there into the staging dir, then the state asset moved into the
 * profile's place and its config pointed at the port and paths there.
 */
export async function restoreThere(m: RemoteMigration, localStateDir: string): Promise<void> {
  const { session, host, staging } = m;
  const archive = posix.join(staging, "archive.tar.gz");
  const target = posix.join(staging, "restored");
  const restored = await session.exec(
    `cd ~ && openclaw backup restore ${remoteQuote(archive)} --target ${remoteQuote(target)} --json`,
    "",
  );
  if (restored.code !== 0)
    throw new UserError(
      `openclaw backup restore failed on ${host}: ${lastLine(restored.stderr || restored.stdout)}`,
    );
  const root = (JSON.parse(restored.stdout.slice(restored.stdout.indexOf("{"))) as { archiveRoot?: unknown })
    .archiveRoot;
  if (typeof root !== "string" || root.includes("/"))
    throw new UserError(`openclaw backup restore on ${host} did not name its archive root.`);
  const sftp = await session.sftp();
  const manifest = await sftpCall<Buffer>((cb) =>
    sftp.readFile(posix.join(target, root, "manifest.json"), cb),
  );
  const asset = stateAssetPath(manifest.toString("utf8"), localStateDir);
  const moved = await session.exec(
    `mv ${remoteQuote(posix.join(target, asset))} ${remoteQuote(m.stateDir)} && rm -rf ${remoteQuote(staging)}`,
    "",
  );
  if (moved.code !== 0)
    throw new UserError(
      `Could not move the restored profile into place on ${host}: ${lastLine(moved.stderr)}`,
    );
  const configFile = posix.join(m.stateDir, "openclaw.json");
  const raw = await sftpCall<Buffer>((cb) => sftp.readFile(configFile, cb));
  const config = remoteConfig(raw.toString("utf8"), m.remotePort, { from: localStateDir, to: m.stateDir });
  await sftpCall<void>((cb) => sftp.writeFile(configFile, config, { mode: 0o600 }, cb));
}

/** `openclaw backup create --verify` there (its gateway stopped), fetched into `localDir`. */
export async function archiveThere(
  session: SshSession,
  host: string,
  node: NodeConfig,
  localDir: string,
): Promise<string> {
  const profileFlag =
    node.profile && node.profile !== "default" ? `--profile ${remoteQuote(node.profile)} ` : "";
  const made = await session.exec(
    `cd ~ && D=$(mktemp -d) && openclaw ${profileFlag}backup create --verify --output "$D" --json`,
    "",
  );
  if (made.code !== 0)
    throw new UserError(`openclaw backup create failed on ${host}: ${lastLine(made.stderr || made.stdout)}`);
  const { archivePath } = parseCreated(made.stdout, `openclaw backup create on ${host}`);
  const local = join(localDir, posix.basename(archivePath));
  const sftp = await session.sftp();
  await sftpCall<void>((cb) => sftp.fastGet(archivePath, local, (error) => cb(error)));
  await session.exec(`rm -rf ${remoteQuote(posix.dirname(archivePath))}`, "");
  return local;
}

/** `openclaw --version` there: refused when it is older than here (a newer state may not open there). */
export async function checkRemoteVersion(m: RemoteMigration, here: number[]): Promise<string> {
  const said = await m.session.exec("openclaw --version", "");
  const there = parseOpenclawVersion(said.stdout);
  if (said.code !== 0 || !there)
    throw new UserError(
      `Could not read the OpenClaw version on ${m.host}: ${lastLine(said.stderr || said.stdout)}`,
    );
  if (compareVersions(there, here) < 0)
    throw new UserError(
      `OpenClaw on ${m.host} is ${there.join(".")}, older than here (${here.join(".")}): the node's state may not open there.`,
      { hint: `update it there (npm install -g openclaw@${here.join(".")}), then migrate again` },
    );
  return there.join(".");
}

function lastLine(text: string): string {
  return (text.trim().split("\n").at(-1) ?? "").slice(0, 300);
}

/** `openclaw gateway run` there, detached in its own process group; its pid is kept for the cleanup. */
export async function startRemoteGateway(m: RemoteMigration): Promise<void> {
  const { node } = m;
  const profileFlag =
    node.profile && node.profile !== "default" ? `--profile ${remoteQuote(node.profile)} ` : "";
  const start = await m.session.exec(
    `cd ~ && S=; command -v setsid >/dev/null && S=setsid; OPENCLAW_DISABLE_BONJOUR=1 $S nohup openclaw ${profileFlag}gateway run > ${remoteQuote(posix.join(m.stateDir, "clawos-gateway.out"))} 2>&1 < /dev/null & echo $!`,
    "",
  );
  m.pid = Number(start.stdout.trim()) || undefined;
  if (start.code !== 0 || !m.pid)
    throw new UserError(`Could not start the gateway on ${m.host}: ${start.stderr.trim().slice(0, 200)}`);
}

/** The remote gateway answers through an SSH tunnel, with the node's token; it must not exit meanwhile. */
export async function checkRemoteGateway(
  m: RemoteMigration,
  token: { token?: string; source: string },
  readyTimeoutMs: number | undefined,
): Promise<number> {
  const { session, host, node } = m;
  const pid = m.pid!;
  const outFile = posix.join(m.stateDir, "clawos-gateway.out");
  const checkAlive = async () => {
    const check = await session.exec(`kill -0 ${pid}`, "");
    if (check.code === 0) return;
    const tail = await session.exec(`tail -n 5 ${remoteQuote(outFile)}`, "").catch(() => undefined);
    const said = (tail?.stdout ?? "").trim().split("\n").join(" | ").slice(0, 300);
    throw new UserError(`The gateway on ${host} exited before it was ready${said ? `: ${said}` : ""}.`, {
      hint: `see ${outFile} there`,
    });
  };
  const tunnelPort = await waitTunnel(session, m.remotePort, readyTimeoutMs ?? 180_000, checkAlive);
  const client = new GatewayClient(
    {
      nodeId: node.id,
      host: "127.0.0.1",
      port: tunnelPort,
      ...(token.token ? { token: token.token } : {}),
      tokenSource: token.source,
      profile: node.profile,
      agent: node.agent,
    },
    { probeTimeoutMs: CHECK_TIMEOUT_MS },
  );
  try {
    await waitUntilStarted(client, {
      timeoutMs: readyTimeoutMs ?? 180_000,
      what: "The remote gateway",
      hint: `see ${outFile} on ${host}; a first start can take a minute on a small machine (--ready-timeout)`,
      checkAlive,
    });
    await client.models(AbortSignal.timeout(CHECK_TIMEOUT_MS));
    return await answersATurn(client);
  } finally {
    await client.close();
  }
}

/** A real turn (the model answers), on a session of its own; how long it took. */
export async function answersATurn(client: GatewayClient): Promise<number> {
  const started = Date.now();
  await client.chat({
    text: "clawos checks that this node answers after a move. Reply with one word.",
    user: "clawos:migration-check",
    timeoutMs: 150_000,
  });
  return Date.now() - started;
}

/** After a failure before the switch: stop what was started there and remove what was copied. */
export async function tidyRemote(m: RemoteMigration): Promise<void> {
  const { session } = m;
  if (m.pid) await session.exec(killGroup(m.pid), "").catch(() => {});
  if (m.staging) await session.exec(`rm -rf ${remoteQuote(m.staging)}`, "").catch(() => {});
  if (m.pid && m.stateDir) await session.exec(`rm -rf ${remoteQuote(m.stateDir)}`, "").catch(() => {});
}

export function remoteQuote(path: string): string {
  return `'${path.replace(/'/g, "'\\''")}'`;
}

async function sftpCall<T>(
  fn: (cb: (error: Error | null | undefined, value?: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) =>
    fn((error, value) => (error ? reject(error) : resolve(value as T))),
  );
}

export async function waitTunnel(
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
export function killGroup(pid: number): string {
  return `kill -TERM -- -${pid} 2>/dev/null || kill -TERM ${pid}`;
}
