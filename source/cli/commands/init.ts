import type { Command } from "commander";
import { displayPath } from "../../core/infra/paths.js";
import { registerLocalProfiles } from "../../core/ops/discover.js";
import type { CliContext } from "../context.js";

/** `clawos init`: register this machine's OpenClaw profiles as nodes. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("init")
    .description("find local OpenClaw profiles (~/.openclaw, ~/.openclaw-*) and register them as nodes")
    .option("--json", "machine-readable output")
    .action(
      ctx.action(async (opts: { json?: boolean }) => {
        const report = await registerLocalProfiles(ctx.home(), ctx.io.env);
        if (report.written) {
          const core = await ctx.openCore(); // creates the blackboard directories
          await core.close();
        }
        if (opts.json) {
          ctx.out(JSON.stringify(report, null, 2));
          return;
        }
        for (const n of report.notes) ctx.out(n);
        const where = displayPath(report.configPath, ctx.io.env);
        if (report.written) ctx.out(`Config: ${where} (${report.totalNodes} node(s)). Next: clawos status`);
        else if (report.totalNodes > 0)
          ctx.out(`Nothing new: ${where} is unchanged (${report.totalNodes} node(s)). Next: clawos status`);
        else
          ctx.out(
            "Nothing written. Add a node by hand (clawos nodes add ID --port N), or make one (clawos incubate NAME).",
          );
      }),
    );
}
