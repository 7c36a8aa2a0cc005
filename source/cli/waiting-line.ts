import type { TaskView } from "../core/domain/federation-types.js";
import type { FederationCore } from "../core/federation/federation.js";
import { waitingHint } from "../core/federation/waiting.js";
import { type SafeText, safeLine } from "../present/safe-text.js";

/** Why a pending task is not moving (its node's worker, from the heartbeats; no probe). */
export async function waitingLine(core: FederationCore, task: TaskView): Promise<SafeText> {
  const { views } = await core.nodeViews({ probe: false });
  return safeLine(
    waitingHint(
      task,
      views.find((n) => n.id === task.node),
      Date.now(),
    ) ?? "",
  );
}
