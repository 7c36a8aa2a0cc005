import type { Command } from "commander";
import { UserError } from "../../core/domain/errors.js";
import { defaultLogNode, streamNodeLog } from "../../core/federation/node-logs.js";
import { parseSince } from "../../core/infra/log-entries.js";
import { logLine } from "../../present/log-lines.js";
import type { CliContext } from "../context.js";
import { EXIT, stopOnSignals } from "../signals.js";

/** `clawos logs [NODE]`: a node's worker and gateway lines merged by time, or its heartbeat's tail. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("logs")
    .description("a node's worker and gateway log, merged by time (a node elsewhere: from its heartbeat)")
    .argument("[node]", "the node (default: the only one of this machine)")
    .option("-f, --follow", "keep printing new lines until Ctrl+C")
    .option("--since <age>", "only lines from this long ago on: 30s, 10m, 2h, 1d")
    .option("--grep <text>", "only lines that contain this text (any case)")
    .option("-n, --lines <n>", "only the last N lines of what is there (then, with -f, every new one)")
    .action(
      ctx.action(
        async (
          nodeArg: string | undefined,
          opts: { follow?: boolean; since?: string; grep?: string; lines?: string },
        ) => {
          const sinceMs = opts.since === undefined ? undefined : parseSince(opts.since);
          if (opts.since !== undefined && sinceMs === undefined)
            throw new UserError(`--since ${opts.since} is not an age.`, {
              code: "usage",
              hint: "give a number and a unit: 30s, 10m, 2h or 1d",
            });
          const tail = opts.lines === undefined ? undefined : lineCount(opts.lines);
          const stop = stopOnSignals(["SIGINT", "SIGTERM"]);
          try {
            await ctx.withCore(async (core) => {
              const node = nodeArg ?? defaultLogNode(core);
              await streamNodeLog(
                core,
                node,
                {
                  ...(sinceMs !== undefined ? { sinceMs: Date.now() - sinceMs } : {}),
                  ...(opts.grep ? { grep: opts.grep } : {}),
                  ...(tail !== undefined ? { tail } : {}),
                  ...(opts.follow ? { follow: true } : {}),
                  signal: stop.signal,
                },
                (view) => {
                  if (view.initial)
                    ctx.err(`${view.node}: ${view.origin}${view.entries.length ? "" : " (no lines)"}`);
                  if (view.entries.length) ctx.out(view.entries.map(logLine).join("\n"));
                },
              );
            });
          } finally {
            stop.dispose();
          }
          // Ctrl+C is how -f ends: a normal end.
          return EXIT.ok;
        },
      ),
    );
}

/** `--lines N`: a whole number of at least 1. */
function lineCount(text: string): number {
  const n = /^\d{1,7}$/.test(text.trim()) ? Number(text.trim()) : 0;
  if (n >= 1) return n;
  throw new UserError(`--lines ${text.slice(0, 40)} is not a number of lines.`, {
    code: "usage",
    hint: "give a whole number of at least 1: --lines 50",
  });
}
