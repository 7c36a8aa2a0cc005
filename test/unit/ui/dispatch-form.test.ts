import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  createForm,
  type DispatchFormState,
  dispatchFormReducer,
  formInput,
  validateForm,
  withTargets,
} from "../../../source/ui/features/dispatch/form.js";
import type { KeyPress } from "../../../source/ui/input.js";

function keys(form: DispatchFormState, ...names: string[]): DispatchFormState {
  let f = form;
  for (const name of names) {
    const key: KeyPress = [...name].length === 1 ? { name, text: name } : { name };
    f = dispatchFormReducer(f, key).form;
  }
  return f;
}

describe("dispatch form reducer", () => {
  it("types text, edits it, and builds the dispatch input", () => {
    let f = createForm(["alpha", "mac-mini"]);
    f = keys(f, ..."summarise 日志");
    f = keys(f, "backspace", "left", "ctrl+a");
    assert.equal(f.text.text, "summarise 日");
    assert.equal(f.text.caret, 0);
    assert.deepEqual(formInput(f), { text: "summarise 日", to: "any", priority: "P2" });
  });

  it("refuses to submit empty text, with an inline message that clears on typing", () => {
    const empty = createForm(["alpha"]);
    const { form, intent } = dispatchFormReducer(keys(empty, " ", " "), { name: "enter" });
    assert.equal(intent, "none");
    assert.match(form.error ?? "", /text is empty/);
    assert.equal(keys(form, "a").error, null);
    assert.equal(validateForm(keys(empty, "x")), null);
  });

  it("submits once valid and ignores keys while sending", () => {
    const f = keys(createForm(["alpha"]), "h", "i");
    const sent = dispatchFormReducer(f, { name: "enter" });
    assert.equal(sent.intent, "submit");
    assert.equal(sent.form.submitting, true);
    assert.equal(dispatchFormReducer(sent.form, { name: "enter" }).intent, "none");
    assert.equal(dispatchFormReducer(sent.form, { name: "escape" }).intent, "cancel");
  });

  it("cycles the target through any and the node ids, and the priority P0–P3", () => {
    let f = keys(createForm(["alpha", "mac-mini"]), "tab");
    assert.equal(f.focus, "target");
    f = keys(f, "right");
    assert.equal(f.target, "alpha");
    f = keys(f, "right", "space");
    assert.equal(f.target, "any", "wraps around");
    f = keys(f, "left");
    assert.equal(f.target, "mac-mini");
    f = keys(f, "tab");
    assert.equal(f.focus, "priority");
    f = keys(f, "right", "right");
    assert.equal(f.priority, "P0", "P2 → P3 → P0");
    f = keys(f, "1");
    assert.equal(f.priority, "P1");
    f = keys(f, "shift+tab", "shift+tab");
    assert.equal(f.focus, "text");
  });

  it("keeps its target when nodes change, and falls back to any when the node is gone", () => {
    const f = createForm(["alpha", "mac-mini"], "alpha");
    assert.equal(f.target, "alpha");
    assert.equal(withTargets(f, ["alpha", "mac-mini", "new"]).target, "alpha");
    assert.equal(withTargets(f, ["mac-mini"]).target, "any");
    assert.equal(createForm(["alpha"], "ghost").target, "any");
  });
});
