import { timingSafeEqual } from "node:crypto";
import { appendFile, chmod, mkdir, open, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { dirname } from "node:path";
import ssh2, { type Connection, type ServerChannel } from "ssh2";
import { isErrnoException, UserError } from "../core/domain/errors.js";
import type { FederationApi } from "../core/domain/federation-types.js";
import { sanitizeLine } from "../core/infra/sanitize.js";
import { fingerprint } from "../core/transport/known-hosts.js";
import { type AuthorizedKey, loadAuthorizedKeys } from "./authorized-keys.js";
import { LoginGate } from "./login-gate.js";
import { asSessionInput, SessionOutput } from "./session-streams.js";
import { clampTerminalSize } from "./terminal-size.js";

// ssh2 is CommonJS: its Server and utils are not visible as named ESM exports.
const { Server, utils } = ssh2;

export interface ServeOptions {
  host: string;
  port: number;
  hostKeyFile: string;
  authorizedKeysFile: string;
  logFile: string;
  readonly: boolean;
  /** Control centers (shells) open at once, over all connections. */
  maxSessions: number;
  /** Seconds a connection has to log in (default 20). */
  loginGraceSeconds?: number;
  /** Connections still logging in at once (default 10). */
  maxUnauthenticated?: number;
  keys?: Record<string, string | string[]>;
  /** Mount one UI on a session's streams; resolves when the user quits or the session ends. */
  runSession: (
    api: FederationApi,
    io: {
      stdin: NodeJS.ReadStream;
      stdout: NodeJS.WriteStream;
      readonly: boolean;
      keys?: Record<string, string | string[]>;
    },
  ) => Promise<void>;
}

export interface RunningServer {
  port: number;
  sessions(): number;
  close(): Promise<void>;
}

/**
 * ssh2's ed25519 generator strips a leading zero byte of the public key, so about 1 key in 256
 * cannot be parsed back (ssh2 issue 1390): such a key, once saved, would stop every later start.
 * Generate until both halves parse.
 */
function generateUsableKeyPair(): { private: string; public: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = utils.generateKeyPairSync("ed25519", { comment: "clawos serve host key" });
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error))
      return pair;
  }
  throw new Error("could not generate a host key that ssh2 can read back");
}

/** The host key file's bytes and mode, read through one descriptor; undefined if there is none. */
async function readHostKey(file: string): Promise<{ key: Buffer; mode: number } | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "r");
  } catch (error) {
    if (isErrnoException(error, "ENOENT")) return undefined;
    throw error;
  }
  try {
    const { mode } = await handle.stat();
    return { key: await handle.readFile(), mode };
  } finally {
    await handle.close();
  }
}

/** Read the host key, or make one (ed25519, mode 0600) on first run. */
export async function loadOrCreateHostKey(file: string): Promise<{ key: Buffer; created: boolean }> {
  const found = await readHostKey(file);
  if (found) {
    const parsed = utils.parseKey(found.key);
    if (parsed instanceof Error) {
      throw new UserError(`The host key ${file} cannot be read (${parsed.message}).`, {
        hint: `move it aside (mv ${file} ${file}.bad) and start again to make a new one; SSH clients will then see a new host key`,
      });
    }
    // As sshd: a private key others can read is no secret; refuse it rather than serve with it.
    if (found.mode & 0o077) {
      throw new UserError(
        `The host key ${file} is readable by others (mode ${(found.mode & 0o777).toString(8).padStart(4, "0")}).`,
        { hint: `chmod 600 ${file}` },
      );
    }
    return { key: found.key, created: false };
  }
  const pair = generateUsableKeyPair();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, pair.private, { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  await writeFile(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
  return { key: Buffer.from(pair.private), created: true };
}

function sameKey(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Failed authentication attempts a connection gets before it is closed (as sshd's MaxAuthTries). */
const MAX_AUTH_TRIES = 10;
/** Session channels open at once on one connection (as sshd's MaxSessions). */
const MAX_CHANNELS_PER_CONNECTION = 10;

/** Say one line on a shell that will not get a control center, then close that channel. */
function refuseShell(channel: ServerChannel, line: string): void {
  try {
    channel.write(`${line}\r\n`);
    channel.exit(1);
    channel.end();
  } catch {
    channel.destroy();
  }
}

/** `clawos serve --ssh`: the control center for every SSH session, each with its own UI state and size. */
export async function startSshServer(api: FederationApi, options: ServeOptions): Promise<RunningServer> {
  const { key: hostKey, created } = await loadOrCreateHostKey(options.hostKeyFile);
  const { keys: authorized, refused } = await loadAuthorizedKeys(options.authorizedKeysFile);
  let nextId = 1;
  let shells = 0;
  const active = new Map<number, Connection>();
  // Every session mounts a UI that listens on shared emitters; many sessions are expected.
  process.setMaxListeners(Math.max(process.getMaxListeners(), options.maxSessions * 4 + 20));
  const log = (line: string) => {
    void appendFile(options.logFile, `${new Date().toISOString()} ${sanitizeLine(line)}\n`, {
      mode: 0o600,
    }).catch(() => {});
  };
  await mkdir(dirname(options.logFile), { recursive: true });
  if (created) log(`generated host key ${options.hostKeyFile}`);
  for (const r of refused) log(`${options.authorizedKeysFile} line ${r.line}: key not loaded (${r.reason})`);
  const gate = new LoginGate({
    limit: options.maxUnauthenticated ?? 10,
    graceMs: (options.loginGraceSeconds ?? 20) * 1000,
  });

  const server = new Server({ hostKeys: [hostKey] }, (client, info) => {
    const id = nextId++;
    const from = `${info.ip}:${info.port}`;
    let who = "?";
    let keyFp = "";
    let granted: AuthorizedKey | undefined;
    let failures = 0;
    const opened = Date.now();
    const sock = (client as unknown as { _sock?: Socket })._sock;
    sock?.setNoDelay?.(true); // without it every keypress round trip stalls

    client.on("authentication", (ctx) => {
      who = ctx.username.replace(/[^\w.@-]/g, "?").slice(0, 64);
      const reject = () => {
        ctx.reject(["publickey"]);
        if (ctx.method !== "none" && ++failures >= MAX_AUTH_TRIES) client.end();
      };
      if (ctx.method !== "publickey") {
        reject();
        return;
      }
      const same = authorized.filter(
        (k) => k.key.type === ctx.key.algo && sameKey(k.key.getPublicSSH(), ctx.key.data),
      );
      if (same.length === 0) {
        log(`session ${id}: refused ${who} from ${from} (key ${fingerprint(ctx.key.data)} not authorized)`);
        reject();
        return;
      }
      const match = same.find((k) => k.permits(info.ip));
      if (!match) {
        log(
          `session ${id}: refused ${who} from ${from} (key ${fingerprint(ctx.key.data)} is not allowed from this address by from= on line ${same.map((k) => k.line).join(", ")})`,
        );
        reject();
        return;
      }
      if (ctx.signature && ctx.blob) {
        if (!match.key.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) {
          reject();
          return;
        }
        keyFp = fingerprint(ctx.key.data);
        granted = match;
      }
      ctx.accept();
    });

    client.on("ready", () => {
      if (sock) gate.loggedIn(sock);
      active.set(id, client);
      log(`session ${id}: ${who} from ${from} logged in (key ${keyFp})`);
      const mayHavePty = granted?.pty ?? false;
      let channels = 0;
      client.on("session", (accept, rejectSession) => {
        if (channels >= MAX_CHANNELS_PER_CONNECTION) {
          rejectSession();
          return;
        }
        channels++;
        const session = accept();
        session.once("close", () => channels--);
        let size = clampTerminalSize({});
        let term = "";
        let output: SessionOutput | undefined;
        // A no-pty key's pty-req is granted but nothing is drawn: refusing it would make OpenSSH's
        // -t client hang up before the shell below can say why there is no control center.
        session.on("pty", (ok, _reject, info) => {
          size = clampTerminalSize(info, size);
          term = sanitizeLine(String(info.term ?? "")).slice(0, 40);
          ok?.();
        });
        session.on("window-change", (ok, _reject, info) => {
          size = clampTerminalSize(info, size);
          output?.resize(size.cols, size.rows);
          ok?.();
        });
        session.on("exec", (_ok, reject) => reject?.());
        session.once("shell", (acceptShell) => {
          const channel = acceptShell();
          if (!mayHavePty) {
            log(
              `session ${id}: ${who} has no terminal (restrict or no-pty on line ${granted?.line}); no control center`,
            );
            refuseShell(
              channel,
              "clawos: this key may not open a terminal (restrict or no-pty in authorized_keys), so there is no control center for it.",
            );
            return;
          }
          if (shells >= options.maxSessions) {
            log(`session ${id}: ${who} from ${from} turned away (already ${shells} sessions)`);
            refuseShell(
              channel,
              `clawos: the server already has ${options.maxSessions} sessions; try again later.`,
            );
            return;
          }
          shells++;
          log(
            `session ${id}: control center opened (${term || "no terminal type"}, ${size.cols}×${size.rows})`,
          );
          output = new SessionOutput(channel, size);
          const stdout = output as unknown as NodeJS.WriteStream;
          options
            .runSession(api, {
              stdin: asSessionInput(channel),
              stdout,
              readonly: options.readonly,
              ...(options.keys ? { keys: options.keys } : {}),
            })
            .catch((error: unknown) =>
              log(
                `session ${id}: UI error: ${sanitizeLine(error instanceof Error ? error.message : String(error))}`,
              ),
            )
            .finally(() => {
              shells--;
              // Exit status, EOF and close must reach the client before the connection ends,
              // or its ssh reports a disconnect (exit 255) instead of a clean exit.
              const hangUp = setTimeout(() => client.end(), 2_000);
              hangUp.unref();
              channel.once("close", () => {
                clearTimeout(hangUp);
                client.end();
              });
              try {
                channel.exit(0);
                channel.end();
              } catch {
                client.end();
              }
            });
        });
      });
    });
    client.on("error", () => {});
    client.on("close", () => {
      if (active.delete(id))
        log(`session ${id}: ${who} disconnected after ${Math.round((Date.now() - opened) / 1000)} s`);
    });
  });

  // Connections reach ssh2 only through the gate, which caps and times out those not logged in.
  const listener = createServer((socket) => {
    if (gate.admit(socket)) server.injectSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new UserError(`${options.host}:${options.port} is already in use.`, {
              hint: "pick another port with --ssh HOST:PORT",
            })
          : error,
      );
    });
    listener.listen(options.port, options.host, () => resolve());
  });
  listener.on("error", (error) => log(`listener error: ${sanitizeLine(error.message)}`));
  const address = listener.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  log(`listening on ${options.host}:${port}${options.readonly ? " (read-only)" : ""}`);
  return {
    port,
    sessions: () => shells,
    close: () =>
      new Promise<void>((resolve) => {
        gate.closeAll();
        for (const c of active.values()) c.end();
        listener.close(() => resolve());
      }),
  };
}
