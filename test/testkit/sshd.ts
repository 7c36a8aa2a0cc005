/**
 * A real OpenSSH server on 127.0.0.1 for tests: generated host and client keys,
 * public-key auth only, TCP forwarding on, and a PATH of our choosing for exec.
 */
import { execFile, spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const SSHD = "/usr/sbin/sshd";

export interface Sshd {
  port: number;
  user: string;
  target: string;
  clientKey: string;
  otherClientKey: string;
  /** A known_hosts file that trusts this server. */
  knownHosts: string;
  hostKeyLine: string;
  /** Directory put first on PATH for commands run over exec. */
  binDir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** What every test sshd allows: public keys only (root too), no PAM, TCP forwarding (the P0 tunnel) and SFTP (migration). */
export const SSHD_TEST_POLICY = [
  "AuthenticationMethods publickey",
  "PubkeyAuthentication yes",
  "PasswordAuthentication no",
  "KbdInteractiveAuthentication no",
  "PermitRootLogin prohibit-password",
  "StrictModes no",
  "UsePAM no",
  "AllowTcpForwarding yes",
  "Subsystem sftp internal-sftp",
];

export async function keygen(path: string, type = "ed25519"): Promise<void> {
  await run("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "clawos-test", "-f", path]);
}

/** `remoteHome`: HOME for the sessions, so a second HOME on this machine can play "the remote machine". */
/**
 * The OpenSSH client options a test connects with: only this key, only this known_hosts (checked
 * strictly), never a prompt, and quiet, so the screen shows the server and nothing else.
 */
export function sshClientArgs(options: { port: number; identity: string; knownHosts: string }): string[] {
  return [
    "-tt",
    "-p",
    String(options.port),
    "-i",
    options.identity,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `UserKnownHostsFile=${options.knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "LogLevel=ERROR",
  ];
}

export async function startSshd(dir: string, options: { remoteHome?: string } = {}): Promise<Sshd> {
  await mkdir(dir, { recursive: true });
  const binDir = join(dir, "bin");
  await mkdir(binDir, { recursive: true });
  await keygen(join(dir, "host_ed25519"));
  await keygen(join(dir, "client_ed25519"));
  await keygen(join(dir, "other_ed25519"));
  await writeFile(join(dir, "authorized_keys"), await readFile(join(dir, "client_ed25519.pub")), {
    mode: 0o600,
  });
  if (process.getuid?.() === 0) await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "host_ed25519")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    ...SSHD_TEST_POLICY,
    `SetEnv PATH=${binDir}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin${options.remoteHome ? ` HOME=${options.remoteHome}` : ""}`,
    "LogLevel VERBOSE",
  ].join("\n");
  await writeFile(join(dir, "sshd_config"), `${config}\n`);
  const child = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start:\n${log}`)), 15_000);
    child.stderr.on("data", (d: Buffer) => {
      log += d.toString();
      if (log.includes("Server listening")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited ${code}:\n${log}`));
    });
  });
  const hostPub = (await readFile(join(dir, "host_ed25519.pub"), "utf8")).trim().split(/\s+/);
  const hostKeyLine = `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}`;
  const knownHosts = join(dir, "known_hosts");
  await writeFile(knownHosts, `${hostKeyLine}\n`);
  const user = userInfo().username;
  return {
    port,
    user,
    target: `${user}@127.0.0.1:${port}`,
    clientKey: join(dir, "client_ed25519"),
    otherClientKey: join(dir, "other_ed25519"),
    knownHosts,
    hostKeyLine,
    binDir,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}
