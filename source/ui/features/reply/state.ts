import { FINAL_STATES } from "../../../core/domain/schema.js";
import { buildDetailLines } from "../../detail-lines.js";
import type { AppState } from "../../state/app-state.js";
import { activeTable } from "../../state/app-state.js";
import { type Move, scrollLines } from "../../state/navigation.js";
import { homeOf, selectedTask, settleAll } from "../../state/reducer-kit.js";

/** The home screen's reply pane while it has the keys: where it is scrolled, or following the end. */
export interface ReplyFocus {
  scroll: number;
  follow: boolean;
}

/**
 * Tab: nodes → tasks → the reply pane (where the screen has one and a task is selected) →
 * nodes. The reply pane keeps the tasks' selection: it shows the selected task.
 */
export function switchPane(state: AppState): AppState {
  const table = activeTable(state);
  if (!state.reply && table === "tasks" && homeOf(state).reply && selectedTask(state))
    return { ...state, reply: { scroll: 0, follow: true } };
  return settleAll({ ...state, reply: null, stack: [{ kind: table === "nodes" ? "tasks" : "nodes" }] });
}

/** The scroll keys while the reply pane has them: the same moves as the detail view, over the pane. */
export function scrollReply(state: AppState, how: Move): AppState {
  const reply = state.reply;
  const pane = homeOf(state).reply;
  const task = selectedTask(state);
  if (!reply || !pane || !task) return state;
  const height = Math.max(1, pane.height - 1);
  const width = Math.max(1, pane.width - (pane.at === "side" ? 1 : 0));
  // As the pane draws it: why a waiting task waits names its node.
  const node = FINAL_STATES.includes(task.state)
    ? undefined
    : state.snapshot.nodes.find((n) => n.id === task.node);
  // The snapshot's time stands in for the clock (the reducer has none).
  const now = Date.parse(state.snapshot.updatedAt) || 0;
  const lines = buildDetailLines(task, width, now, { id: task.id }, node).length;
  return { ...state, reply: scrollLines(reply, how, Math.max(0, lines - height), height - 1) };
}
