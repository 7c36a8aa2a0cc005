/**
 * The clients of the serve soak. Normal users run the real `ssh` client in a pty and
 * keep checking that their control center draws and answers a key; hostile ones use
 * ssh2's client or raw sockets: idle pre-auth connections, huge pty and window sizes,
 * and garbage input before and after authentication. Every client loops until stopped.
 */
import { connect, type Socket } from "node:net";
import ssh2 from "ssh2";
import { type PtySession, spawnInPty } from "../../../test/testkit/pty-harness.js";
import { sleep } from "../../lib.js";

const { Client } = ssh2;

export interface Target {
  port: number;
  privateKey: Buffer;
  keyPath: string;
  knownHosts: string;
  /** HOME for the ssh client (its own ~/.ssh stays untouched). */
  home: string;
}

export interface ClientStats {
  kind: string;
  connects: number;
  /** Connections the server closed or refused (for hostile clients: the server defending itself). */
  closedByServer: number;
  errors: Record<string, number>;
}

function count(stats: ClientStats, error: unknown): void {
  const key = String((error as Error)?.message ?? error)
    .replace(/\d+/g, "N")
    .slice(0, 80);
  stats.errors[key] = (stats.errors[key] ?? 0) + 1;
}

const stats = (kind: string): ClientStats => ({ kind, connects: 0, closedByServer: 0, errors: {} });

// ── normal users ─────────────────────────────────────────────────────────────

export interface NormalUser extends ClientStats {
  /** The ssh session ended before the soak did (each time it happened). */
  drops: string[];
  keyProbes: number;
  keyProbesFailed: string[];
  /** Longest stretch (s) without a byte of output while the session was up. */
  longestSilenceS: number;
  /** Planted escape sequences that reached the user's terminal (OSC 52 clipboard, title). */
  hostileEscapes: number;
  /** The session could not be opened at all (locked out). */
  lockouts: number;
}

/** "A key changes the screen": the help overlay redraws most rows, and a second ? closes it. */
async function probeKey(pty: PtySession): Promise<void> {
  const before = pty.screenLines();
  const changed = () => pty.screenLines().filter((line, i) => line !== (before[i] ?? "")).length;
  pty.write("?");
  await pty.waitFor(() => changed() >= 8, "the help overlay (8+ rows changed)", 30_000);
  pty.write("?");
  await pty.waitFor(() => changed() <= 5, "the main view again", 30_000);
}

export async function normalUser(target: Target, name: string, stop: AbortSignal): Promise<NormalUser> {
  const s: NormalUser = {
    ...stats("normal user (ssh in a pty)"),
    drops: [],
    keyProbes: 0,
    keyProbesFailed: [],
    longestSilenceS: 0,
    hostileEscapes: 0,
    lockouts: 0,
  };
  while (!stop.aborted) {
    const pty = spawnInPty(
      "ssh",
      [
        "-tt",
        "-p",
        String(target.port),
        "-i",
        target.keyPath,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        `UserKnownHostsFile=${target.knownHosts}`,
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "ServerAliveInterval=0",
        `${name}@127.0.0.1`,
      ],
      { cols: 120, rows: 40, env: { HOME: target.home, PATH: process.env.PATH }, timeoutMs: 60_000 },
    );
    s.connects++;
    try {
      await pty.waitForText(/ClawOS|Nodes/, 60_000);
    } catch (error) {
      s.lockouts++;
      count(s, error instanceof Error ? new Error(error.message.split("\n")[0]) : error);
      pty.dispose();
      await sleep(2_000);
      continue;
    }
    let lastLength = pty.output().length;
    let lastChange = Date.now();
    const watch = setInterval(() => {
      const length = pty.output().length;
      if (length !== lastLength) {
        lastLength = length;
        lastChange = Date.now();
      } else s.longestSilenceS = Math.max(s.longestSilenceS, Math.round((Date.now() - lastChange) / 1000));
    }, 1_000);
    while (!stop.aborted && !pty.exited) {
      await sleep(10_000 + Math.random() * 5_000);
      if (stop.aborted || pty.exited) break;
      s.keyProbes++;
      try {
        await probeKey(pty);
      } catch (error) {
        if (!pty.exited) s.keyProbesFailed.push(String(error).split("\n")[0]!);
      }
    }
    clearInterval(watch);
    s.hostileEscapes += (pty.output().match(/\u001b\]52;|\u001b\]0;pwned/g) ?? []).length;
    if (pty.exited && !stop.aborted) {
      s.drops.push(`ssh exited: ${pty.screenLines().filter(Boolean).at(-1)?.slice(0, 100) ?? ""}`);
      s.closedByServer++;
    } else {
      pty.write("q");
      await pty.waitForExit(15_000).catch(() => {});
    }
    pty.dispose();
  }
  return s;
}

// ── hostile clients ─────────────────────────────────────────────────────────

// Hostile clients come from other loopback addresses than the normal users (127.0.0.1), as an
// attacker is another host: a login flood from the user's own address can still hold every
// pre-auth slot for the grace time, as it can with sshd's MaxStartups.
const PRE_AUTH_FROM = "127.0.0.2";
const HOSTILE_USERS_FROM = "127.0.0.3";

/** A raw TCP connection that says nothing (or a banner and then nothing), held until the server closes it. */
export async function idlePreAuth(target: Target, stop: AbortSignal, banner: boolean): Promise<ClientStats> {
  const s = stats(banner ? "idle pre-auth (banner, then silence)" : "idle pre-auth (silent socket)");
  while (!stop.aborted) {
    s.connects++;
    const closed = await new Promise<boolean>((resolve) => {
      const socket = connect({ port: target.port, host: "127.0.0.1", localAddress: PRE_AUTH_FROM });
      socket.on("error", (error) => count(s, error));
      socket.once("connect", () => {
        if (banner) socket.write("SSH-2.0-OpenSSH_9.6\r\n");
      });
      socket.resume();
      const onStop = () => {
        socket.destroy();
        resolve(false);
      };
      stop.addEventListener("abort", onStop, { once: true });
      socket.once("close", () => {
        stop.removeEventListener("abort", onStop);
        resolve(!stop.aborted);
      });
    });
    if (closed) {
      s.closedByServer++;
      await sleep(1_000);
    }
  }
  return s;
}

function garbage(bytes: number): Buffer {
  const pieces = [
    Buffer.from("\u001b[", "latin1"),
    Buffer.from("\u001b]52;c;", "latin1"),
    Buffer.from("\u001bP", "latin1"),
    Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]),
    Buffer.from("整理今天的日志🦀", "utf8"),
    Buffer.from([0x00, 0x1b, 0x1b, 0x1b, 0x7f, 0x09]),
  ];
  const out: Buffer[] = [];
  let size = 0;
  while (size < bytes) {
    const piece =
      Math.random() < 0.5
        ? pieces[Math.floor(Math.random() * pieces.length)]!
        : // Random high and control bytes: no ASCII letters, so garbage never types a command.
          // (and no Ctrl-C or Ctrl-D: the session should stay, not quit itself).
          Buffer.from(
            Array.from({ length: 16 }, () => {
              const b =
                Math.random() < 0.5 ? 0x80 + Math.floor(Math.random() * 128) : Math.floor(Math.random() * 32);
              return b === 3 || b === 4 ? 0x1b : b;
            }),
          );
    out.push(piece);
    size += piece.length;
  }
  return Buffer.concat(out);
}

/** Garbage instead of the SSH protocol (before authentication), over and over. */
export async function garbagePreAuth(target: Target, stop: AbortSignal): Promise<ClientStats> {
  const s = stats("garbage before auth (raw socket)");
  while (!stop.aborted) {
    s.connects++;
    await new Promise<void>((resolve) => {
      const socket: Socket = connect({ port: target.port, host: "127.0.0.1", localAddress: PRE_AUTH_FROM });
      socket.on("error", (error) => count(s, error));
      socket.resume();
      let timer: NodeJS.Timeout | undefined;
      socket.once("connect", () => {
        const send = () => {
          if (socket.destroyed || stop.aborted) return void socket.destroy();
          socket.write(Math.random() < 0.3 ? "SSH-2.0-x\r\n" : garbage(4096));
          timer = setTimeout(send, 200);
        };
        send();
      });
      socket.once("close", () => {
        clearTimeout(timer);
        if (!stop.aborted) s.closedByServer++;
        resolve();
      });
    });
    await sleep(500);
  }
  return s;
}

type Ssh2Client = InstanceType<typeof Client>;

/** An authenticated ssh2 connection; rejects if the server will not let it in. */
function login(target: Target, user: string): Promise<Ssh2Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once("ready", () => resolve(c));
    // Every error, not only the first: a later one must not become an uncaught exception.
    c.on("error", reject);
    c.once("close", () => reject(new Error("closed before ready")));
    c.connect({
      host: "127.0.0.1",
      localAddress: HOSTILE_USERS_FROM,
      port: target.port,
      username: user,
      privateKey: target.privateKey,
      hostVerifier: () => true,
      readyTimeout: 60_000,
      keepaliveInterval: 0,
    });
  });
}

/** One shell on `c`; data is read and thrown away. Resolves when the shell or the connection ends. */
async function withShell(
  c: Ssh2Client,
  window: { rows: number; cols: number },
  act: (stream: ssh2.ClientChannel) => Promise<void>,
): Promise<void> {
  const stream = await new Promise<ssh2.ClientChannel>((resolve, reject) =>
    c.shell(
      { term: "xterm-256color", rows: window.rows, cols: window.cols, height: 0, width: 0 },
      (error, ch) => (error ? reject(error) : resolve(ch)),
    ),
  );
  stream.resume();
  stream.stderr.resume();
  const ended = new Promise<void>((resolve) => {
    stream.once("close", () => resolve());
    c.once("close", () => resolve());
  });
  await Promise.race([act(stream), ended]);
}

/**
 * Log in as `user`, open a shell of `window(round)` and run `act` on it, again and again
 * until stopped; `act` gets a function that says whether the server closed the connection.
 */
async function shellLoop(
  s: ClientStats,
  target: Target,
  user: string,
  stop: AbortSignal,
  window: (round: number) => { rows: number; cols: number },
  act: (stream: ssh2.ClientChannel, round: number, closed: () => boolean) => Promise<void>,
): Promise<ClientStats> {
  for (let round = 0; !stop.aborted; round++) {
    s.connects++;
    let c: Ssh2Client | undefined;
    try {
      c = await login(target, user);
      let closed = false;
      c.once("close", () => {
        closed = true;
      });
      await withShell(c, window(round), (stream) => act(stream, round, () => closed));
      if (closed && !stop.aborted) s.closedByServer++;
    } catch (error) {
      count(s, error);
    } finally {
      c?.end();
    }
    await sleep(1_000);
  }
  return s;
}

const HUGE = [
  { rows: 65_535, cols: 80, change: undefined },
  { rows: 24, cols: 65_535, change: undefined },
  { rows: 24, cols: 80, change: { rows: 1_000_000, cols: 1_000_000 } },
  { rows: 24, cols: 80, change: { rows: 65_535, cols: 65_535 } },
];

/** Huge terminals: a pty of 65535 rows or columns, or a window-change to a million. */
export function hugeSizes(target: Target, n: number, stop: AbortSignal): Promise<ClientStats> {
  const variant = (round: number) => HUGE[(n + round) % HUGE.length]!;
  return shellLoop(
    stats("huge pty / window sizes (ssh2)"),
    target,
    `huge${n}`,
    stop,
    variant,
    async (stream, round) => {
      await sleep(1_000);
      const change = variant(round).change;
      if (change) stream.setWindow(change.rows, change.cols, 0, 0);
      await sleep(4_000);
    },
  );
}

/** Logged in with a normal terminal, then typing garbage: broken escapes, invalid UTF-8, pastes. */
export function garbageShell(target: Target, n: number, stop: AbortSignal): Promise<ClientStats> {
  const normal = () => ({ rows: 30, cols: 100 });
  return shellLoop(
    stats("garbage input in a shell (ssh2)"),
    target,
    `garbage${n}`,
    stop,
    normal,
    async (stream, _round, closed) => {
      for (let i = 0; i < 100 && !stop.aborted && !closed(); i++) {
        stream.write(garbage(i % 10 === 0 ? 64 * 1024 : 256));
        await sleep(200);
      }
    },
  );
}
