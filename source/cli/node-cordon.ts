import type { Command } from "commander";
import type { CordonAction } from "../core/domain/federation-types.js";
import { cordonedBy, setCordon } from "../core/federation/drain.js";
import { sanitizeLine } from "../core/infra/sanitize.js";
import type { CliContext } from "./context.js";

const ACTIONS: [CordonAction, string][] = [
  ["cordon", "the node takes no new tasks (any skips it; by name is refused)"],
  ["uncordon", "the node takes tasks again"],
  ["drain", "cordon, and hand its waiting `any` tasks to other nodes; it shows drained when empty"],
];

/** `clawos nodes cordon|uncordon|drain NODE`: the node's shared record, written by its owner. */
export function registerCordon(nodes: Command, ctx: CliContext): void {
  for (const [action, description] of ACTIONS) {
    nodes
      .command(action)
      .description(description)
      .argument("<id>")
      .action(
        ctx.action((id: string) =>
          ctx.audited(action, id, () =>
            ctx.withCore(async (core) => {
              const by = cordonedBy(ctx.io.env, core.machine);
              for (const line of await setCordon(core, id, action, by)) ctx.say(sanitizeLine(line));
            }),
          ),
        ),
      );
  }
}
