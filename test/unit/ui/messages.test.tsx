/**
 * The control center's messages: they fit (two lines at most, taking a row from the body, never
 * the key hints' row) and go away on the next key or after a few seconds, timed by the reducer
 * from the clock the App gives it.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { cleanup, render } from "ink-testing-library";
import { displayWidth } from "../../../source/present/text.js";
import { ControlCenter } from "../../../source/ui/components/control-center.js";
import { appReducer } from "../../../source/ui/state/app-reducer.js";
import type { AppState } from "../../../source/ui/state/app-state.js";
import { MESSAGE_MS } from "../../../source/ui/state/message.js";
import { say } from "../../../source/ui/state/reducer-kit.js";
import { FIXED_NOW } from "../../testkit/fake-federation.js";
import { press, SIZE_80x24, stateOf, withTheme } from "./helpers.js";

afterEach(cleanup);

const LONG =
  "No new OpenClaw profiles to add (looked in ~/.openclaw and ~/.openclaw-*; known ones are already nodes).";

function screenOf(state: AppState): string[] {
  const { lastFrame } = render(withTheme(<ControlCenter state={state} now={FIXED_NOW} />));
  return (lastFrame() ?? "").split("\n");
}

const tick = (state: AppState, now: number) => appReducer(state, { type: "tick", now });

describe("messages in the control center", () => {
  it("a long message takes two lines at 80×24, whole words, and the key hints keep the last line", () => {
    const quiet = screenOf(stateOf({ size: SIZE_80x24 }));
    const state = say(stateOf({ size: SIZE_80x24 }), LONG);
    const screen = screenOf(state);
    assert.equal(screen.length, 24);
    for (const line of screen) assert.ok(displayWidth(line) <= 80, line);
    const [first, second] = screen.slice(-3, -1);
    assert.match(first ?? "", /^ No new OpenClaw profiles to add/);
    assert.match(second ?? "", /already nodes\)\.\s*$/);
    assert.deepEqual(
      `${first} ${second}`.split(/\s+/).filter(Boolean),
      LONG.split(/\s+/),
      "every word whole, none cut",
    );
    assert.equal(screen.at(-1), quiet.at(-1), "the key hints, as without a message");
    assert.equal(screen[0], quiet[0], "the title stays");
  });

  it("a message too long for two lines is cut on the second with …", () => {
    const screen = screenOf(say(stateOf({ size: SIZE_80x24 }), `${LONG} ${LONG} ${LONG}`));
    assert.match(screen.at(-2) ?? "", /…\s*$/);
    assert.match(screen.at(-1) ?? "", /\? help/);
  });

  it("goes after its time from the first tick that saw it, or on the next key", () => {
    const said = say(stateOf({ size: SIZE_80x24 }), "Refreshed.");
    const seen = tick(said, 1_000);
    assert.equal(seen.message?.text, "Refreshed.");
    assert.equal(tick(seen, 1_000 + MESSAGE_MS.info - 1).message?.text, "Refreshed.");
    assert.equal(tick(seen, 1_000 + MESSAGE_MS.info).message, null);
    // An error stays longer.
    const failed = tick(say(said, "Refresh failed: no blackboard", "error"), 1_000);
    assert.ok(tick(failed, 1_000 + MESSAGE_MS.info).message);
    assert.equal(tick(failed, 1_000 + MESSAGE_MS.error).message, null);
    // A tick with nothing to do changes nothing (no redraw).
    const none = stateOf({ size: SIZE_80x24 });
    assert.equal(tick(none, 5_000), none);
    assert.equal(press(seen, "j").message, null);
  });
});
