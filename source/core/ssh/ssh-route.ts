import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { Client, type ConnectConfig, type SFTPWrapper } from "ssh2";
import { UserError } from "../errors.js";
import { GatewayClient, GatewayError, type GatewayTarget } from "../gateway-client.js";
import { expandTilde, userHome } from "../paths.js";
import type { SshSettings } from "../schema.js";
import type { ChatRunner } from "../task-runner.js";
import {
  checkHostKey,
  type HostKeyVerdict,
  hostKeyName,
  knownKeyTypes,
  loadKnownHosts,
} from "./known-hosts.js";

export interface SshTarget {
  user: string;
  host: string;
  port: number;
}

export function parseSshTarget(target: string): SshTarget {
  const m = /^([^@\s]+)@([^@\s:]+)(?::(\d{1,5}))?$/.exec(target);
  if (!m)
    throw new UserError(`"${target}" is not an SSH target.`, {
      hint: "write it as user@host or user@host:port",
    });
  return { user: m[1]!, host: m[2]!, port: m[3] ? Number(m[3]) : 22 };
}

export class SshError extends UserError {
  constructor(
    readonly kind:
      | "host_unknown"
      | "host_changed"
      | "auth"
      | "unreachable"
      | "timeout"
      | "tunnel_refused"
      | "remote_failed",
    message: string,
    hint?: string,
  ) {
    super(message, { code: `ssh_${kind}`, ...(hint ? { hint } : {}) });
  }
  /** Every SSH failure leaves the task for the blackboard route: it is never lost. */
  readonly retryable = true;
}

const DEFAULT_IDENTITIES = ["id_ed25519", "id_ecdsa", "id_rsa"];

async function readIdentity(settings: SshSettings, env: NodeJS.ProcessEnv): Promise<Buffer | undefined> {
  const candidates = settings.identityFile
    ? [expandTilde(settings.identityFile, env)]
    : DEFAULT_IDENTITIES.map((n) => join(userHome(env), ".ssh", n));
  for (const file of candidates) {
    try {
      return await readFile(file);
    } catch {
      if (settings.identityFile) {
        throw new SshError(
          "auth",
          `Cannot read the SSH identity file ${settings.identityFile}.`,
          "check ssh.identityFile for this node",
        );
      }
    }
  }
  return undefined;
}

/** One SSH connection to a node's machine: verified host key, public-key auth, keepalive. */
export class SshSession {
  private tunnels = new Map<number, { server: Server; port: number }>();
  private closed = false;

  /** Rejects when the connection goes away: race long operations against it so none hangs. */
  readonly dropped: Promise<never>;

  private constructor(
    readonly target: SshTarget,
    private readonly client: Client,
  ) {
    this.dropped = new Promise<never>((_resolve, reject) => {
      client.once("close", () =>
        reject(new SshError("unreachable", `The SSH connection to ${target.host} dropped.`)),
      );
    });
    this.dropped.catch(() => {}); // nobody may be racing it
    client.on("close", () => {
      this.closed = true;
      for (const t of this.tunnels.values()) t.server.close();
      this.tunnels.clear();
    });
  }

  get alive(): boolean {
    return !this.closed;
  }

  static async connect(settings: SshSettings, env: NodeJS.ProcessEnv, options: { timeoutMs?: number } = {}) {
    const target = parseSshTarget(settings.target);
    const knownHostsPath = expandTilde(settings.knownHosts ?? "~/.ssh/known_hosts", env);
    const entries = await loadKnownHosts(knownHostsPath);
    const privateKey = await readIdentity(settings, env);
    const agent = env.SSH_AUTH_SOCK;
    if (!privateKey && !agent) {
      throw new SshError(
        "auth",
        `No SSH key to log in to ${settings.target} with.`,
        "set ssh.identityFile for the node, or start ssh-agent (SSH_AUTH_SOCK)",
      );
    }
    let verdict: HostKeyVerdict | undefined;
    const types = knownKeyTypes(entries, target.host, target.port);
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: options.timeoutMs ?? 10_000,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      ...(privateKey ? { privateKey } : {}),
      ...(agent ? { agent } : {}),
      // Ask for a key type we can check, as OpenSSH does.
      ...(types.length ? { algorithms: { serverHostKey: types as never } } : {}),
      hostVerifier: (key: Buffer) => {
        verdict = checkHostKey(entries, target.host, target.port, key);
        return verdict.kind === "trusted";
      },
    };
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.once("ready", () => resolve());
      client.once("error", (error: Error & { level?: string; code?: string }) => {
        reject(describeConnectError(error, verdict, target, knownHostsPath));
      });
      client.connect(config);
    });
    // Keys and round trips are small: without no-delay every reply waits for Nagle (DESIGN §6).
    (client as unknown as { _sock?: { setNoDelay?: (v: boolean) => void } })._sock?.setNoDelay?.(true);
    return new SshSession(target, client);
  }

  /** A loopback port here that leads to 127.0.0.1:remotePort on the node's machine (like ssh -L). */
  async tunnel(remotePort: number): Promise<number> {
    const existing = this.tunnels.get(remotePort);
    if (existing) return existing.port;
    await this.probeForward(remotePort);
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      this.client.forwardOut("127.0.0.1", 0, "127.0.0.1", remotePort, (error, channel) => {
        if (error) {
          socket.destroy();
          return;
        }
        socket.pipe(channel).pipe(socket);
        socket.on("error", () => channel.close());
        channel.on("error", () => socket.destroy());
      });
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        resolve(typeof address === "object" && address ? address.port : 0);
      });
    });
    server.unref();
    this.tunnels.set(remotePort, { server, port });
    return port;
  }

  /** Open and close one channel, so a refused forward is known before a task is sent. */
  private probeForward(remotePort: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut("127.0.0.1", 0, "127.0.0.1", remotePort, (error, channel) => {
        if (error) {
          reject(
            new SshError(
              "tunnel_refused",
              `${this.target.host} refused a tunnel to its gateway port ${remotePort}: ${error.message}`,
              "is the gateway running there, and does its sshd allow TCP forwarding (AllowTcpForwarding)?",
            ),
          );
          return;
        }
        channel.close();
        resolve();
      });
    });
  }

  exec(
    command: string,
    input: string,
    signal?: AbortSignal,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, stream) => {
        if (error) {
          reject(
            new SshError("remote_failed", `Could not run a command on ${this.target.host}: ${error.message}`),
          );
          return;
        }
        let stdout = "";
        let stderr = "";
        const onAbort = () => stream.close();
        signal?.addEventListener("abort", onAbort, { once: true });
        stream.on("data", (d: Buffer) => {
          if (stdout.length < 8_000_000) stdout += d.toString("utf8");
        });
        stream.stderr.on("data", (d: Buffer) => {
          if (stderr.length < 64_000) stderr += d.toString("utf8");
        });
        stream.on("close", (code: number | null) => {
          signal?.removeEventListener("abort", onAbort);
          resolve({ code, stdout, stderr });
        });
        stream.end(input);
      });
    });
  }

  sftp(): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) => {
      this.client.sftp((error, sftp) => {
        if (error)
          reject(
            new SshError("remote_failed", `SFTP is not available on ${this.target.host}: ${error.message}`),
          );
        else resolve(sftp);
      });
    });
  }

  /** Drop the connection at once, as a network failure would. */
  destroy(): void {
    this.closed = true;
    (this.client as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
  }

  close(): void {
    this.closed = true;
    for (const t of this.tunnels.values()) t.server.close();
    this.tunnels.clear();
    this.client.end();
  }
}

function describeConnectError(
  error: Error & { level?: string; code?: string },
  verdict: HostKeyVerdict | undefined,
  target: SshTarget,
  knownHostsPath: string,
): SshError {
  const where = `${target.user}@${target.host}${target.port === 22 ? "" : `:${target.port}`}`;
  const name = hostKeyName(target.host, target.port);
  const portFlag = target.port === 22 ? "" : `-p ${target.port} `;
  if (verdict?.kind === "unknown") {
    return new SshError(
      "host_unknown",
      `The host key of ${name} is not in ${knownHostsPath} (it offered ${verdict.fingerprint}).`,
      `if that fingerprint is right, trust it: ssh-keyscan ${portFlag}${target.host} >> ${knownHostsPath}`,
    );
  }
  if (verdict?.kind === "changed" || verdict?.kind === "revoked") {
    return new SshError(
      "host_changed",
      `The host key of ${name} has CHANGED (now ${verdict.fingerprint}); refusing to connect — this could be an attack.`,
      `if the machine was really reinstalled, remove the old key: ssh-keygen -R "${name}" -f ${knownHostsPath}, then trust the new one`,
    );
  }
  if (error.level === "client-authentication") {
    return new SshError(
      "auth",
      `${where} refused our key (publickey authentication failed).`,
      "add this machine's public key to ~/.ssh/authorized_keys there, or set ssh.identityFile",
    );
  }
  if (error.code === "ECONNREFUSED" || error.code === "EHOSTUNREACH" || error.code === "ENOTFOUND") {
    return new SshError(
      "unreachable",
      `No SSH server answers at ${target.host}:${target.port} (${error.code}).`,
      "is the machine awake and sshd (or Tailscale SSH) running?",
    );
  }
  if (/timed out/i.test(error.message)) {
    return new SshError(
      "timeout",
      `SSH to ${where} timed out during the handshake.`,
      "is the machine asleep or the network down?",
    );
  }
  return new SshError("unreachable", `SSH to ${where} failed: ${error.message}`);
}

/** Reuses one connection per target; reconnects when it dropped. */
export class SshPool {
  private sessions = new Map<string, Promise<SshSession>>();
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async get(settings: SshSettings): Promise<SshSession> {
    const key = `${settings.target}|${settings.identityFile ?? ""}|${settings.knownHosts ?? ""}`;
    const existing = this.sessions.get(key);
    if (existing) {
      const session = await existing.catch(() => undefined);
      if (session?.alive) return session;
      this.sessions.delete(key);
    }
    const created = SshSession.connect(settings, this.env);
    this.sessions.set(key, created);
    created.catch(() => this.sessions.delete(key));
    return created;
  }

  async closeAll(): Promise<void> {
    for (const p of this.sessions.values()) (await p.catch(() => undefined))?.close();
    this.sessions.clear();
  }
}

/**
 * The P0 route: the same gateway client, through a tunnel to the remote 127.0.0.1:port.
 * When the tunnel is refused, fall back to the `openclaw … agent --json` one-shot over exec.
 */
export class SshChatRunner implements ChatRunner {
  constructor(
    private readonly pool: SshPool,
    private readonly settings: SshSettings,
    private readonly gateway: Omit<GatewayTarget, "host" | "port"> & { remotePort: number },
  ) {}

  async chat(input: { text: string; user: string; signal?: AbortSignal; onDelta?: (delta: string) => void }) {
    const session = await this.pool.get(this.settings);
    let localPort: number;
    try {
      localPort = await session.tunnel(this.gateway.remotePort);
    } catch (error) {
      if (error instanceof SshError && error.kind === "tunnel_refused")
        return this.oneShot(session, input, error);
      throw error;
    }
    const { remotePort, ...target } = this.gateway;
    const client = new GatewayClient({ ...target, host: "127.0.0.1", port: localPort });
    try {
      return await client.chat(input);
    } catch (error) {
      if (error instanceof GatewayError && error.kind === "unreachable") {
        throw new SshError(
          "remote_failed",
          `SSH works, but the gateway on ${session.target.host}:${remotePort} is down.`,
          "start it there: openclaw gateway run",
        );
      }
      throw error;
    } finally {
      await client.close();
    }
  }

  private async oneShot(
    session: SshSession,
    input: { text: string; signal?: AbortSignal; onDelta?: (delta: string) => void },
    cause: SshError,
  ): Promise<{ text: string }> {
    const profile = this.gateway.profile ? ` --profile ${shellWord(this.gateway.profile)}` : "";
    const command = `openclaw${profile} agent --agent ${shellWord(this.gateway.agent)} --message-file - --json`;
    const run = await session.exec(command, input.text, input.signal);
    if (run.code !== 0) {
      throw new SshError(
        "remote_failed",
        `${cause.message}; the fallback \`openclaw agent\` there failed too (exit ${run.code}): ${run.stderr.trim().split("\n").at(-1) ?? ""}`.slice(
          0,
          400,
        ),
        "check the gateway on that machine",
      );
    }
    let text: string;
    try {
      const parsed = JSON.parse(run.stdout) as { result?: { payloads?: { text?: string }[] } };
      text = (parsed.result?.payloads ?? []).map((p) => p.text ?? "").join("");
    } catch {
      throw new SshError(
        "remote_failed",
        "The fallback `openclaw agent --json` printed something that is not JSON.",
      );
    }
    input.onDelta?.(text);
    return { text };
  }
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9._-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
