import type { AppState } from "./app-state.js";

/** How long a message stays when no key is pressed: long enough to read twice; an error longer. */
export const MESSAGE_MS = { info: 6_000, error: 12_000 } as const;

/**
 * The clock moved on (`tick`, about once a second): a message is timed from the first tick
 * that sees it, and goes once it has been up its while. A key clears it sooner. The time
 * comes in with the action, so the reducer stays pure.
 */
export function onTick(state: AppState, now: number): AppState {
  const message = state.message;
  if (!message) return state;
  if (message.shownAt === undefined) return { ...state, message: { ...message, shownAt: now } };
  return now - message.shownAt >= MESSAGE_MS[message.tone] ? { ...state, message: null } : state;
}
