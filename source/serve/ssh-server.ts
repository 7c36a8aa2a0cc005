import { timingSafeEqual } from "node:crypto";
import { appendFile, chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import ssh2, { type Connection, type ParsedKey } from "ssh2";
import { isErrnoException, UserError } from "../core/errors.js";
import type { FederationApi } from "../core/federation-types.js";
import { sanitizeLine } from "../core/sanitize.js";
import { fingerprint } from "../core/ssh/known-hosts.js";
import { asSessionInput, SessionOutput } from "./session-streams.js";

// ssh2 is CommonJS: its Server and utils are not visible as named ESM exports.
const { Server, utils } = ssh2;

export interface ServeOptions {
  host: string;
  port: number;
  hostKeyFile: string;
  authorizedKeysFile: string;
  logFile: string;
  readonly: boolean;
  maxSessions: number;
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

/** Read the host key, or make one (ed25519, mode 0600) on first run. */
export async function loadOrCreateHostKey(file: string): Promise<{ key: Buffer; created: boolean }> {
  let key: Buffer | undefined;
  try {
    key = await readFile(file);
  } catch (error) {
    if (!isErrnoException(error, "ENOENT")) throw error;
  }
  if (key) {
    const parsed = utils.parseKey(key);
    if (parsed instanceof Error) {
      throw new UserError(`The host key ${file} cannot be read (${parsed.message}).`, {
        hint: `move it aside (mv ${file} ${file}.bad) and start again to make a new one; SSH clients will then see a new host key`,
      });
    }
    return { key, created: false };
  }
  const pair = generateUsableKeyPair();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, pair.private, { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  await writeFile(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
  return { key: Buffer.from(pair.private), created: true };
}

export async function loadAuthorizedKeys(file: string): Promise<ParsedKey[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (isErrnoException(error, "ENOENT")) {
      throw new UserError(`No authorized_keys file at ${file}: nobody could log in.`, {
        hint: "put the public keys allowed in, one per line (e.g. cat ~/.ssh/id_ed25519.pub >> that file), or pass --authorized-keys FILE",
      });
    }
    throw error;
  }
  const keys: ParsedKey[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    // Options before the key type (from="…",no-pty …) are not supported; the key itself starts at its type.
    const start = trimmed.search(/(ssh-|ecdsa-|sk-)/);
    const parsed = utils.parseKey(start > 0 ? trimmed.slice(start) : trimmed);
    if (!(parsed instanceof Error)) keys.push(Array.isArray(parsed) ? parsed[0] : parsed);
  }
  if (keys.length === 0) throw new UserError(`${file} holds no usable public key.`);
  return keys;
}

function sameKey(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `clawos serve --ssh`: the control center for every SSH session, each with its own UI state and size. */
export async function startSshServer(api: FederationApi, options: ServeOptions): Promise<RunningServer> {
  const { key: hostKey, created } = await loadOrCreateHostKey(options.hostKeyFile);
  const authorized = await loadAuthorizedKeys(options.authorizedKeysFile);
  let nextId = 1;
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

  const server = new Server({ hostKeys: [hostKey] }, (client, info) => {
    const id = nextId++;
    const from = `${info.ip}:${info.port}`;
    let who = "?";
    let keyFp = "";
    const opened = Date.now();
    const sock = (client as unknown as { _sock?: { setNoDelay?: (v: boolean) => void } })._sock;
    sock?.setNoDelay?.(true); // without it every keypress round trip stalls (DESIGN §6)

    client.on("authentication", (ctx) => {
      who = ctx.username.replace(/[^\w.@-]/g, "?").slice(0, 64);
      if (ctx.method !== "publickey") {
        ctx.reject(["publickey"]);
        return;
      }
      const match = authorized.find(
        (k) => k.type === ctx.key.algo && sameKey(k.getPublicSSH(), ctx.key.data),
      );
      if (!match) {
        log(`session ${id}: refused ${who} from ${from} (key ${fingerprint(ctx.key.data)} not authorized)`);
        ctx.reject(["publickey"]);
        return;
      }
      if (ctx.signature && ctx.blob) {
        if (!match.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) {
          ctx.reject(["publickey"]);
          return;
        }
        keyFp = fingerprint(ctx.key.data);
      }
      ctx.accept();
    });

    client.on("ready", () => {
      if (active.size >= options.maxSessions) {
        log(`session ${id}: ${who} from ${from} turned away (already ${active.size} sessions)`);
        client.on("session", (accept) => {
          const session = accept();
          session.once("shell", (acceptShell) => {
            const ch = acceptShell();
            ch.write(`clawos: the server already has ${options.maxSessions} sessions; try again later.\r\n`);
            ch.exit(1);
            ch.end();
          });
          session.once("pty", (ok) => ok?.());
        });
        setTimeout(() => client.end(), 2_000).unref();
        return;
      }
      active.set(id, client);
      log(`session ${id}: ${who} from ${from} logged in (key ${keyFp})`);
      client.on("session", (accept) => {
        const session = accept();
        let size = { cols: 80, rows: 24 };
        let output: SessionOutput | undefined;
        session.on("pty", (ok, _reject, info) => {
          size = { cols: info.cols, rows: info.rows };
          ok?.();
        });
        session.on("window-change", (ok, _reject, info) => {
          output?.resize(info.cols, info.rows);
          if (!output) size = { cols: info.cols, rows: info.rows };
          ok?.();
        });
        session.on("exec", (_ok, reject) => reject?.());
        session.on("shell", (acceptShell) => {
          const channel = acceptShell();
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
              log(`session ${id}: UI error: ${error instanceof Error ? error.message : String(error)}`),
            )
            .finally(() => {
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

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new UserError(`${options.host}:${options.port} is already in use.`, {
              hint: "pick another port with --ssh HOST:PORT",
            })
          : error,
      );
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  log(`listening on ${options.host}:${port}${options.readonly ? " (read-only)" : ""}`);
  return {
    port,
    sessions: () => active.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of active.values()) c.end();
        server.close(() => resolve());
      }),
  };
}
