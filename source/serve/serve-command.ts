import { join } from "node:path";
import { UserError } from "../core/domain/errors.js";
import { LiveFederation } from "../core/federation/live-federation.js";
import { loadConfig } from "../core/infra/config.js";
import { expandTilde, userHome } from "../core/infra/paths.js";
import { handedBackLines } from "../present/handed-back.js";
import { startSshServer } from "./ssh-server.js";

function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535)
    throw new UserError(`"${listen}" is not HOST:PORT.`, { hint: "e.g. --ssh 127.0.0.1:2222" });
  return { host: m[1] ?? m[2] ?? "127.0.0.1", port };
}

/** `clawos serve --ssh`: one live federation, one UI per SSH session, until SIGINT/SIGTERM. */
export async function serveSsh(options: {
  home: string;
  env: NodeJS.ProcessEnv;
  listen: string;
  authorizedKeys?: string;
  hostKey?: string;
  readonly: boolean;
  maxSessions: number;
  loginGraceSeconds?: number;
  out: (line: string) => void;
  err: (line: string) => void;
}): Promise<number> {
  const { host, port } = parseListen(options.listen);
  const { config } = await loadConfig(options.home);
  const live = await LiveFederation.open(options.home, options.env);
  const { runTui } = await (await import("../ui/load-tui.js")).loadTui();
  try {
    const server = await startSshServer(live, {
      host,
      port,
      hostKeyFile: expandTilde(
        options.hostKey ?? join(options.home, "serve", "ssh_host_ed25519_key"),
        options.env,
      ),
      authorizedKeysFile: expandTilde(
        options.authorizedKeys ?? join(userHome(options.env), ".ssh", "authorized_keys"),
        options.env,
      ),
      logFile: join(options.home, "serve", "serve.log"),
      readonly: options.readonly,
      home: options.home,
      roles: config.serveRoles,
      maxSessions: options.maxSessions,
      ...(options.loginGraceSeconds ? { loginGraceSeconds: options.loginGraceSeconds } : {}),
      keys: config.keys,
      runSession: (api, io) => runTui(api, { ...io, handleSignals: false }),
    });
    const loopback = host === "127.0.0.1" || host === "::1" || host === "localhost";
    options.out(
      `clawos serve: listening on ${host}:${server.port}${options.readonly ? " (read-only)" : ""}; log in ${join(options.home, "serve", "serve.log")}`,
    );
    if (!loopback)
      options.err(
        `clawos serve: warning: ${host} is not loopback; anyone who can reach it may try to log in.`,
      );
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await server.close();
    return 0;
  } finally {
    for (const line of handedBackLines(await live.close())) options.err(line);
  }
}
