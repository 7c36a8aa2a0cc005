import type { Command } from "commander";
import { count } from "../../core/domain/plural.js";
import type { BlackboardConfig } from "../../core/domain/schema.js";
import { displayPath } from "../../core/infra/paths.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import { registerLocalProfiles } from "../../core/ops/discover.js";
import { forInvocation } from "../../present/invocation.js";
import type { CliContext } from "../context.js";
import { ensureMachineWorker } from "../machine-worker.js";
import { collect } from "../options.js";
import { EXIT, type ExitCode } from "../signals.js";

/** `clawos init`: register this machine's OpenClaw profiles as nodes of the shared registry. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("init")
    .description("find local OpenClaw profiles (~/.openclaw, ~/.openclaw-*) and register them as nodes")
    .option("--readd <node>", "register a node this machine removed again (repeatable)", collect)
    .option("--json", "machine-readable output")
    .action(
      ctx.action(async (opts: { json?: boolean; readd?: string[] }): Promise<ExitCode> => {
        const report = await registerLocalProfiles(ctx.home(), ctx.io.env, {
          readd: opts.readd ?? [],
          pinDefaults: true,
        });
        if (!report.written && report.totalNodes === 0) {
          if (opts.json) ctx.out(JSON.stringify(report, null, 2));
          else {
            for (const n of report.notes) ctx.say(sanitizeLine(n));
            ctx.say(
              "Nothing written. Add a node by hand (clawos nodes add ID --port N), or make one (clawos incubate NAME).",
            );
          }
          return EXIT.ok;
        }
        // Opening the core creates the blackboard directories; the worker then serves the nodes.
        const core = await ctx.openCore(); // the blackboard as join will see it
        const joinCommand = joinCommandFor(core.config.blackboard, core.blackboard.location, core.machine);
        try {
          await ensureMachineWorker(ctx, core);
        } finally {
          await core.close();
        }
        const code = report.clashes.length ? EXIT.failed : EXIT.ok;
        if (opts.json) {
          ctx.out(JSON.stringify({ ...report, joinCommand }, null, 2));
          return code;
        }
        if (report.upgrade) ctx.err(sanitizeLine(report.upgrade));
        for (const n of report.notes) ctx.say(sanitizeLine(n));
        const where = displayPath(report.configPath, ctx.io.env);
        const nodes = `${count(report.totalNodes, "node")} in the shared registry`;
        if (report.written) ctx.say(`Config: ${where} (${nodes}). Next: clawos status`);
        else ctx.say(`Nothing new: ${where} is unchanged (${nodes}). Next: clawos status`);
        // A command to copy, on a line of its own: never broken over lines, nothing else on it.
        ctx.say("Next machine: run this there, as one line:");
        ctx.out(forInvocation(`  ${joinCommand}`));
        ctx.say(
          core.config.blackboard.driver === "nats"
            ? "  (NAME: that machine's name; the URL: the NATS server there, a leaf node of this one's)"
            : "  (NAME: that machine's name; the folder: this one, as the sync tool places it there)",
        );
        ctx.say("  add --ssh USER@HOST:22 (how this machine reaches it) for urgent tasks over SSH");
        return code;
      }),
    );
}

/** The exact `clawos join` the next machine runs (its own name in place of NAME). */
export function joinCommandFor(bb: BlackboardConfig, location: string, machine: string): string {
  const quote = (s: string) => (/^[\w@%+=:,./~-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  if (bb.driver === "nats")
    return `clawos join --as NAME --nats ${quote(bb.servers[0]!)}${bb.domain ? ` --domain ${quote(bb.domain)}` : ""}`;
  return `clawos join --as NAME --blackboard ${quote(location)} --coordinator ${quote(bb.coordinator ?? machine)}`;
}
