import type { AuditLine } from "../../../core/domain/federation-types.js";
import type { KeyPress } from "../../input.js";
import type { Action } from "../../keymap.js";
import { bodyHeight } from "../../layout.js";
import type { AppState } from "../../state/app-state.js";
import { queue, say } from "../../state/reducer-kit.js";

/** The audit view: lines once loaded (`null` while the port reads them), scrolled from the top. */
export interface AuditViewState {
  lines: AuditLine[] | null;
  scroll: number;
}

/** `:audit`: open the view and ask the federation for the log. */
export function openAudit(state: AppState): AppState {
  return queue({ ...state, audit: { lines: null, scroll: 0 } }, { type: "audit" });
}

/** The log arrived: shown with its newest entries in view. */
export function onAuditLoaded(state: AppState, lines: AuditLine[]): AppState {
  if (!state.audit) return state;
  return { ...state, audit: { lines, scroll: Math.max(0, lines.length - bodyHeight(state.size)) } };
}

export function onAuditFailed(state: AppState, error: string): AppState {
  return say({ ...state, audit: null }, `Could not read the audit log: ${error}`, "error");
}

/** Keys while the view is open: the scroll keys scroll it, back/quit/help close it, R reads it again. */
export function onAuditKey(state: AppState, key: KeyPress): AppState {
  const audit = state.audit;
  if (!audit) return state;
  const action = state.keymap.lookup.get(key.name);
  if (action === "back" || action === "quit" || action === "help") return { ...state, audit: null };
  if (action === "refresh") return openAudit(state);
  const page = bodyHeight(state.size);
  const max = Math.max(0, (audit.lines?.length ?? 0) - page);
  const step: Partial<Record<Action, number>> = {
    up: -1,
    down: 1,
    pageUp: -page,
    pageDown: page,
    top: -Infinity,
    bottom: Infinity,
  };
  const delta = action ? step[action] : undefined;
  if (delta === undefined) return state;
  return { ...state, audit: { ...audit, scroll: Math.max(0, Math.min(max, audit.scroll + delta)) } };
}
