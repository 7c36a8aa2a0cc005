import type { Connection, ServerChannel } from "ssh2";
import type { FederationApi } from "../core/domain/federation-types.js";
import { DEFAULT_SERVE_ROLE, type Role } from "../core/domain/roles.js";
import { guardedApi } from "../core/federation/guarded-api.js";
import { sanitizeLine } from "../core/infra/sanitize.js";
import type { ServeLog } from "./serve-log.js";
import type { ServeOptions } from "./serve-options.js";
import { asSessionInput, SessionOutput } from "./session-streams.js";
import type { Caller } from "./ssh-auth.js";
import { clampTerminalSize } from "./terminal-size.js";

/** Session channels open at once on one connection (as sshd's MaxSessions). */
const MAX_CHANNELS_PER_CONNECTION = 10;
/** A logged-in connection with no control center is closed after this: it would only hold a socket. */
export const NO_SHELL_CLOSE_MS = 60_000;

/** What every session of the server shares. */
export interface SessionHost {
  api: FederationApi;
  options: ServeOptions;
  log: ServeLog;
  /** Control centers open now, over all connections (capped by options.maxSessions). */
  shells: { open: number };
}

/**
 * Close a channel with an exit status, then the connection unless it still carries a control
 * center: exit status, EOF and close must reach the client before the connection ends, or its
 * ssh reports a disconnect (exit 255) instead of a clean exit.
 */
function hangUp(channel: ServerChannel, client: Connection, status: number, keepConnection = false): void {
  const end = () => {
    if (!keepConnection) client.end();
  };
  const timer = setTimeout(end, 2_000);
  timer.unref();
  channel.once("close", () => {
    clearTimeout(timer);
    end();
  });
  try {
    channel.exit(status);
    channel.end();
  } catch {
    channel.destroy();
    end();
  }
}

/** Say one line on a shell that will not get a control center, then close it (exit 1). */
function refuseShell(
  channel: ServerChannel,
  client: Connection,
  line: string,
  keepConnection: boolean,
): void {
  try {
    channel.write(`${line}\r\n`);
  } catch {
    // the channel is gone already; hangUp closes what is left
  }
  hangUp(channel, client, 1, keepConnection);
}

/** A session's role: read-only serving makes everyone a viewer; else the key's line, federation.json, the default. */
export function sessionRole(caller: Caller, options: Pick<ServeOptions, "readonly" | "roles">): Role {
  if (options.readonly) return "viewer";
  return caller.granted?.role ?? options.roles[caller.keyFp] ?? DEFAULT_SERVE_ROLE;
}

/**
 * A shell request: a control center on the channel if the key may have a terminal and the server
 * has room, else one line saying why. Returns the output stream, for window changes.
 */
function openShell(
  channel: ServerChannel,
  client: Connection,
  caller: Caller,
  host: SessionHost,
  terminal: { mayHavePty: boolean; size: { cols: number; rows: number }; term: string; othersLive: boolean },
): SessionOutput | undefined {
  const { id, who, from } = caller;
  const { options, log, shells } = host;
  const { size, term } = terminal;
  if (!terminal.mayHavePty) {
    log(
      `session ${id}: ${who} has no terminal (restrict or no-pty on line ${caller.granted?.line}); no control center`,
    );
    refuseShell(
      channel,
      client,
      "clawos: this key may not open a terminal (restrict or no-pty in authorized_keys), so there is no control center for it.",
      terminal.othersLive,
    );
    return undefined;
  }
  if (shells.open >= options.maxSessions) {
    log(`session ${id}: ${who} from ${from} turned away (already ${shells.open} sessions)`);
    refuseShell(
      channel,
      client,
      `clawos: the server already has ${options.maxSessions} sessions; try again later.`,
      terminal.othersLive,
    );
    return undefined;
  }
  shells.open++;
  const role = sessionRole(caller, options);
  log(
    `session ${id}: control center opened (${term || "no terminal type"}, ${size.cols}×${size.rows}) as ${role}`,
  );
  // The role is enforced here, under the UI: a refused action is refused whatever the screen offers.
  const api = guardedApi(host.api, {
    role,
    actor: { kind: "ssh", user: who, key: caller.keyFp, from: caller.ip, role },
    home: options.home,
    onAuditProblem: (line) => log(`session ${id}: ${line}`),
  });
  const output = new SessionOutput(channel, size);
  const stdout = output as unknown as NodeJS.WriteStream;
  options
    .runSession(api, {
      stdin: asSessionInput(channel),
      stdout,
      readonly: options.readonly,
      ...(options.keys ? { keys: options.keys } : {}),
    })
    .catch((error: unknown) =>
      log(`session ${id}: UI error: ${sanitizeLine(error instanceof Error ? error.message : String(error))}`),
    )
    .finally(() => {
      shells.open--;
      hangUp(channel, client, 0);
    });
  return output;
}

/**
 * The session channels of a logged-in connection: pty and window sizes (clamped), no exec, and one
 * shell each, which is the control center.
 */
export function acceptSessions(client: Connection, caller: Caller, host: SessionHost): void {
  const mayHavePty = caller.granted?.pty ?? false;
  let channels = 0;
  let live = 0;
  // Logged in but no control center for a while: a held socket and nothing else.
  const noShell = setTimeout(() => {
    if (live > 0) return;
    host.log(`session ${caller.id}: no control center after ${NO_SHELL_CLOSE_MS / 1000} s; closed`);
    client.end();
  }, NO_SHELL_CLOSE_MS);
  noShell.unref();
  client.once("close", () => clearTimeout(noShell));
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
      output = openShell(acceptShell(), client, caller, host, {
        mayHavePty,
        size,
        term,
        othersLive: live > 0,
      });
      if (output) {
        live++;
        clearTimeout(noShell);
        session.once("close", () => live--);
      }
    });
  });
}
