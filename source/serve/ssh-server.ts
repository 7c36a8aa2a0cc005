import { mkdir } from "node:fs/promises";
import { createServer, type Server as NetServer } from "node:net";
import { dirname } from "node:path";
import ssh2, { type Connection } from "ssh2";
import { UserError } from "../core/domain/errors.js";
import type { FederationApi } from "../core/domain/federation-types.js";
import { sanitizeLine } from "../core/infra/sanitize.js";
import { loadAuthorizedKeys } from "./authorized-keys.js";
import { loadOrCreateHostKey } from "./host-key.js";
import { LoginGate } from "./login-gate.js";
import { serveLog } from "./serve-log.js";
import type { RunningServer, ServeOptions } from "./serve-options.js";
import { handleConnection } from "./ssh-connection.js";

// ssh2 is CommonJS: its Server is not visible as a named ESM export.
const { Server } = ssh2;

/** Listen on host:port; a port in use is the user's to change, any other error is thrown as is. */
async function listen(listener: NetServer, options: ServeOptions): Promise<void> {
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
}

/** `clawos serve --ssh`: the control center for every SSH session, each with its own UI state and size. */
export async function startSshServer(api: FederationApi, options: ServeOptions): Promise<RunningServer> {
  const { key: hostKey, created } = await loadOrCreateHostKey(options.hostKeyFile);
  const { keys: authorized, refused } = await loadAuthorizedKeys(options.authorizedKeysFile);
  let nextId = 1;
  const shells = { open: 0 };
  const active = new Map<number, Connection>();
  // Every session mounts a UI that listens on shared emitters; many sessions are expected.
  process.setMaxListeners(Math.max(process.getMaxListeners(), options.maxSessions * 4 + 20));
  const log = serveLog(options.logFile);
  await mkdir(dirname(options.logFile), { recursive: true });
  if (created) log(`generated host key ${options.hostKeyFile}`);
  for (const r of refused) log(`${options.authorizedKeysFile} line ${r.line}: key not loaded (${r.reason})`);
  const gate = new LoginGate({
    limit: options.maxUnauthenticated ?? 10,
    graceMs: (options.loginGraceSeconds ?? 20) * 1000,
  });

  const host = { api, options, log, shells, authorized, gate, active };
  const server = new Server({ hostKeys: [hostKey] }, (client, info) =>
    handleConnection(client, info, nextId++, host),
  );

  // Connections reach ssh2 only through the gate, which caps and times out those not logged in.
  const listener = createServer((socket) => {
    if (gate.admit(socket)) server.injectSocket(socket);
  });
  await listen(listener, options);
  listener.on("error", (error) => log(`listener error: ${sanitizeLine(error.message)}`));
  const address = listener.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  log(`listening on ${options.host}:${port}${options.readonly ? " (read-only)" : ""}`);
  return {
    port,
    sessions: () => shells.open,
    close: () =>
      new Promise<void>((resolve) => {
        gate.closeAll();
        for (const c of active.values()) c.end();
        listener.close(() => resolve());
      }),
  };
}
