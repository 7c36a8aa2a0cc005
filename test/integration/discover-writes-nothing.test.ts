/**
 * The control center's `i` (LiveFederation.discover) after `incubate`: a discovery that finds
 * nothing new writes nothing. Every worker watches federation.json and restarts when it
 * changes, so filling in defaults (this machine's name, the coordinator) as a side effect
 * would restart them for nothing. A profile that is new is registered, and then the file may
 * change.
 */
import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LiveFederation } from "../../source/core/federation/live-federation.js";
import { makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";

let world: World;
let configFile: string;

/** The file's bytes and mtime, or undefined when there is none. */
async function snapshot(): Promise<{ bytes: string; mtimeMs: number } | undefined> {
  const info = await stat(configFile).catch(() => undefined);
  return info && { bytes: await readFile(configFile, "utf8"), mtimeMs: info.mtimeMs };
}

async function discover(): Promise<string[]> {
  const live = await LiveFederation.open(world.clawosHome, world.env);
  try {
    return await live.discover();
  } finally {
    await live.close();
  }
}

before(async () => {
  world = await makeWorld();
  configFile = join(world.clawosHome, "federation.json");
  const incubate = await world.run(["incubate", "demo", "--config-only"]);
  assert.equal(incubate.code, 0, incubate.stderr);
});
after(async () => {
  await world.cleanup();
});

test("`i` right after incubate finds nothing new and leaves federation.json as it was", async () => {
  const before = await snapshot();
  // Coarse file times would hide a rewrite within the same tick: let the clock move on.
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await discover(), []);
  assert.deepEqual(await snapshot(), before, "not written (nor created)");
});

test("a federation.json that leaves machine and coordinator unset is not rewritten to spell them out", async () => {
  await writeFile(
    configFile,
    `${JSON.stringify({ version: 2, blackboard: { driver: "directory" } }, null, 2)}\n`,
  );
  const before = await snapshot();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await discover(), []);
  assert.deepEqual(await snapshot(), before);
});

test("a new profile is registered, and only then is this machine's name written down", async () => {
  await world.writeProfile("beta", profileConfig(19_100, "b"));
  assert.deepEqual(await discover(), ["beta"]);
  const config = JSON.parse(await readFile(configFile, "utf8")) as {
    machine?: string;
    blackboard: { coordinator?: string };
  };
  assert.equal(config.machine, "hub");
  assert.equal(config.blackboard.coordinator, "hub");
});
