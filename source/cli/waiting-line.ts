import type { TaskView } from "../core/domain/federation-types.js";
import type { FederationCore } from "../core/federation/federation.js";
import { waitingHint, withMachineWorker } from "../core/federation/waiting.js";
import { findWorker } from "../core/ops/worker-autostart.js";
import { type SafeText, safeLine } from "../present/safe-text.js";

/**
 * Why a pending task is not moving: its node's worker (this machine's as `findWorker` sees it,
 * another machine's from its heartbeat) and its gateway (this machine's probed, if not fresh).
 */
export async function waitingLine(
  core: FederationCore,
  task: TaskView,
  options: { fresh?: boolean } = {},
): Promise<SafeText> {
  // fresh: probe this machine's gateways again even if a probe of the last seconds is kept.
  const { views } = await core.nodeViews({ probe: options.fresh ? "always" : true });
  const worker = await findWorker(core.loaded.home, core.env, { core });
  return safeLine(
    waitingHint(
      task,
      withMachineWorker(views, core.machine, worker).find((n) => n.id === task.node),
      Date.now(),
    ) ?? "",
  );
}
