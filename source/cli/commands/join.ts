import type { Command } from "commander";
import { count } from "../../core/domain/plural.js";
import type { FederationCore } from "../../core/federation/federation.js";
import { displayPath } from "../../core/infra/paths.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import { registerLocalProfiles } from "../../core/ops/discover.js";
import {
  checkSshTarget,
  describeBlackboard,
  type JoinOptions,
  setMachineSshTarget,
  writeJoinConfig,
} from "../../core/ops/join.js";
import type { EnsureWorkerResult } from "../../core/ops/worker-autostart.js";
import { toSafe } from "../../present/safe-text.js";
import type { CliContext } from "../context.js";
import { ensureMachineWorker } from "../machine-worker.js";
import { EXIT, type ExitCode } from "../signals.js";
import { renderNodesTable, tableWidth } from "../status-report.js";

/** The join options, plus whether to start the worker (--no-worker) and this machine's SSH target. */
type JoinFlags = JoinOptions & { worker: boolean; ssh?: string };

/** `clawos join`: a second machine into an existing federation, in one command. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("join")
    .description("join this machine to an existing federation: register its profiles, start its worker")
    .requiredOption("--as <machine>", "this machine's name in the federation (e.g. macbook-air)")
    .option(
      "--nats <url>",
      "the NATS server on this machine (a leaf node of the hub), e.g. nats://127.0.0.1:4222",
    )
    .option("--domain <name>", "the hub's JetStream domain (with --nats)")
    .option("--blackboard <dir>", "the synced blackboard folder (e.g. ~/Sync/clawos-blackboard/federation)")
    .option("--coordinator <machine>", "with --blackboard: the machine whose worker reaps leases (the hub)")
    .option(
      "--ssh <user@host[:port]>",
      "how the other machines reach this one over SSH, for urgent (P0) tasks (e.g. its Tailscale name)",
    )
    .option("--force", "replace a federation.json that names another machine or blackboard")
    .option("--no-worker", "do not start this machine's worker")
    .action(ctx.action((flags: JoinFlags) => ctx.audited("join", "this machine", () => join(ctx, flags))));
}

async function join(ctx: CliContext, flags: JoinFlags): Promise<ExitCode> {
  const env = ctx.io.env;
  if (flags.ssh) checkSshTarget(flags.ssh);
  const joined = await writeJoinConfig(ctx.home(), env, flags);
  const report = await registerLocalProfiles(ctx.home(), env, { pinDefaults: true });
  ctx.say(`Joined as ${sanitizeLine(report.machine)}: ${displayPath(joined.configPath, env)} written.`);
  for (const n of [...joined.notes, ...(report.upgrade ? [report.upgrade] : []), ...report.notes])
    ctx.say(sanitizeLine(n));
  let code: ExitCode = report.clashes.length ? EXIT.failed : EXIT.ok;
  await ctx.withCore(async (core) => {
    if (flags.ssh) {
      const changed = await setMachineSshTarget(core, flags.ssh);
      ctx.say(
        changed.length
          ? `SSH: urgent tasks reach ${changed.join(", ")} at ${sanitizeLine(flags.ssh)}.`
          : `SSH: this machine's nodes already name ${sanitizeLine(flags.ssh)}.`,
      );
      const node = changed[0] ?? "NODE";
      ctx.say(
        `  On each machine that sends them, its gateway token (copied, mode 600): clawos nodes access ${node} --token-file FILE`,
      );
    }
    if (flags.worker) {
      const started = await ensureMachineWorker(ctx, core, { quiet: true });
      ctx.say(`Worker: ${workerOutcome(started)}`);
      if (started.action === "failed") code = EXIT.failed;
    } else ctx.say("Worker: not started (--no-worker); start it with clawos node run");
    ctx.out(await federationSeen(ctx, core));
  });
  if (report.clashes.length)
    ctx.err(
      `clawos: ${count(report.clashes.length, "profile")} not registered: their ids are taken (the fix is above)`,
    );
  return code;
}

/** What this machine sees of the federation: its machines, and every node with its state. */
export async function federationSeen(ctx: CliContext, core: FederationCore): Promise<string> {
  const { views } = await core.nodeViews({ probe: true });
  const machines = [
    ...new Set([
      core.machine,
      ...core.nodes.map((n) => n.machine),
      ...core.conflicts.flatMap((c) => c.claimants),
    ]),
  ].sort();
  return [
    `The federation from ${sanitizeLine(core.machine)} (blackboard ${sanitizeLine(describeBlackboard(core.config.blackboard))}):`,
    `Machines: ${machines.map((m) => sanitizeLine(m)).join(", ")}`,
    views.length
      ? renderNodesTable(toSafe(views), Date.now(), tableWidth(ctx.terminalColumns().columns, false))
      : "No nodes yet.",
  ].join("\n");
}

/** What join did about this machine's worker, in one line after "Worker: ". */
function workerOutcome(result: EnsureWorkerResult): string {
  const w = result.worker;
  const how =
    w.kind === "service" ? "as a service" : w.kind === "background" ? "in the background" : "by hand";
  switch (result.action) {
    case "found":
      return `already running ${how}${w.pid ? ` (pid ${w.pid})` : ""}`;
    case "started":
      return sanitizeLine(result.message ?? `started ${how}`);
    case "disabled":
      return 'not started: the automatic start is off ("worker": {"autoStart": false}); start it with clawos node run';
    case "idle":
      return "not started: no node of this machine has a gateway to serve yet";
    default:
      return sanitizeLine(result.message ?? "could not be started; start it with clawos node run");
  }
}
