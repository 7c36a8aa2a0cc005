import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MigrateInput } from "../../../source/core/domain/federation-types.js";
import { appReducer } from "../../../source/ui/state/app-reducer.js";
import { type AppState, topScreen } from "../../../source/ui/state/app-state.js";
import { FakeFederation, FIXED_NOW, makeNode, seedNodes, seedTasks } from "../../testkit/fake-federation.js";
import { ESC_KEYS, press, renderApp, snapshotOf, stateOf, type } from "./helpers.js";

/** alpha (local, no SSH route), beta (local, SSH target in its config), the seed's remote ones. */
function nodes() {
  return [
    ...seedNodes(),
    makeNode({ id: "beta", port: 18809, profile: "beta", sshTarget: "me@vm.example:2222" }),
  ];
}

function migrateEffects(s: AppState): MigrateInput[] {
  return s.effects.flatMap((e) => (e.type === "migrate" ? [e.input] : []));
}

/** Select a node by id on the nodes table. */
function select(s: AppState, id: string): AppState {
  let state = press(s, "g");
  for (let i = 0; i < 10 && state.nodes.selectedId !== id; i++) state = press(state, "j");
  assert.equal(state.nodes.selectedId, id);
  return state;
}

describe("migrate: the node action and :migrate in the reducer", () => {
  it("m asks for the target (prefilled from the node's SSH route), plans first, confirms, then runs", () => {
    let s = select(stateOf({ snapshot: snapshotOf(nodes()) }), "beta");
    s = press(s, "m");
    assert.equal(s.input?.kind, "migrateTarget");
    assert.equal(s.input?.field.text, "me@vm.example:2222");
    assert.deepEqual(migrateEffects(s), [], "nothing runs before Enter");

    s = press(s, "enter");
    assert.equal(s.input, null);
    assert.equal(topScreen(s).kind, "migrate");
    assert.equal(s.migration?.phase, "planning");
    assert.deepEqual(migrateEffects(s), [{ node: "beta", to: "me@vm.example:2222", dryRun: true }]);
    s = appReducer(s, { type: "effectsTaken" });

    s = appReducer(s, { type: "migrateLine", line: "Plan for beta: hub:~/.openclaw-beta → me@vm…" });
    s = appReducer(s, { type: "migrateLine", line: "  copy 3 file(s): openclaw.json, …" });
    s = appReducer(s, { type: "migrateDone" });
    assert.equal(s.migration?.phase, "confirm");
    assert.match(s.confirm?.prompt ?? "", /Migrate beta to me@vm\.example:2222 now\?/);
    assert.deepEqual(migrateEffects(s), [], "nothing moves before y");

    s = press(s, "y");
    assert.equal(s.migration?.phase, "running");
    assert.deepEqual(migrateEffects(s), [{ node: "beta", to: "me@vm.example:2222" }]);
    s = appReducer(s, { type: "effectsTaken" });
    s = appReducer(s, { type: "migrateLine", line: "Copying 3 file(s) to vm.example …" });
    s = appReducer(s, { type: "migrateDone" });
    assert.equal(s.migration?.phase, "done");
    assert.match(s.message?.text ?? "", /Migrated: beta now runs on me@vm\.example:2222/);
    assert.deepEqual(
      s.migration?.lines,
      ["Copying 3 file(s) to vm.example …"],
      "the run starts a clean panel (it says its plan again itself)",
    );
    s = press(s, "escape");
    assert.equal(topScreen(s).kind, "nodes");
  });

  it("n after the plan moves nothing; Esc in the target prompt cancels; a bad target is refused in place", () => {
    let s = select(stateOf({ snapshot: snapshotOf(nodes()) }), "alpha");
    s = press(s, "m");
    assert.equal(s.input?.field.text, "", "no SSH route: empty");
    s = press(s, "escape");
    assert.equal(s.input, null);
    assert.match(s.message?.text ?? "", /Nothing moved/);
    s = press(s, "m");
    s = type(s, "me@vm --remote-port nope");
    s = press(s, "enter");
    assert.equal(s.input?.kind, "migrateTarget");
    s = press(s, "escape", "m");
    s = type(s, "me@vm --remote-port 18829");
    s = press(s, "enter");
    assert.deepEqual(migrateEffects(s), [{ node: "alpha", to: "me@vm", dryRun: true, remotePort: 18829 }]);
    s = appReducer(appReducer(s, { type: "effectsTaken" }), { type: "migrateDone" });
    s = press(s, "n", "escape", "m");
    s = type(s, "vm-without-user");
    s = press(s, "enter");
    assert.equal(s.input?.kind, "migrateTarget", "stays open to fix the target");
    assert.match((s.input?.kind === "migrateTarget" && s.input.error) || "", /user@host/);
    assert.deepEqual(migrateEffects(s), []);
    s = press(s, "escape", "m");
    s = type(s, "me@vm:22");
    s = press(s, "enter");
    s = appReducer(appReducer(s, { type: "effectsTaken" }), { type: "migrateDone" });
    s = press(s, "n");
    assert.equal(s.migration?.phase, "planned");
    assert.match(s.message?.text ?? "", /Nothing moved/);
    assert.deepEqual(migrateEffects(s), []);
  });

  it("only local nodes move; a remote node points at --rollback; not while one is running", () => {
    let s = select(stateOf({ snapshot: snapshotOf(nodes()) }), "macbook-air");
    s = press(s, "m");
    assert.equal(s.input, null);
    assert.match(
      s.message?.text ?? "",
      /runs on macbook-air: only nodes on this machine move from here. Undo a migration: :migrate --rollback macbook-air/,
    );
    s = select(s, "cloud-node");
    s = press(s, "m");
    assert.match(s.message?.text ?? "", /planned/);
    s = select(s, "alpha");
    s = press(s, "m");
    s = type(s, "me@vm");
    s = press(s, "enter");
    s = press(s, "escape", "m");
    assert.match(s.message?.text ?? "", /still being planned/);
  });

  it(":migrate NODE --to T plans then asks; --dry-run only plans; --rollback asks first; bad input shows usage", () => {
    let s = press(stateOf({ snapshot: snapshotOf(nodes()) }), ":");
    s = press(type(s, "migrate alpha"), "enter");
    assert.match(s.message?.text ?? "", /Usage: :migrate NODE --to user@host/);

    s = press(type(press(s, ":"), "migrate alpha --to me@vm --remote-port x"), "enter");
    assert.match(s.message?.text ?? "", /Usage: :migrate/);
    s = press(type(press(s, ":"), "migrate alpha --to me@vm --remote-port 18829 --dry-run"), "enter");
    assert.deepEqual(migrateEffects(s), [{ node: "alpha", to: "me@vm", dryRun: true, remotePort: 18829 }]);
    s = appReducer(appReducer(s, { type: "effectsTaken" }), { type: "migrateDone" });
    assert.equal(s.confirm, null, "a dry run asks nothing");
    assert.equal(s.migration?.phase, "planned");
    assert.match(s.message?.text ?? "", /nothing moved.*:migrate alpha --to me@vm --remote-port 18829/);

    s = press(s, "escape");
    s = press(type(press(s, ":"), "migrate alpha --to me@vm:2222"), "enter");
    s = appReducer(appReducer(s, { type: "effectsTaken" }), { type: "migrateDone" });
    assert.match(s.confirm?.prompt ?? "", /Migrate alpha to me@vm:2222 now\?/);
    s = press(s, "n");

    s = press(type(press(s, ":"), "migrate --rollback beta"), "enter");
    assert.match(s.confirm?.prompt ?? "", /Roll back the migration of beta\?/);
    assert.deepEqual(migrateEffects(s), []);
    s = press(s, "y");
    assert.deepEqual(migrateEffects(s), [{ node: "beta", to: "", rollback: true }]);
    assert.equal(topScreen(s).kind, "migrate");
    s = appReducer(appReducer(s, { type: "effectsTaken" }), {
      type: "migrateFailed",
      error: "There is no migration of beta to roll back.",
    });
    assert.equal(s.migration?.phase, "failed");
    assert.equal(s.message?.tone, "error");
    assert.match(s.message?.text ?? "", /no migration of beta/);
  });

  it("a read-only session neither offers nor runs migrate", () => {
    let s = select(stateOf({ snapshot: snapshotOf(nodes()), readonly: true }), "alpha");
    s = press(s, "m");
    assert.equal(s.input, null);
    assert.match(s.message?.text ?? "", /Read-only session: migration is turned off/);
    s = press(type(press(s, ":"), "migrate alpha --to me@vm"), "enter");
    assert.match(s.message?.text ?? "", /Read-only session: migration is turned off/);
    assert.deepEqual(migrateEffects(s), []);
  });
});

describe("migrate: the flow in the rendered control center", () => {
  it("m → target → plan in a panel → y → each step → success; help and hints show the key", async () => {
    const fake = new FakeFederation({ nodes: nodes(), tasks: seedTasks(), now: () => FIXED_NOW });
    const calls: MigrateInput[] = [];
    let release: () => void = () => {};
    fake.migrate = async (input, onLine) => {
      calls.push(input);
      onLine(
        `Plan for ${input.node}: hub:~/.openclaw-${input.node} (port 18809) → ${input.to}:~/.openclaw-${input.node}`,
      );
      onLine("  copy 2 file(s): openclaw.json, workspace/SOUL.md");
      if (input.dryRun) return;
      onLine(`Copying 2 file(s) to vm.example …`);
      await new Promise<void>((r) => {
        release = r;
      });
      onLine(`Node ${input.node} now lives on vm.example.`);
    };
    const app = await renderApp({ fake });
    assert.match(app.frame(), /m migrate/, "the nodes hint line offers it");
    await app.write("?");
    await app.waitFor(/m\s+Migrate over SSH \(asks\)/);
    await app.write("?");
    await app.write("gj");
    await app.waitFor(/› beta/);
    await app.write("m");
    await app.waitFor("Migrate beta to me@vm.example:2222");
    await app.write(ESC_KEYS.enter);
    await app.waitFor("Go ahead? (y/n below)");
    const plan = app.frame();
    assert.match(plan, /copy 2 file\(s\): openclaw\.json, workspace\/SOUL\.md/);
    assert.match(plan, /Migrate beta to me@vm\.example:2222 now\?.*y\/n/);
    assert.deepEqual(calls, [{ node: "beta", to: "me@vm.example:2222", dryRun: true }]);
    await app.write("y");
    await app.waitFor("Copying 2 file(s) to vm.example");
    assert.match(app.frame(), /migrating…/);
    release();
    await app.waitFor("Migrated: beta now runs on me@vm.example:2222.");
    assert.match(app.frame(), /Node beta now lives on vm\.example\./);
    assert.deepEqual(calls.at(-1), { node: "beta", to: "me@vm.example:2222" });
    await app.write(ESC_KEYS.escape);
    await app.waitFor(/NODE\s+STATUS/);
    app.unmount();
  });

  it("a failed migration ends with its one-line error; a facade without migrate says so", async () => {
    const fake = new FakeFederation({ nodes: nodes(), tasks: seedTasks(), now: () => FIXED_NOW });
    const app = await renderApp({ fake });
    await app.write(":migrate alpha --to me@vm --dry-run\r");
    await app.waitFor("Migration is not available here.");
    fake.migrate = async (input, onLine) => {
      onLine(`Plan for ${input.node}: …`);
      if (!input.dryRun)
        throw new Error("Migration of alpha stopped: the SSH connection dropped. Nothing changed here.");
    };
    await app.write(":migrate alpha --to me@vm\r");
    await app.waitFor("Go ahead?");
    await app.write("y");
    await app.waitFor("Migration of alpha stopped: the SSH connection dropped. Nothing changed here.");
    assert.match(app.frame(), /failed\./);
    app.unmount();
  });
});
