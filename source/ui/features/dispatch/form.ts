import type { DispatchInput } from "../../../core/domain/federation-types.js";
import { MAX_TASK_TEXT, PRIORITIES, type Priority } from "../../../core/domain/schema.js";
import type { KeyPress } from "../../input.js";
import { editText, type TextField, textField } from "../../state/text-edit.js";

export const FORM_FIELDS = ["text", "target", "priority"] as const;
export type FormField = (typeof FORM_FIELDS)[number];

export interface DispatchFormState {
  text: TextField;
  /** "any" followed by the node ids, refreshed from every snapshot. */
  targets: string[];
  target: string;
  priority: Priority;
  focus: FormField;
  /** Shown under the field after a submit attempt; cleared as soon as the user edits. */
  error: string | null;
  submitting: boolean;
}

export type FormIntent = "none" | "submit" | "cancel";

export function createForm(nodeIds: readonly string[], target = "any", text = ""): DispatchFormState {
  const targets = ["any", ...nodeIds];
  return {
    text: textField(text),
    targets,
    target: targets.includes(target) ? target : "any",
    priority: "P2",
    focus: "text",
    error: null,
    submitting: false,
  };
}

/** Keep the chosen target when the node list changes; fall back to "any" if it went away. */
export function withTargets(form: DispatchFormState, nodeIds: readonly string[]): DispatchFormState {
  const targets = ["any", ...nodeIds];
  if (targets.length === form.targets.length && targets.every((t, i) => t === form.targets[i])) return form;
  return { ...form, targets, target: targets.includes(form.target) ? form.target : "any" };
}

/** The first problem that stops the form from being sent, in words for the person typing. */
export function validateForm(form: DispatchFormState): string | null {
  const text = form.text.text.trim();
  if (text === "") return "Write what the task should do: the text is empty.";
  if (text.length > MAX_TASK_TEXT)
    return `The text is too long (${text.length} characters, at most ${MAX_TASK_TEXT}).`;
  if (!form.targets.includes(form.target)) return `Unknown target '${form.target}'.`;
  return null;
}

export function formInput(form: DispatchFormState): DispatchInput {
  return { text: form.text.text.trim(), to: form.target, priority: form.priority };
}

function cycle<T>(list: readonly T[], current: T, step: number): T {
  const at = Math.max(0, list.indexOf(current));
  const next = (((at + step) % list.length) + list.length) % list.length;
  return list[next] as T;
}

/**
 * One key in the dispatch form. Tab / Shift+Tab (and ↓ / ↑) move between the
 * fields; ← → (or Space) change the target and the priority; 0–3 pick a
 * priority; Enter sends; Esc leaves. Returns the new form and what the caller
 * should do next.
 */
export function dispatchFormReducer(
  form: DispatchFormState,
  key: KeyPress,
): { form: DispatchFormState; intent: FormIntent } {
  const stay = (next: DispatchFormState) => ({ form: next, intent: "none" as const });
  if (key.name === "escape") return { form, intent: "cancel" };
  if (form.submitting) return stay(form);
  if (key.name === "enter") {
    const error = validateForm(form);
    if (error)
      return stay({
        ...form,
        error,
        focus: error.startsWith("Write") || error.startsWith("The text") ? "text" : form.focus,
      });
    return { form: { ...form, error: null, submitting: true }, intent: "submit" };
  }
  if (key.name === "tab" || key.name === "down" || key.name === "shift+tab" || key.name === "up") {
    const step = key.name === "tab" || key.name === "down" ? 1 : -1;
    return stay({ ...form, focus: cycle(FORM_FIELDS, form.focus, step) });
  }
  if (form.focus === "text") {
    const text = editText(form.text, key);
    return stay(text ? { ...form, text, error: null } : form);
  }
  const step = key.name === "left" ? -1 : key.name === "right" || key.name === "space" ? 1 : 0;
  if (form.focus === "target") {
    return stay(step ? { ...form, target: cycle(form.targets, form.target, step), error: null } : form);
  }
  const digit = /^[0-3]$/.exec(key.name);
  if (digit) return stay({ ...form, priority: `P${digit[0]}` as Priority });
  return stay(step ? { ...form, priority: cycle(PRIORITIES, form.priority, step) } : form);
}
