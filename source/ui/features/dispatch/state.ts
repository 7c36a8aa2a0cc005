import type { DispatchOutcome } from "../../../core/domain/federation-types.js";
import type { KeyPress } from "../../input.js";
import { primaryKey } from "../../keymap.js";
import type { AppState } from "../../state/app-state.js";
import { topScreen } from "../../state/app-state.js";
import { allNodeIds, queue, refuseReadonly, say, selectedNode } from "../../state/reducer-kit.js";
import { createForm, dispatchFormReducer, formInput } from "./form.js";

/** Open the form (replacing an open one), aimed at the selected node on the Nodes table. */
export function openDispatch(state: AppState, text = ""): AppState {
  if (state.readonly) return refuseReadonly(state, "dispatch");
  if (state.snapshot.nodes.length === 0) {
    const key = primaryKey(state.keymap, "discover");
    return say(
      state,
      `No node to dispatch to yet: add one first${key ? ` (${key} looks for local OpenClaw profiles)` : ""}.`,
      "error",
    );
  }
  const target = topScreen(state).kind === "nodes" ? (selectedNode(state)?.id ?? "any") : "any";
  const base = topScreen(state).kind === "dispatch" ? state.stack.slice(0, -1) : state.stack;
  return {
    ...state,
    form: createForm(allNodeIds(state.snapshot), target, text),
    stack: [...base, { kind: "dispatch" }],
  };
}

/** Keys while the form is in view: Enter queues the dispatch effect, Esc closes the form. */
export function onFormKey(state: AppState, key: KeyPress): AppState {
  const form = state.form;
  if (!form) return state;
  const { form: next, intent } = dispatchFormReducer(form, key);
  if (intent === "cancel") return { ...state, form: null, stack: state.stack.slice(0, -1) };
  if (intent === "submit")
    return queue({ ...state, form: next }, { type: "dispatch", input: formInput(next) });
  return next === form ? state : { ...state, form: next };
}

/** Sent: the form gives way to the task's detail view, and the route decision is shown. */
export function onDispatched(state: AppState, outcome: DispatchOutcome): AppState {
  const stack = topScreen(state).kind === "dispatch" ? state.stack.slice(0, -1) : state.stack;
  const routed = outcome.decision.node
    ? `Dispatched ${outcome.id} → ${outcome.decision.node}: ${outcome.decision.reason}`
    : `Queued ${outcome.id}: ${outcome.decision.reason}`;
  return {
    ...state,
    form: null,
    stack: [...stack, { kind: "detail", taskId: outcome.id, outcome }],
    detail: { scroll: 0, follow: true },
    message: { text: routed, tone: "info" },
  };
}

/** Not sent: the error goes into the form when it is still open (what was typed stays), else the status line. */
export function onDispatchFailed(state: AppState, error: string): AppState {
  if (state.form && topScreen(state).kind === "dispatch") {
    return { ...state, form: { ...state.form, submitting: false, error: `Not sent: ${error}` } };
  }
  return { ...state, message: { text: `Dispatch failed: ${error}`, tone: "error" } };
}
