import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { parsePositiveInt } from "../options.js";

/** `clawos serve --ssh`: the control center over SSH. The server loads only when it runs. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("serve")
    .description("serve the control center over SSH (public-key auth only)")
    .option("--ssh <host:port>", "where to listen", "127.0.0.1:2222")
    .option("--authorized-keys <file>", "public keys allowed in (default: ~/.ssh/authorized_keys)")
    .option(
      "--host-key <file>",
      "the server's host key, made on first run (default: <home>/serve/ssh_host_ed25519_key)",
    )
    .option("--readonly", "sessions can watch but not dispatch, retry or cancel")
    .option("--max-sessions <n>", "control centers open at once", parsePositiveInt, 20)
    .option("--login-grace-time <seconds>", "time a connection has to log in", parsePositiveInt, 20)
    .action(
      ctx.action(
        async (opts: {
          ssh: string;
          authorizedKeys?: string;
          hostKey?: string;
          readonly?: boolean;
          maxSessions: number;
          loginGraceTime: number;
        }) => {
          const { serveSsh } = await import("../../serve/serve-command.js");
          return serveSsh({
            home: ctx.home(),
            env: ctx.io.env,
            listen: opts.ssh,
            ...(opts.authorizedKeys ? { authorizedKeys: opts.authorizedKeys } : {}),
            ...(opts.hostKey ? { hostKey: opts.hostKey } : {}),
            readonly: Boolean(opts.readonly),
            maxSessions: opts.maxSessions,
            loginGraceSeconds: opts.loginGraceTime,
            out: ctx.out,
            err: ctx.err,
          });
        },
      ),
    );
}
