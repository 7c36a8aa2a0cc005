import type { Command } from "commander";
import { count } from "../../core/domain/plural.js";
import { readAudit, whoOf } from "../../core/infra/audit-log.js";
import { auditLineText, NO_AUDIT_ENTRIES } from "../../present/audit-lines.js";
import { toSafe } from "../../present/safe-text.js";
import type { CliContext } from "../context.js";
import { parseSince } from "../options.js";

/** `clawos audit [--since 2h] [--json]`: who did what, from `<home>/audit.log`. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("audit")
    .description("who did what: every action through the CLI, the control center and serve")
    .option("--since <when>", "only entries since then: 30s, 10m, 2h, 7d or a date", (v) => parseSince(v))
    .option("--json", "machine-readable output (one JSON object per line)")
    .action(
      ctx.action(async (opts: { since?: Date; json?: boolean }) => {
        const { entries, skipped } = await readAudit(ctx.home(), opts.since ? { since: opts.since } : {});
        if (opts.json) {
          for (const entry of entries) ctx.out(JSON.stringify(toSafe(entry)));
        } else if (entries.length === 0) ctx.out(NO_AUDIT_ENTRIES);
        else
          for (const entry of entries) ctx.out(auditLineText(toSafe({ ...entry, who: whoOf(entry.actor) })));
        if (skipped)
          ctx.err(`clawos audit: ${count(skipped, "line")} of the log could not be read and were skipped.`);
      }),
    );
}
