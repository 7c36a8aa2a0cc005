import type { Command } from "commander";
import { count } from "../../core/domain/plural.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../signals.js";

/** `clawos doctor`: every check, one line each with its fix; fails when one fails. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("doctor")
    .description("check everything, one line per finding with its fix")
    .option("--fix", "repair what is safe to repair (token file modes)")
    .option("--json", "machine-readable output")
    .action(
      ctx.action(async (opts: { fix?: boolean; json?: boolean }) => {
        const { out } = ctx;
        const { runDoctor } = await import("../../core/ops/doctor.js");
        const checks = await runDoctor(ctx.home(), ctx.io.env, { fix: Boolean(opts.fix) });
        if (opts.json) out(JSON.stringify(checks, null, 2));
        else {
          for (const c of checks) {
            const mark = c.fixed ? "fixed" : c.level === "ok" ? "ok  " : c.level === "warn" ? "warn" : "FAIL";
            // Continuation lines start under the message, and under the fix.
            ctx.say(`${mark}  ${c.area.padEnd(10)} ${sanitizeLine(c.message)}`, { hang: 17 });
            if (c.fix && c.level !== "ok")
              ctx.say(`      ${"".padEnd(10)} fix: ${sanitizeLine(c.fix)}`, { hang: 22 });
          }
          const fails = checks.filter((c) => c.level === "fail").length;
          const warns = checks.filter((c) => c.level === "warn").length;
          ctx.say(fails || warns ? `${count(fails, "problem")}, ${count(warns, "warning")}.` : "All good.");
        }
        return checks.some((c) => c.level === "fail") ? EXIT.failed : EXIT.ok;
      }),
    );
}
