import type { Command } from "commander";
import type { CliContext } from "../context.js";

/** `clawos tui`, the default command. The launcher loads only when it runs (its own bundle chunk). */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("tui", { isDefault: true })
    .description("open the full-screen control center (the default command)")
    .option("--readonly", "watch only: no dispatch, retry or cancel")
    .action(
      ctx.action(async (opts: { readonly?: boolean }) => {
        const { startTui } = await import("../start-tui.js");
        return startTui({
          home: ctx.home(),
          env: ctx.io.env,
          readonly: Boolean(opts.readonly),
          err: ctx.err,
        });
      }),
    );
}
