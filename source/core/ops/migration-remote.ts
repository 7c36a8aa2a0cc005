import { readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { SFTPWrapper } from "ssh2";
import { UserError } from "../domain/errors.js";
import type { NodeConfig } from "../domain/schema.js";
import { GatewayClient } from "../transport/gateway-client.js";
import type { SshSession } from "../transport/ssh-route.js";
import { PORT_SPACING } from "./gateway-ports.js";
import { waitUntilStarted } from "./gateway-ready.js";
import { isSecret, remoteConfig } from "./migration-files.js";
import { checkRemoteSpacing } from "./migration-ports.js";

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

/** Copy into a staging dir, renamed into place only once complete. */
export async function copyProfile(
  m: RemoteMigration,
  files: string[],
  localStateDir: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const { session, host, staging } = m;
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
        remoteConfig(data.toString("utf8"), m.remotePort, { from: localStateDir, to: m.stateDir }),
      );
    await sftpCall<void>((cb) => sftp.writeFile(dest, data, { mode: isSecret(rel) ? 0o600 : 0o644 }, cb));
  }
  const moved = await session.exec(`mv ${remoteQuote(staging)} ${remoteQuote(m.stateDir)}`, "");
  if (moved.code !== 0)
    throw new UserError(`Could not move the copy into place on ${host}: ${moved.stderr.trim()}`);
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
): Promise<void> {
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
      timeoutMs: readyTimeoutMs ?? 180_000,
      what: "The remote gateway",
      hint: `see ${outFile} on ${host}; a first start can take a minute on a small machine (--ready-timeout)`,
      checkAlive,
    });
    await client.models(AbortSignal.timeout(10_000));
  } finally {
    await client.close();
  }
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

export async function mkdirs(sftp: SFTPWrapper, dir: string): Promise<void> {
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
