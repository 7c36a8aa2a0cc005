import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pickBasePort, portOverlaps } from "../../source/core/ops/gateway-ports.js";
import { makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { installFakeOpenclaw } from "../testkit/fake-openclaw.js";

async function tree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.name === "clawos-blackboard" || entry.name === "logs" || entry.name === "run") continue;
    out.push(`${prefix}${entry.name}`);
    if (entry.isDirectory()) out.push(...(await tree(join(dir, entry.name), `${prefix}${entry.name}/`)));
  }
  return out.sort();
}

describe("port picking", () => {
  test("the first base port 20 away from every known gateway", () => {
    assert.equal(pickBasePort([]), 18789);
    assert.equal(pickBasePort([18789, 18790]), 18829);
    assert.equal(
      pickBasePort([18789], (p) => p !== 18809),
      18829,
    );
  });
  test("existing overlaps are named", () => {
    const warnings = portOverlaps([
      { id: "main", port: 18789 },
      { id: "alpha", port: 18790 },
      { id: "beta", port: 18829 },
    ]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /main \(18789\) and alpha \(18790\) are only 1 ports apart/);
  });
});

describe("clawos incubate", () => {
  let world: World;
  let fakeEnv: NodeJS.ProcessEnv;

  before(async () => {
    world = await makeWorld();
    const bin = join(world.home, "fakebin");
    await installFakeOpenclaw(bin);
    fakeEnv = { PATH: `${bin}:${process.env.PATH}` };
    // The seed's pair: main on 18789 and alpha on 18790 (too close) — nothing listens there.
    await world.writeProfile(null, profileConfig(18789, "main-token"));
    await world.writeProfile("alpha", profileConfig(18790, "alpha-token"));
    assert.equal((await world.run(["init"])).code, 0);
  });
  after(async () => {
    await world.run(["nodes", "list"]); // nothing to stop: started gateways are stopped by their tests
    await world.cleanup();
  });

  const snapshot = async () => ({
    files: await tree(world.home),
    config: await readFile(join(world.clawosHome, "federation.json"), "utf8"),
  });

  test("incubate --start creates, starts, checks and registers a node that answers", async () => {
    const r = await world.run(["incubate", "beta", "--start", "--ready-timeout", "60"], { env: fakeEnv });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: existing main \(18789\) and alpha \(18790\) are only 1 ports apart/);
    assert.match(r.stderr, /\[1\/6\] Check the name and pick a port/);
    assert.match(r.stdout, /Node beta is ready on 127\.0\.0\.1:(\d+) and running/);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(r.stdout)?.[1]);
    assert.ok(Math.abs(port - 18790) >= 20 && Math.abs(port - 18789) >= 20, `port ${port}`);

    const tokenFile = join(world.clawosHome, "tokens", "beta.token");
    assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
    const token = (await readFile(tokenFile, "utf8")).trim();
    assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token), "the token is never printed");
    const profile = JSON.parse(await readFile(join(world.home, ".openclaw-beta", "openclaw.json"), "utf8"));
    assert.equal(profile.gateway.http.endpoints.chatCompletions.enabled, true);

    const d = await world.run(["dispatch", "hello newborn", "--to", "beta", "--wait"]);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout.trim(), "incubated node says hi");

    const pid = Number((await readFile(join(world.clawosHome, "run", "beta.gateway.pid"), "utf8")).trim());
    process.kill(-pid, "SIGTERM");
  });

  test("--config-only writes the profile directly (mode 0600) without openclaw", async () => {
    const r = await world.run(["incubate", "gamma", "--config-only", "--set", "discovery.mdns.mode=off"]);
    assert.equal(r.code, 0, r.stderr);
    const file = join(world.home, ".openclaw-gamma", "openclaw.json");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const config = JSON.parse(await readFile(file, "utf8"));
    assert.equal(config.gateway.http.endpoints.chatCompletions.enabled, true);
    assert.equal(config.discovery.mdns.mode, "off");
    // No openclaw on this PATH: the next step named is one that works here.
    assert.match(r.stdout, /OpenClaw is not installed here: .*npm run demo:gateway -- gamma/);
    assert.doesNotMatch(r.stdout, /Start it with: openclaw/);
    const nodes = JSON.parse((await world.run(["nodes", "list", "--json"])).stdout) as { id: string }[];
    assert.ok(nodes.some((n) => n.id === "gamma"));
    const withOpenclaw = await world.run(["incubate", "gamma-two", "--config-only"], { env: fakeEnv });
    assert.equal(withOpenclaw.code, 0, withOpenclaw.stderr);
    assert.match(withOpenclaw.stdout, /Start it with: openclaw --profile gamma-two gateway run/);
    assert.equal((await world.run(["nodes", "remove", "gamma-two"])).code, 0);
  });

  test("one incubation at a time: refused while another holds the lock; a lock left by a dead process is taken over", async () => {
    const lock = join(world.clawosHome, "run", "incubate.lock");
    await mkdir(dirname(lock), { recursive: true });
    await writeFile(lock, `${process.pid}\n`); // this test runner: alive
    const before = await snapshot();
    const busy = await world.run(["incubate", "epsilon", "--config-only"]);
    assert.equal(busy.code, 2, busy.stderr);
    assert.match(
      busy.stderr,
      new RegExp(`Another clawos incubate \\(pid ${process.pid}\\) is creating a node`),
    );
    assert.deepEqual(await snapshot(), before);

    const gone = spawn(process.execPath, ["-e", "0"]);
    await once(gone, "exit");
    await writeFile(lock, `${gone.pid}\n`);
    const r = await world.run(["incubate", "epsilon", "--config-only"]);
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(stat(lock), /ENOENT/);
  });

  const failures: [string, string[], NodeJS.ProcessEnv | undefined, RegExp][] = [
    [
      "openclaw missing",
      ["incubate", "delta", "--start"],
      { PATH: process.env.PATH },
      /openclaw is not on PATH/,
    ],
    [
      "onboard fails",
      ["incubate", "delta"],
      { FAKE_OPENCLAW_MODE: "onboard-fails" },
      /openclaw onboard failed \(exit 1\)/,
    ],
    [
      "gateway never ready",
      ["incubate", "delta", "--start", "--ready-timeout", "2"],
      { FAKE_OPENCLAW_MODE: "never-ready" },
      /not ready after 2 s/,
    ],
    ["bad name", ["incubate", "../etc"], undefined, /cannot be a node and profile name/],
    ["existing node", ["incubate", "alpha"], undefined, /Node "alpha" already exists|already exists/],
  ];
  for (const [what, args, env, message] of failures) {
    test(`failure — ${what}: a clear message, and disk and registry as they were`, async () => {
      const before = await snapshot();
      const r = await world.run(args, { env: { ...fakeEnv, ...env } });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.deepEqual(await snapshot(), before);
    });
  }

  test("failure — port taken or too close: refused before anything is made", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const before = await snapshot();
      const r = await world.run(["incubate", "delta", "--port", String(taken)], { env: fakeEnv });
      if (Math.abs(taken - 18789) >= 20 && Math.abs(taken - 18790) >= 20) {
        assert.equal(r.code, 2);
        assert.match(r.stderr, new RegExp(`Port ${taken} is already taken`));
      }
      assert.deepEqual(await snapshot(), before);
      const close = await world.run(["incubate", "delta", "--port", "18795"], { env: fakeEnv });
      assert.equal(close.code, 2);
      assert.match(close.stderr, /only \d+ away from/);
      assert.deepEqual(await snapshot(), before);
    } finally {
      blocker.close();
    }
  });
});
