import type { FederationCore } from "../core/federation/federation.js";
import { type EnsureWorkerResult, ensureWorker } from "../core/ops/worker-autostart.js";
import type { CliContext } from "./context.js";

/**
 * Before a command queues work: makes sure this machine's worker runs (starting it if
 * needed and allowed), and says so once when it started one or could not.
 */
export async function ensureMachineWorker(
  ctx: CliContext,
  core: FederationCore,
  options: { quiet?: boolean } = {},
): Promise<EnsureWorkerResult> {
  const result = await ensureWorker(ctx.home(), ctx.io.env, { core });
  if (result.message && !options.quiet) ctx.err(result.message);
  return result;
}
