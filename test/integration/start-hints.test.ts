/**
 * The command a message gives to start a node's gateway fits the path the user is on: OpenClaw's
 * own when `openclaw` is on PATH, the checkout's demo gateway when it is not (the README's quick
 * start without OpenClaw). Each case sets PATH itself, so what this machine has installed does not
 * matter.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeWorld, type World } from "../testkit/cli-harness.js";

interface Check {
  area: string;
  level: string;
  message: string;
  fix?: string;
}

describe("start hints follow whether OpenClaw is installed", () => {
  let world: World;
  /** A PATH with no openclaw on it. */
  let bare: NodeJS.ProcessEnv;
  /** A PATH whose only command is an `openclaw` that does nothing. */
  let withOpenclaw: NodeJS.ProcessEnv;

  before(async () => {
    world = await makeWorld();
    const empty = join(world.home, "empty-bin");
    const fake = join(world.home, "fake-bin");
    await mkdir(empty, { recursive: true });
    await mkdir(fake, { recursive: true });
    await writeFile(join(fake, "openclaw"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    bare = { PATH: empty };
    withOpenclaw = { PATH: fake };
  });
  after(async () => {
    await world.cleanup();
  });

  const doctorFix = async (env: NodeJS.ProcessEnv): Promise<string> => {
    const r = await world.run(["doctor", "--json"], { env });
    assert.equal(r.code, 1, r.stderr);
    const checks = JSON.parse(r.stdout) as Check[];
    const demo = checks.find((c) => c.area === "nodes" && c.message.startsWith("demo: unreachable"));
    assert.ok(demo?.fix, `no fix for demo in:\n${r.stdout}`);
    return demo.fix;
  };

  test("the README's path without OpenClaw: incubate says no model is needed, doctor names the demo gateway", async () => {
    const r = await world.run(["incubate", "demo", "--config-only", "--port", "24120"], { env: bare });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /warning/, "nothing to warn about: the demo gateway needs no model");
    assert.match(r.stderr, /demo gets no model.*the demo gateway needs none/);
    assert.match(
      r.stdout,
      /OpenClaw is not installed here: in the clawos checkout, npm run demo:gateway -- demo /,
    );

    const fix = await doctorFix(bare);
    assert.match(fix, /npm run demo:gateway -- demo in the clawos checkout/);
    assert.doesNotMatch(fix, /openclaw --profile/);
  });

  test("with openclaw on PATH: doctor and incubate name OpenClaw's own commands", async () => {
    assert.match(await doctorFix(withOpenclaw), /openclaw --profile demo gateway run/);
    const r = await world.run(["incubate", "demo-two", "--config-only", "--port", "24240"], {
      env: withOpenclaw,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: demo-two gets no model.*Its turns fail until it has one/);
    assert.match(r.stdout, /Start it with: openclaw --profile demo-two gateway run/);
  });
});
