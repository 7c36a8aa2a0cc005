import type { Command } from "commander";
import type { Snapshot } from "../../core/domain/federation-types.js";
import { eventJson } from "../../core/domain/fleet-events.js";
import { count } from "../../core/domain/plural.js";
import { LiveFederation } from "../../core/federation/live-federation.js";
import { eventLine, fleetTitle } from "../../present/log-lines.js";
import type { CliContext } from "../context.js";
import { EXIT, stopOnSignals } from "../signals.js";

/** `clawos watch`: the fleet's events, one line each, as they happen. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("watch")
    .description("print node down/up, failed-task and budget-reached events as they happen, until Ctrl+C")
    .option("--json", "one JSON object per line: time, kind, node, task, from, to, message")
    .action(
      ctx.action(async (opts: { json?: boolean }) => {
        const stop = stopOnSignals(["SIGINT", "SIGTERM", "SIGHUP"]);
        const live = await LiveFederation.open(ctx.home(), ctx.io.env);
        const unsubscribe = live.events.subscribe((event) =>
          ctx.out(opts.json ? eventJson(event) : eventLine(event)),
        );
        const first = await firstProbed(live, stop.signal);
        // On stderr: a script reading stdout gets events only.
        ctx.err(
          `watching ${count(first.nodes.length, "node")} on ${first.machine} (${fleetTitle(first.nodes)}); Ctrl+C stops`,
        );
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

/** How long the first probes of this machine's nodes may take before watching starts anyway. */
const FIRST_PROBE_MS = 5_000;

/**
 * The first snapshot in which this machine's nodes have been probed: before it they are
 * "unknown", and a node found down at the first probe was never seen up, so says nothing.
 */
function firstProbed(live: LiveFederation, stop: AbortSignal): Promise<Snapshot> {
  const probed = (s: Snapshot) => s.nodes.every((n) => n.status !== "unknown" || n.transport !== "localhost");
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      stop.removeEventListener("abort", done);
      resolve(live.getSnapshot());
    };
    const timer = setTimeout(done, FIRST_PROBE_MS);
    const unsubscribe = live.subscribe((s) => {
      if (probed(s)) done();
    });
    stop.addEventListener("abort", done, { once: true });
    if (probed(live.getSnapshot())) done();
  });
}
