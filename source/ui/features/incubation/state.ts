import type { AppState } from "../../state/app-state.js";
import { queue, say } from "../../state/reducer-kit.js";
import { INCUBATE_USAGE, parseIncubateArgs } from "./command.js";

/**
 * `:incubate NAME [--start] [--config-only]`: a new local node. It has no screen of its
 * own: each step shows in the status line as it starts (see `runEffect`).
 */
export function incubate(state: AppState, args: string): AppState {
  const parsed = parseIncubateArgs(args);
  if (!parsed) return say(state, INCUBATE_USAGE, "error");
  const { name, start, configOnly } = parsed;
  return queue(say(state, `Incubating ${name}…`), { type: "incubate", name, start, configOnly });
}
