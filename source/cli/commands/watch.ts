import type { Command } from "commander";
import { count } from "../../core/domain/plural.js";
import { LiveFederation } from "../../core/federation/live-federation.js";
import { eventJson, eventLine } from "../../present/log-lines.js";
import type { CliContext } from "../context.js";
import { EXIT, stopOnSignals } from "../signals.js";

/** `clawos watch`: the fleet's events, one line each, as they happen. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("watch")
    .description("print node down/up and failed-task events as they happen, until Ctrl+C")
    .option("--json", "one JSON object per line: time, kind, node, task, from, to, message")
    .action(
      ctx.action(async (opts: { json?: boolean }) => {
        const stop = stopOnSignals(["SIGINT", "SIGTERM", "SIGHUP"]);
        const live = await LiveFederation.open(ctx.home(), ctx.io.env);
        const unsubscribe = live.events.subscribe((event) =>
          ctx.out(opts.json ? eventJson(event) : eventLine(event)),
        );
        if (!opts.json) {
          const nodes = live.getSnapshot().nodes;
          ctx.err(`watching ${count(nodes.length, "node")} on ${live.getSnapshot().machine}; Ctrl+C stops`);
        }
        await new Promise<void>((resolve) => {
          if (stop.signal.aborted) resolve();
          else stop.signal.addEventListener("abort", () => resolve(), { once: true });
        });
        unsubscribe();
        stop.dispose();
        await live.close();
        return EXIT.ok;
      }),
    );
}
