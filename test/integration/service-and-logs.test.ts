import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { serviceFile } from "../../source/core/ops/worker-service.js";
import { BIN, makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

const run = promisify(execFile);

describe("worker service files", () => {
  const base = {
    home: "/h/.openclaw/clawos",
    nodeBin: "/usr/bin/node",
    cliBin: "/opt/clawos/bin.js",
    nodes: ["alpha"],
    env: { HOME: "/h" },
  };
  test("a systemd user unit on Linux", () => {
    const f = serviceFile({ ...base, platform: "linux" });
    assert.equal(f.path, "/h/.config/systemd/user/clawos-worker.service");
    assert.match(
      f.content,
      /^ExecStart=\/usr\/bin\/node \/opt\/clawos\/bin\.js --home \/h\/\.openclaw\/clawos node run --node alpha$/m,
    );
    assert.match(f.content, /Restart=always/);
    assert.deepEqual(f.enable.at(-1), ["systemctl", "--user", "enable", "--now", "clawos-worker.service"]);
  });
  test("a launchd agent on macOS", () => {
    const f = serviceFile({ ...base, platform: "darwin" });
    assert.equal(f.path, "/h/Library/LaunchAgents/ai.clawos.worker.plist");
    assert.match(
      f.content,
      /<string>node<\/string>\s*<string>run<\/string>\s*<string>--node<\/string>\s*<string>alpha<\/string>/,
    );
    assert.match(f.content, /<key>KeepAlive<\/key><true\/>/);
  });
});

describe("CLI: install-service --print, worker log file, completion", () => {
  let world: World;
  let gateway: StubGateway;
  before(async () => {
    world = await makeWorld();
    gateway = await startStubGateway({ token: "t" });
    await world.writeProfile("alpha", profileConfig(gateway.port, "t"));
    assert.equal((await world.run(["init"])).code, 0);
  });
  after(async () => {
    await gateway.close();
    await world.cleanup();
  });

  test("install-service --print shows the unit and installs nothing", async () => {
    const r = await world.run(["node", "install-service", "--print", "--node", "alpha"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /clawos-worker\.service/);
    assert.match(r.stdout, /ExecStart=.* node run --node alpha/);
    await assert.rejects(stat(join(world.home, ".config", "systemd", "user", "clawos-worker.service")));
  });

  test("the worker logs to a file too, by level", async () => {
    const d = await world.run(["dispatch", "log me", "--to", "alpha", "--json"]);
    assert.equal(d.code, 0, d.stderr);
    gateway.setMode("hang");
    const queued = await world.run(["dispatch", "for the worker", "--to", "alpha", "--json"]);
    assert.equal(queued.code, 0, queued.stderr);
    gateway.setMode("ok");
    const w = await world.run(["node", "run", "--node", "alpha", "--once"]);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stderr, / info {2}worker started on hub/);
    const quiet = await world.run(["node", "run", "--node", "alpha", "--once", "--log-level", "warn"]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /worker started/, "info lines hidden at --log-level warn");
    const log = await readFile(join(world.clawosHome, "logs", "worker.log"), "utf8");
    assert.match(log, /worker started on hub/);
    assert.match(log, /alpha: req_\S+ completed/);
    assert.equal((await stat(join(world.clawosHome, "logs", "worker.log"))).mode & 0o077, 0);
  });

  test("bash completion completes commands and options", async () => {
    const script = (await world.run(["completion", "bash"])).stdout;
    const probe = async (words: string[]) =>
      (
        await run("bash", [
          "-c",
          `${script}\nCOMP_WORDS=(${words.join(" ")}); COMP_CWORD=${words.length - 1}; _clawos_complete; echo "\${COMPREPLY[@]}"`,
        ])
      ).stdout.trim();
    assert.equal(await probe(["clawos", "dis"]), "dispatch");
    assert.equal(await probe(["clawos", "dispatch", "--pri"]), "--priority");
    assert.equal(await probe(["clawos", "tasks", "re"]), "retry");
  });

  test("bash completion offers node names and task ids, under clawos and npx clawos alike", async () => {
    const sent = await world.run(["dispatch", "complete me", "--to", "alpha", "--json"]);
    assert.equal(sent.code, 0, sent.stderr);
    const id = (JSON.parse(sent.stdout) as { id: string }).id;
    // `clawos` on the user's PATH; under `npx clawos` the script calls this same clawos itself.
    const bin = join(world.home, "bin");
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, "clawos"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, {
      mode: 0o755,
    });
    const script = (await world.run(["completion", "bash"])).stdout;
    const probe = async (words: string[]) =>
      (
        await run(
          "bash",
          [
            "-c",
            `${script}\nCOMP_WORDS=(${words.map((w) => `"${w}"`).join(" ")}); COMP_CWORD=${words.length - 1}; _clawos_complete; echo "\${COMPREPLY[@]}"`,
          ],
          { env: { ...world.env, PATH: `${bin}:${world.env.PATH}` } },
        )
      ).stdout.trim();
    for (const head of [["clawos"], ["npx", "clawos"]]) {
      assert.equal(await probe([...head, "dispatch", "x", "--to", "al"]), "alpha", head.join(" "));
      assert.equal(await probe([...head, "dispatch", "x", "--to", "an"]), "any");
      assert.equal(await probe([...head, "nodes", "probe", ""]), "alpha");
      assert.equal(await probe([...head, "migrate", "a"]), "alpha");
      assert.equal(await probe([...head, "tasks", "show", id.slice(0, -2)]), id);
      assert.equal(
        await probe([...head, "tasks", "cancel", id.slice(-8, -4)]),
        id.slice(-8),
        "its last 8 hex",
      );
      assert.equal(await probe([...head, "tasks", "list", "--st"]), "--state");
    }
  });
});
