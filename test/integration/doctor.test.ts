import assert from "node:assert/strict";
import { mkdir, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { editConfig, makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

interface Check {
  area: string;
  level: string;
  message: string;
  fix?: string;
  fixed?: boolean;
}

describe("clawos doctor finds each planted fault and says how to fix it", () => {
  let world: World;
  let gateway: StubGateway;
  let tokenFile: string;

  before(async () => {
    world = await makeWorld();
    gateway = await startStubGateway({ token: "good" });
    // Fault 1: chat completions off in a profile. Fault 2: hub and alpha 1 port apart.
    await world.writeProfile(null, profileConfig(gateway.port, "good"));
    await world.writeProfile("alpha", profileConfig(gateway.port + 1, "good", { chatCompletions: false }));
    assert.equal((await world.run(["init"])).code, 0);
    // Fault 3: a token file others can read. Fault 4: an ssh node with no known host key.
    tokenFile = join(world.home, "cloud.token");
    await writeFile(tokenFile, "t", { mode: 0o644 });
    const add = await world.run([
      "nodes",
      "add",
      "cloud",
      "--machine",
      "vm",
      "--port",
      "18789",
      "--token-file",
      tokenFile,
      "--ssh",
      "me@cloud.example:2222",
    ]);
    assert.equal(add.code, 0, add.stderr);
    // Which known_hosts to use is this machine's own setting, kept in its federation.json.
    await editConfig(world, (c) => {
      c.ssh = { cloud: { knownHosts: join(world.home, "no_known_hosts") } };
    });
    // Fault 5: a quarantined file. Fault 6: a stale lease (claimed long ago, never renewed).
    await mkdir(join(world.blackboard, "quarantine"), { recursive: true });
    await writeFile(join(world.blackboard, "quarantine", "2026-bad.json"), "{");
    await mkdir(join(world.blackboard, "claimed", "hub"), { recursive: true });
    const claimed = join(world.blackboard, "claimed", "hub", "req_20260101_000000_abcdef01.json");
    await writeFile(claimed, "{}");
    const old = new Date(Date.now() - 3_600_000);
    await utimes(claimed, old, old);
  });
  after(async () => {
    await gateway.close();
    await world.cleanup();
  });

  test("every fault is reported with a fix, and the exit code says so", async () => {
    // An `openclaw` on PATH, whatever this machine has: the fix for a down gateway is its command.
    const bin = join(world.home, "fake-bin");
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, "openclaw"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const r = await world.run(["doctor", "--json"], { env: { PATH: bin } });
    assert.equal(r.code, 1, r.stderr);
    const checks = JSON.parse(r.stdout) as Check[];
    const find = (area: string, pattern: RegExp) => {
      const c = checks.find((x) => x.area === area && pattern.test(x.message));
      assert.ok(
        c,
        `${area} ${pattern} not in:\n${checks.map((x) => `${x.level} ${x.area} ${x.message}`).join("\n")}`,
      );
      assert.notEqual(c.level, "ok");
      assert.ok(c.fix, `no fix for ${c.message}`);
      return c;
    };
    assert.match(
      find("openclaw", /alpha: chat completions are off/).fix!,
      /openclaw --profile alpha config set gateway\.http\.endpoints\.chatCompletions\.enabled true/,
    );
    assert.match(
      find("ports", /alpha \(\d+\) and hub \(\d+\) are 1 port apart; OpenClaw needs 120/).fix!,
      /move alpha away from hub: openclaw --profile alpha config set gateway\.port \d+, restart that gateway, then clawos init/,
    );
    assert.match(find("tokens", /cloud: token file .* has mode 644/).fix!, /chmod 600/);
    assert.match(
      find("ssh", /cloud: no host key for cloud\.example:2222/).fix!,
      /ssh-keyscan -p 2222 cloud\.example/,
    );
    find("blackboard", /1 malformed file was set aside/);
    assert.match(find("blackboard", /1 claimed task has not renewed its lease/).fix!, /--coordinator/);
    // The records status marks with "!" are named here too, each with what moves them aside.
    assert.match(
      find("blackboard", /claimed\/hub\/req_20260101_000000_abcdef01[^ ]*: /).fix!,
      /moves malformed files to quarantine/,
    );
    assert.match(find("nodes", /alpha: unreachable/).fix!, /openclaw --profile alpha gateway run/);
    assert.ok(checks.some((c) => c.area === "nodes" && c.level === "ok" && /hub: online/.test(c.message)));
  });

  test("the text form is one line per finding, fixes indented", async () => {
    const r = await world.run(["doctor"]);
    assert.match(r.stdout, /^FAIL {2}tokens\s+cloud: token file/m);
    assert.match(r.stdout, /^\s+fix: chmod 600 /m);
    assert.match(r.stdout, /\d+ problems?, \d+ warnings?\./);
  });

  test("status shows a token file others can read on every run, until it is fixed", async () => {
    const r = await world.run(["status"]);
    assert.match(
      r.stdout,
      /! cloud: token file .*cloud\.token has mode 644, so others can read it \(chmod 600 it, or clawos doctor --fix\)/,
    );
    assert.ok(!r.stdout.includes("\nt\n") && !r.stderr.includes("cloud.token: t"), "never the token itself");
  });

  test("--fix repairs the token file mode, and only that", async () => {
    const r = await world.run(["doctor", "--fix", "--json"]);
    const checks = JSON.parse(r.stdout) as Check[];
    assert.ok(checks.some((c) => c.area === "tokens" && c.fixed));
    assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
    assert.ok(
      checks.some((c) => c.area === "openclaw" && c.level === "fail"),
      "profile configs are not edited",
    );
    assert.doesNotMatch((await world.run(["status"])).stdout, /others can read it/, "the line goes away");
  });
});
