import type { Socket } from "node:net";
import type { ClientInfo, Connection } from "ssh2";
import type { AuthorizedKey } from "./authorized-keys.js";
import type { LoginGate } from "./login-gate.js";
import { authenticate, type Caller } from "./ssh-auth.js";
import { acceptSessions, type SessionHost } from "./ssh-session.js";

/** What every connection of the server shares. */
export interface ConnectionHost extends SessionHost {
  authorized: AuthorizedKey[];
  gate: LoginGate;
  /** Logged-in connections by session number, ended when the server closes. */
  active: Map<number, Connection>;
}

/** One SSH connection from accept to close: log in, then its sessions; logged as session `id`. */
export function handleConnection(
  client: Connection,
  info: ClientInfo,
  id: number,
  host: ConnectionHost,
): void {
  const { log, gate, active } = host;
  const caller: Caller = {
    id,
    ip: info.ip,
    from: `${info.ip}:${info.port}`,
    who: "?",
    keyFp: "",
    granted: undefined,
    failures: 0,
  };
  const opened = Date.now();
  const sock = (client as unknown as { _sock?: Socket })._sock;
  sock?.setNoDelay?.(true); // without it every keypress round trip stalls

  client.on("authentication", (ctx) => authenticate(ctx, caller, client, host.authorized, log));

  client.on("ready", () => {
    if (sock) gate.loggedIn(sock);
    // Room for every control center plus the logins in flight; a key holder cannot pile up more.
    const room = host.options.maxSessions + (host.options.maxUnauthenticated ?? 10);
    if (active.size >= room) {
      log(
        `session ${id}: ${caller.who} from ${caller.from} turned away (already ${active.size} connections)`,
      );
      client.end();
      return;
    }
    active.set(id, client);
    log(`session ${id}: ${caller.who} from ${caller.from} logged in (key ${caller.keyFp})`);
    acceptSessions(client, caller, host);
  });
  client.on("error", () => {});
  client.on("close", () => {
    if (active.delete(id))
      log(`session ${id}: ${caller.who} disconnected after ${Math.round((Date.now() - opened) / 1000)} s`);
  });
}
