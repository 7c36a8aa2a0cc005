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
  test("the first base port 120 away from every known gateway (OpenClaw's multiple-gateways rule)", () => {
    assert.equal(pickBasePort([]), 18789);
    // 18909 is only 119 from the seed's 18790.
    assert.equal(pickBasePort([18789, 18790]), 19029);
    assert.equal(
      pickBasePort([18789], (p) => p !== 18909),
      19029,
    );
    assert.equal(pickBasePort([18789, 18950]), 19149);
  });
  test("existing overlaps are named, with the exact commands that move one", () => {
    const overlaps = portOverlaps([
      { id: "main", port: 18789, profile: null },
      { id: "alpha", port: 18790, profile: "alpha" },
      { id: "beta", port: 19029, profile: "beta" },
    ]);
    assert.equal(overlaps.length, 1);
    assert.match(
      overlaps[0]!.text,
      /main \(18789\) and alpha \(18790\) are 1 port apart; OpenClaw needs 120/,
    );
    // alpha moves (not the default profile), to a port clear of main and beta.
    assert.match(overlaps[0]!.fix, /openclaw --profile alpha config set gateway\.port 18909, .*clawos init/);
    assert.equal(
      portOverlaps([
        { id: "a", port: 18789 },
        { id: "b", port: 18909 },
      ]).length,
      0,
    );
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

  test("init and doctor flag the seed's 18789/18790 with the exact commands to move one", async () => {
    const init = await world.run(["init"]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(
      init.stdout,
      /warning: alpha \(18790\) and hub \(18789\) are 1 port apart; OpenClaw needs 120/,
    );
    assert.match(
      init.stdout,
      /fix: move alpha away from hub: openclaw --profile alpha config set gateway\.port 18909/,
    );
    const doctor = await world.run(["doctor", "--json"]);
    const checks = JSON.parse(doctor.stdout) as {
      area: string;
      level: string;
      message: string;
      fix?: string;
    }[];
    const ports = checks.find((c) => c.area === "ports");
    assert.equal(ports?.level, "warn", doctor.stdout);
    assert.match(ports.message, /alpha \(18790\) and hub \(18789\) are 1 port apart/);
    assert.equal(
      ports.fix,
      "move alpha away from hub: openclaw --profile alpha config set gateway.port 18909, restart that gateway, then clawos init (it follows the new port)",
    );
  });

  test("incubate --start creates, starts, checks and registers a node that answers", async () => {
    const r = await world.run(["incubate", "beta", "--start", "--ready-timeout", "60"], { env: fakeEnv });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /warning: existing alpha \(18790\) and hub \(18789\) are 1 port apart; OpenClaw needs 120 .*openclaw --profile alpha config set gateway\.port 18909/,
    );
    assert.match(r.stderr, /\[1\/7\] Check the name and pick a port/);
    assert.match(
      r.stdout,
      /Node beta is ready on 127\.0\.0\.1:(\d+): it answered a first turn in [\d.]+ m?s\./,
    );
    assert.match(r.stdout, /Gateway log: \/tmp\/openclaw\/openclaw-beta-\d{4}-\d{2}-\d{2}\.log/);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(r.stdout)?.[1]);
    assert.ok(Math.abs(port - 18790) >= 120 && Math.abs(port - 18789) >= 120, `port ${port}`);

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

  test("a planned node (port TBD) is incubated in its place, keeping its notes and tags", async () => {
    const plan = await world.run([
      "nodes",
      "add",
      "zeta",
      "--planned",
      "--tag",
      "gpu",
      "--notes",
      "a VM later",
    ]);
    assert.equal(plan.code, 0, plan.stderr);
    const r = await world.run(["incubate", "zeta", "--config-only"]);
    assert.equal(r.code, 0, r.stderr);
    const nodes = JSON.parse((await world.run(["nodes", "list", "--json"])).stdout) as {
      id: string;
      port: number | null;
      tags: string[];
      notes?: string;
    }[];
    const zeta = nodes.filter((n) => n.id === "zeta");
    assert.equal(zeta.length, 1, "one node, not the planned one beside a new one");
    assert.ok(zeta[0]!.port, "it has its port now");
    assert.deepEqual(zeta[0]!.tags, ["gpu"]);
    assert.match(zeta[0]!.notes ?? "", /a VM later/);
    const again = await world.run(["incubate", "zeta", "--config-only"]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists/);
  });

  test("a node that starts but cannot answer is kept as misconfigured: no model, with the fix and its log", async () => {
    const r = await world.run(["incubate", "mute", "--start", "--ready-timeout", "60"], {
      env: { ...fakeEnv, FAKE_OPENCLAW_MODE: "no-model-auth" },
    });
    const pidFile = join(world.clawosHome, "run", "mute.gateway.pid");
    try {
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /warning: mute gets no model: no profile here names one in agents\.defaults\.model\./,
      );
      assert.match(
        r.stdout,
        /Node mute runs on 127\.0\.0\.1:\d+ but cannot answer yet: it is kept as misconfigured: no model\./,
      );
      assert.match(
        r.stdout,
        /fix: Give it a key: openclaw --profile mute models auth paste-api-key --provider openai/,
      );
      assert.match(r.stdout, /Gateway log: \/tmp\/openclaw\/openclaw-mute-\d{4}-\d{2}-\d{2}\.log/);
      assert.match(r.stdout, /clawos nodes probe --turn mute/);
      const list = await world.run(["nodes", "list", "--json"]);
      const nodes = JSON.parse(list.stdout) as { id: string; status: string; reason: string }[];
      assert.equal(nodes.find((n) => n.id === "mute")?.status, "misconfigured", list.stdout);
    } finally {
      const pid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
      if (pid) process.kill(-pid, "SIGTERM");
    }
  });

  test("--config-only writes the profile directly (mode 0600) without openclaw", async () => {
    // No openclaw on this PATH, whatever this machine has installed.
    const r = await world.run(["incubate", "gamma", "--config-only", "--set", "discovery.mdns.mode=off"], {
      env: { PATH: join(world.home, "no-bin") },
    });
    assert.equal(r.code, 0, r.stderr);
    const file = join(world.home, ".openclaw-gamma", "openclaw.json");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const config = JSON.parse(await readFile(file, "utf8"));
    assert.equal(config.gateway.http.endpoints.chatCompletions.enabled, true);
    assert.equal(config.discovery.mdns.mode, "off");
    // The next step named is one that works here.
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
      if (Math.abs(taken - 18789) >= 120 && Math.abs(taken - 18790) >= 120) {
        assert.equal(r.code, 2);
        assert.match(r.stderr, new RegExp(`Port ${taken} is already taken`));
      }
      assert.deepEqual(await snapshot(), before);
      // 100 above the seed's 18790: outside the old 20-port rule, inside OpenClaw's CDP range.
      const close = await world.run(["incubate", "delta", "--port", "18890"], { env: fakeEnv });
      assert.equal(close.code, 2);
      assert.match(close.stderr, /Port 18890 is only 100 ports away from alpha \(18790\)/);
      assert.match(close.stderr, /OpenClaw needs 120 ports between instances: use --port \d+/);
      assert.deepEqual(await snapshot(), before);
    } finally {
      blocker.close();
    }
  });
});
