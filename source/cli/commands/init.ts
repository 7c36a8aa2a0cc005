import type { Command } from "commander";
import { displayPath } from "../../core/infra/paths.js";
import { registerLocalProfiles } from "../../core/ops/discover.js";
import type { CliContext } from "../context.js";
import { ensureMachineWorker } from "../machine-worker.js";

/** `clawos init`: register this machine's OpenClaw profiles as nodes. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("init")
    .description("find local OpenClaw profiles (~/.openclaw, ~/.openclaw-*) and register them as nodes")
    .option("--json", "machine-readable output")
    .action(
      ctx.action(async (opts: { json?: boolean }) => {
        const report = await registerLocalProfiles(ctx.home(), ctx.io.env);
        // Opening the core creates the blackboard directories; the worker then serves the nodes.
        const core = await ctx.openCore();
        try {
          await ensureMachineWorker(ctx, core);
        } finally {
          await core.close();
        }
        if (opts.json) {
          ctx.out(JSON.stringify(report, null, 2));
          return;
        }
        for (const n of report.notes) ctx.out(n);
        ctx.out(
          `Config: ${displayPath(report.configPath, ctx.io.env)} (${report.totalNodes} node(s)). Next: clawos status`,
        );
      }),
    );
}
