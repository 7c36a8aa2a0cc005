import type { KeyPress } from "../../input.js";
import type { Action } from "../../keymap.js";
import { bodyHeight, clampSize } from "../../layout.js";
import type { AppState } from "../../state/app-state.js";
import { buildHelpLines } from "./lines.js";

export function openHelp(state: AppState): AppState {
  return { ...state, help: { scroll: 0 } };
}

function helpLineCount(state: AppState): number {
  return buildHelpLines(state.keymap, state.readonly, clampSize(state.size).columns).length;
}

/** Keys while the help is open: the scroll keys scroll it, help/back/quit/open close it. */
export function onHelpKey(state: AppState, key: KeyPress): AppState {
  const help = state.help;
  if (!help) return state;
  const action = state.keymap.lookup.get(key.name);
  if (action === "help" || action === "back" || action === "quit" || action === "open")
    return { ...state, help: null };
  const max = Math.max(0, helpLineCount(state) - bodyHeight(state.size));
  const step: Partial<Record<Action, number>> = {
    up: -1,
    down: 1,
    pageUp: -bodyHeight(state.size),
    pageDown: bodyHeight(state.size),
    top: -Infinity,
    bottom: Infinity,
  };
  const delta = action ? step[action] : undefined;
  if (delta === undefined) return state;
  return { ...state, help: { scroll: Math.max(0, Math.min(max, help.scroll + delta)) } };
}
