import type { Command } from "commander";
import { UserError } from "../../core/domain/errors.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import type { CliContext } from "../context.js";
import { parsePort, parsePositiveInt } from "../options.js";

/** `clawos migrate`: move a local node to another machine over SSH, or undo that. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("migrate")
    .description("move a local node to another machine over SSH (or --rollback)")
    .argument("<node>")
    .option("--to <user@host[:port]>", "the SSH target of the new machine")
    .option(
      "--identity <file>",
      "SSH private key (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa, or the agent)",
    )
    .option("--known-hosts <file>", "known_hosts to verify the host key with (default: ~/.ssh/known_hosts)")
    .option(
      "--remote-port <port>",
      "gateway port there (default: its ssh.remotePort, else the same as here)",
      parsePort,
    )
    .option("--machine <name>", "the new machine's name in the registry (default: the SSH host)")
    .option("--dry-run", "show the plan only")
    .option("--rollback", "undo an earlier migration of this node")
    .option(
      "--ready-timeout <seconds>",
      "how long to wait for the remote gateway (and, on --rollback, the local one)",
      parsePositiveInt,
      180,
    )
    .action(
      ctx.action((nodeId: string, opts: Record<string, unknown>) =>
        ctx.audited(
          "migrate",
          `${nodeId} → ${opts.rollback ? "rollback" : String(opts.to ?? "?")}`,
          async () => {
            const { migrate, rollbackMigration } = await import("../../core/ops/node-migration.js");
            const say = (line: string) => ctx.say(sanitizeLine(line));
            if (opts.rollback) {
              await rollbackMigration(ctx.home(), ctx.io.env, nodeId, say, {
                readyTimeoutMs: (opts.readyTimeout as number) * 1000,
              });
              return;
            }
            if (!opts.to) throw new UserError("Say where to: --to user@host[:port].", { code: "usage" });
            await migrate(
              ctx.home(),
              ctx.io.env,
              {
                node: nodeId,
                to: String(opts.to),
                ...(opts.identity ? { identityFile: String(opts.identity) } : {}),
                ...(opts.knownHosts ? { knownHosts: String(opts.knownHosts) } : {}),
                ...(opts.remotePort !== undefined ? { remotePort: opts.remotePort as number } : {}),
                ...(opts.machine ? { machine: String(opts.machine) } : {}),
                dryRun: Boolean(opts.dryRun),
                readyTimeoutMs: (opts.readyTimeout as number) * 1000,
              },
              say,
            );
          },
        ),
      ),
    );
}
