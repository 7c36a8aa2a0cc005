import type { KeyPress } from "../../input.js";
import type { AppState, LineInput, TableName } from "../../state/app-state.js";
import { topScreen } from "../../state/app-state.js";
import { say, withFilter } from "../../state/reducer-kit.js";
import { editText, textField } from "../../state/text-edit.js";
import { parseFilter } from "./query.js";

/** `/` opens the filter line on the table in view, starting from its current filter. */
export function openFilter(state: AppState): AppState {
  const top = topScreen(state);
  if (top.kind !== "nodes" && top.kind !== "tasks") {
    return say(state, "The filter works on the Nodes and Tasks tables (Esc to go back to one).");
  }
  const before = state[top.kind].filter;
  return { ...state, input: { kind: "filter", field: textField(before), before, table: top.kind } };
}

/** Keys on the filter line: the table follows each edit; Enter keeps it, Esc restores the one before. */
export function onFilterKey(
  state: AppState,
  input: Extract<LineInput, { kind: "filter" }>,
  key: KeyPress,
): AppState {
  if (key.name === "enter") {
    const errors = parseFilter(input.field.text).errors;
    return errors.length > 0
      ? say({ ...state, input: null }, `Filter: ${errors.join("; ")}`, "error")
      : { ...state, input: null };
  }
  if (key.name === "escape") return withFilter({ ...state, input: null }, input.table, input.before);
  const field = editText(input.field, key);
  if (!field) return state;
  return withFilter({ ...state, input: { ...input, field } }, input.table, field.text);
}

/** `:nodes [filter]` / `:tasks [filter]`: that table alone, with the filter given or the one it had. */
export function showTable(state: AppState, table: TableName, args: string): AppState {
  return withFilter({ ...state, stack: [{ kind: table }] }, table, args || state[table].filter);
}
