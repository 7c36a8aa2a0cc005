/**
 * Completion of node names and task ids for every command that takes one, run in a real bash
 * (COMP_WORDS, COMP_CWORD, compgen) with the script `clawos completion bash` prints, under
 * `clawos` and `npx clawos` alike, with options before the argument too.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { BIN, makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

const run = promisify(execFile);
let world: World;
let gateway: StubGateway;
let script: string;
let id: string;
let bin: string;

before(async () => {
  world = await makeWorld();
  gateway = await startStubGateway({ token: "t" });
  await world.writeProfile("alpha", profileConfig(gateway.port, "t"));
  await world.writeProfile("beta", profileConfig(gateway.port + 200, "t"));
  assert.equal((await world.run(["init"])).code, 0);
  const sent = await world.run(["dispatch", "complete me", "--to", "alpha", "--json"]);
  assert.equal(sent.code, 0, sent.stderr);
  id = (JSON.parse(sent.stdout) as { id: string }).id;
  // `clawos` on the user's PATH; under `npx clawos` the script calls this same clawos itself.
  bin = join(world.home, "bin");
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, "clawos"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, {
    mode: 0o755,
  });
  script = (await world.run(["completion", "bash"])).stdout;
});
after(async () => {
  await gateway.close();
  await world.cleanup();
});

/** What bash offers for the last word of `words` (the word being completed), in order. */
async function offered(words: string[]): Promise<string> {
  const line = `${script}\nCOMP_WORDS=(${words.map((w) => `"${w}"`).join(" ")}); COMP_CWORD=${words.length - 1}; _clawos_complete; echo "\${COMPREPLY[@]}"`;
  const { stdout } = await run("bash", ["-c", line], {
    env: { ...world.env, PATH: `${bin}:${world.env.PATH}` },
  });
  return stdout.trim().split(/\s+/).sort().join(" ");
}

const NODE_COMMANDS = [
  ["nodes", "start"],
  ["nodes", "stop"],
  ["nodes", "restart"],
  ["nodes", "access"],
  ["nodes", "rename"],
  ["nodes", "cordon"],
  ["nodes", "uncordon"],
  ["nodes", "drain"],
  ["nodes", "probe"],
  ["nodes", "remove"],
  ["logs"],
  ["migrate"],
];

for (const head of [["clawos"], ["npx", "clawos"]]) {
  test(`${head.join(" ")}: node names after every command that takes a node`, async () => {
    for (const command of NODE_COMMANDS)
      assert.equal(await offered([...head, ...command, ""]), "alpha beta", command.join(" "));
    assert.equal(await offered([...head, "nodes", "start", "b"]), "beta");
    assert.equal(await offered([...head, "dispatch", "x", "--to", ""]), "alpha any beta");
    assert.equal(await offered([...head, "tasks", "list", "--node", "a"]), "alpha");
    assert.equal(await offered([...head, "node", "run", "--node", "b"]), "beta");
  });

  test(`${head.join(" ")}: task ids after tasks show, retry and cancel, whole or by their last 8 hex`, async () => {
    for (const command of ["show", "retry", "cancel"]) {
      assert.equal(await offered([...head, "tasks", command, id.slice(0, -2)]), id, command);
      assert.equal(await offered([...head, "tasks", command, id.slice(-8, -4)]), id.slice(-8), command);
    }
  });

  test(`${head.join(" ")}: options before the argument, and what is not a node`, async () => {
    assert.equal(await offered([...head, "logs", "--since", "1h", "a"]), "alpha");
    assert.equal(await offered([...head, "logs", "-f", "b"]), "beta");
    assert.equal(await offered([...head, "--home", world.clawosHome, "nodes", "start", "a"]), "alpha");
    assert.equal(await offered([...head, "tasks", "show", "--follow", id.slice(0, -2)]), id);
    assert.equal(await offered([...head, "nodes", "restart", "--ready-timeout", "30", "a"]), "alpha");
    // migrate's --to is an SSH target, and a second argument is not a node: nothing to offer.
    assert.equal(await offered([...head, "migrate", "alpha", "--to", "a"]), "");
    assert.equal(await offered([...head, "nodes", "rename", "alpha", "a"]), "");
    // Options still complete where an argument could stand.
    assert.equal(await offered([...head, "nodes", "start", "--rea"]), "--ready-timeout");
    assert.equal(await offered([...head, "tasks", "re"]), "retry");
  });
}
