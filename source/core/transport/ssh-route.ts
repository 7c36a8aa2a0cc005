import { readFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { Duplex } from "node:stream";
import {
  type AuthenticationType,
  Client,
  type ClientChannel,
  type ConnectConfig,
  type SFTPWrapper,
} from "ssh2";
import type { Dispatcher } from "undici";
import { UserError } from "../domain/errors.js";
import type { SshSettings } from "../domain/schema.js";
import type { ChatRunner } from "../federation/task-runner.js";
import { expandTilde, userHome } from "../infra/paths.js";
import {
  GatewayClient,
  type GatewayClientOptions,
  GatewayError,
  type GatewayTarget,
} from "./gateway-client.js";
import {
  checkHostKey,
  type HostKeyVerdict,
  hostKeyName,
  knownKeyTypes,
  loadKnownHosts,
} from "./known-hosts.js";
import { Pool } from "./undici-pool.js";

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
  private gateways = new Map<number, Promise<Pool>>();
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
      this.releaseForwards();
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
      // Straight to our key: the "none" probe OpenSSH and ssh2 send first only costs a round trip.
      authHandler: [
        ...(privateKey ? (["publickey"] as AuthenticationType[]) : []),
        ...(agent ? (["agent"] as AuthenticationType[]) : []),
      ],
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
      // Before the handshake, not after: its packets are small and each waits on the last one's
      // ACK under Nagle — four ~40 ms delayed-ACK stalls per login, then one per request (ARCHITECTURE.md §6).
      client.setNoDelay(true);
    });
    ackPromptly(client);
    return new SshSession(target, client);
  }

  /**
   * An HTTP dispatcher whose connections are direct-tcpip channels to 127.0.0.1:remotePort on the
   * node's machine: no local port, no second TCP hop. Kept for the connection's life, so later
   * requests reuse an open channel. Rejects with `tunnel_refused` when sshd refuses the channel.
   */
  gatewayDispatcher(remotePort: number): Promise<Dispatcher> {
    let pool = this.gateways.get(remotePort);
    if (!pool) {
      pool = this.openGatewayPool(remotePort);
      this.gateways.set(remotePort, pool);
      pool.catch(() => this.gateways.delete(remotePort));
    }
    return pool;
  }

  private async openGatewayPool(remotePort: number): Promise<Pool> {
    // The first channel doubles as the check that forwarding works, then carries the first request.
    let spare: ClientChannel | undefined = await this.forward(remotePort).catch((error: Error) => {
      throw this.refused(remotePort, error);
    });
    spare.once("close", () => {
      spare = undefined;
    });
    return new Pool(`http://127.0.0.1:${remotePort}`, {
      connections: 8,
      connect: (_options, callback) => {
        const ready = (error: Error | null, channel?: ClientChannel) =>
          (callback as (error: Error | null, socket: Duplex | null) => void)(
            error,
            channel ? new ChannelSocket(channel) : null,
          );
        if (spare) {
          const channel = spare;
          spare = undefined;
          queueMicrotask(() => ready(null, channel)); // undici stalls if called back synchronously
          return;
        }
        this.forward(remotePort).then((channel) => ready(null, channel), ready);
      },
    });
  }

  private forward(remotePort: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      try {
        this.client.forwardOut("127.0.0.1", 0, "127.0.0.1", remotePort, (error, channel) =>
          error ? reject(error) : resolve(channel),
        );
      } catch (error) {
        reject(error); // "Not connected": the connection already dropped
      }
    });
  }

  private refused(remotePort: number, error: Error): SshError {
    return new SshError(
      "tunnel_refused",
      `${this.target.host} refused a tunnel to its gateway port ${remotePort}: ${error.message}`,
      "is the gateway running there, and does its sshd allow TCP forwarding (AllowTcpForwarding)?",
    );
  }

  private releaseForwards(): void {
    for (const t of this.tunnels.values()) t.server.close();
    this.tunnels.clear();
    for (const pool of this.gateways.values()) pool.then((p) => p.destroy()).catch(() => {});
    this.gateways.clear();
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
  private async probeForward(remotePort: number): Promise<void> {
    const channel = await this.forward(remotePort).catch((error: Error) => {
      throw this.refused(remotePort, error);
    });
    channel.close();
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
    this.releaseForwards();
    this.client.end();
  }
}

/** The parts of ssh2's protocol object that sending SSH_MSG_IGNORE needs; there is no public API. */
interface ProtocolInternals {
  _kexinit?: unknown;
  _packetRW?: {
    write?: { allocStart: number; alloc(length: number): Buffer; finalize(packet: Buffer): Buffer };
  };
  _cipher?: { encrypt(packet: Buffer): void };
}

/**
 * Answer every read from sshd at once with an SSH_MSG_IGNORE when nothing else went out.
 * Stock sshd leaves Nagle on for a connection without a pty, so a reply sshd forwards in two
 * writes (headers, then the stream) holds the second until our ACK — and Linux delays that ACK
 * ~40 ms when we have nothing to send. Sending a few bytes carries the ACK with them.
 */
function ackPromptly(client: Client): void {
  const internals = client as unknown as { _sock?: Socket; _protocol?: ProtocolInternals };
  const sock = internals._sock;
  if (!sock || typeof sock.bytesWritten !== "number") return;
  let scheduled = false;
  let writtenAtRead = 0;
  sock.on("data", () => {
    if (scheduled) return;
    scheduled = true;
    writtenAtRead = sock.bytesWritten;
    setImmediate(() => {
      scheduled = false;
      // Whatever we sent in reaction already carried the ACK.
      if (sock.bytesWritten === writtenAtRead && sock.writable) sendIgnore(internals._protocol);
    });
  });
}

function sendIgnore(protocol: ProtocolInternals | undefined): void {
  const write = protocol?._packetRW?.write;
  const cipher = protocol?._cipher;
  // During a key exchange only kex packets may go out (strict KEX): skip, the next read retries.
  if (!write || !cipher || protocol._kexinit !== undefined) return;
  try {
    const start = write.allocStart;
    const packet = write.alloc(1 + 4);
    packet[start] = 2; // SSH_MSG_IGNORE, with an empty string
    packet.writeUInt32BE(0, start + 1);
    cipher.encrypt(write.finalize(packet));
  } catch {
    // The connection is being torn down: nothing left to acknowledge.
  }
}

/**
 * An SSH channel as the socket undici expects: ssh2's Channel.destroy() neither marks the stream
 * destroyed nor takes an error, and undici relies on both to fail and drop a connection.
 */
class ChannelSocket extends Duplex {
  constructor(private readonly channel: ClientChannel) {
    super({ allowHalfOpen: false });
    channel.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) channel.pause();
    });
    channel.once("end", () => this.push(null));
    channel.once("close", () => this.destroy());
    channel.on("error", (error: Error) => this.destroy(error));
  }
  override _read(): void {
    this.channel.resume();
  }
  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.channel.write(chunk, encoding, callback);
  }
  override _final(callback: (error?: Error | null) => void): void {
    this.channel.end();
    callback();
  }
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.channel.close();
    callback(error);
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
    private readonly limits: Pick<GatewayClientOptions, "timeoutMs" | "streamIdleMs"> = {},
  ) {}

  async chat(input: { text: string; user: string; signal?: AbortSignal; onDelta?: (delta: string) => void }) {
    const session = await this.pool.get(this.settings);
    let dispatcher: Dispatcher;
    try {
      dispatcher = await session.gatewayDispatcher(this.gateway.remotePort);
    } catch (error) {
      if (error instanceof SshError && error.kind === "tunnel_refused")
        return this.oneShot(session, input, error);
      throw error;
    }
    const { remotePort, ...target } = this.gateway;
    // The dispatcher belongs to the SSH connection: its channels outlive this turn.
    const client = new GatewayClient(
      { ...target, host: "127.0.0.1", port: remotePort },
      { ...this.limits, dispatcher },
    );
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
