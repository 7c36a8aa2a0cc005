import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeWorld, type World } from "../testkit/cli-harness.js";
import { installFakeOpenclaw } from "../testkit/fake-openclaw.js";
import { processAlive } from "../testkit/process.js";
import { freePort } from "../testkit/sshd.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // gone already
  }
}

describe("clawos nodes start|stop|restart|remove against real gateway processes", () => {
  let world: World;
  let env: NodeJS.ProcessEnv;
  let hand: StubGateway;
  const ports: Record<string, number> = {};
  const taken: number[] = [];
  /** Free, and 120 from every port handed out here: incubate keeps OpenClaw's spacing between gateways. */
  const spacedPort = async () => {
    let port: number;
    do port = await freePort();
    while (taken.some((p) => Math.abs(p - port) < 120));
    taken.push(port);
    return port;
  };
  const pidOf = async (id: string) =>
    Number((await readFile(join(world.clawosHome, "run", `${id}.gateway.pid`), "utf8")).trim());

  before(async () => {
    world = await makeWorld();
    const bin = join(world.home, "fakebin");
    await installFakeOpenclaw(bin);
    env = { PATH: `${bin}:${process.env.PATH}` };
    for (const id of ["beta", "gamma", "delta"]) {
      ports[id] = await spacedPort();
      const inc = await world.run(["incubate", id, "--port", String(ports[id])], { env });
      assert.equal(inc.code, 0, inc.stderr);
    }
    // Its port is spaced too: the nodes incubated later (omega, kappa…) keep 120 from it.
    hand = await startStubGateway({ token: "hand-token", port: await spacedPort() });
    const add = await world.run(["nodes", "add", "hand", "--port", String(hand.port), "--no-token"]);
    assert.equal(add.code, 0, add.stderr);
  });
  after(async () => {
    // gamma runs as a (stand-in) OpenClaw service: clawos's cleanup does not know it.
    await world.run(["nodes", "stop", "gamma"], { env });
    await hand.close();
    await world.cleanup();
  });

  test("a gateway clawos runs: start, start again, restart, stop, stop again", async () => {
    const start = await world.run(["nodes", "start", "beta", "--ready-timeout", "60"], { env });
    assert.equal(start.code, 0, start.stderr);
    assert.match(
      start.stdout,
      /Started the gateway of beta under clawos \(pid \d+\); its log is ~\/\.openclaw\/clawos\/logs\/beta-gateway\.log\./,
    );
    const first = await pidOf("beta");
    assert.ok(processAlive(first));
    assert.ok(await listening(ports.beta!));
    const answer = await world.run(["dispatch", "hello", "--to", "beta", "--wait"], { env });
    assert.equal(answer.code, 0, answer.stderr);
    assert.match(answer.stdout, /incubated node says hi/);

    const again = await world.run(["nodes", "start", "beta"], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`already running \\(run by clawos, pid ${first}\\)`));

    const restart = await world.run(["nodes", "restart", "beta", "--ready-timeout", "60"], { env });
    assert.equal(restart.code, 0, restart.stderr);
    assert.match(restart.stdout, new RegExp(`Stopped the gateway of beta \\(pid ${first}, run by clawos\\)`));
    assert.match(restart.stdout, /Started the gateway of beta under clawos/);
    const second = await pidOf("beta");
    assert.notEqual(second, first);
    assert.equal(processAlive(first), false, "the first gateway is gone");
    assert.ok(await listening(ports.beta!));

    const stop = await world.run(["nodes", "stop", "beta"], { env });
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`Stopped the gateway of beta \\(pid ${second}, run by clawos\\)`));
    assert.equal(processAlive(second), false);
    assert.equal(await listening(ports.beta!), false);
    await assert.rejects(stat(join(world.clawosHome, "run", "beta.gateway.pid")));

    const stopAgain = await world.run(["nodes", "stop", "beta"], { env });
    assert.equal(stopAgain.code, 0, stopAgain.stderr);
    assert.match(stopAgain.stdout, /The gateway of beta is not running\./);
  });

  test("a gateway that runs as an OpenClaw service is stopped and started through openclaw's own commands", async () => {
    const { runProcess } = await import("../testkit/process.js");
    const install = await runProcess("openclaw", ["--profile", "gamma", "gateway", "install"], {
      env: { ...world.env, ...env },
      timeoutMs: 30_000,
    });
    assert.equal(install.code, 0, install.stderr);
    const deadline = Date.now() + 20_000;
    while (!(await listening(ports.gamma!)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));

    const stop = await world.run(["nodes", "stop", "gamma"], { env });
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /through its OpenClaw service \(openclaw --profile gamma gateway stop\)/);
    assert.equal(await listening(ports.gamma!), false);

    const start = await world.run(["nodes", "start", "gamma", "--ready-timeout", "60"], { env });
    assert.equal(start.code, 0, start.stderr);
    assert.match(
      start.stdout,
      /Started the gateway of gamma through its OpenClaw service \(openclaw --profile gamma gateway start\)/,
    );
    assert.ok(await listening(ports.gamma!));
    await assert.rejects(
      stat(join(world.clawosHome, "run", "gamma.gateway.pid")),
      "clawos keeps no pid of a service",
    );
  });

  test("a gateway started by hand is named as such, with what to do", async () => {
    const stop = await world.run(["nodes", "stop", "hand"], { env });
    assert.notEqual(stop.code, 0);
    assert.match(
      stop.stderr,
      /started by hand: neither clawos nor an OpenClaw service runs it, so clawos cannot stop it/,
    );
    assert.match(stop.stderr, /Ctrl\+C in its terminal.*clawos nodes start hand/);
    assert.doesNotMatch(stop.stderr, /\n\s+at /, "no stack trace");
    assert.ok(await listening(hand.port), "left alone");
  });

  test("another machine's node: the fix says where to run it", async () => {
    const add = await world.run(["nodes", "add", "far", "--machine", "elsewhere", "--port", "18789"]);
    assert.equal(add.code, 0, add.stderr);
    const stop = await world.run(["nodes", "restart", "far"], { env });
    assert.notEqual(stop.code, 0);
    assert.match(stop.stderr, /Node far runs on machine elsewhere, not on this one \(hub\)/);
    assert.match(stop.stderr, /run it there: clawos nodes restart far/);
  });

  test("nodes remove asks about a running gateway; --keep-running and --stop answer for scripts", async () => {
    assert.equal((await world.run(["nodes", "start", "beta", "--ready-timeout", "60"], { env })).code, 0);
    const pid = await pidOf("beta");

    const unanswered = await world.run(["nodes", "remove", "beta"], { env });
    assert.notEqual(unanswered.code, 0);
    assert.match(
      unanswered.stderr,
      /The gateway of beta is running \(run by clawos\); say what happens to it/,
    );
    assert.match(unanswered.stderr, /clawos nodes remove beta --stop \(or --keep-running\)/);
    assert.match(
      (await world.run(["nodes", "list", "--json"], { env })).stdout,
      /"id": "beta"/,
      "still registered",
    );

    const kept = await world.run(["nodes", "remove", "beta", "--keep-running"], { env });
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, /Removed node beta\./);
    assert.match(
      kept.stderr,
      new RegExp(`the gateway of beta keeps running on port \\d+; stop it with kill ${pid}$`, "m"),
    );
    assert.ok(processAlive(pid));
    killGroup(pid);

    assert.equal((await world.run(["nodes", "start", "delta", "--ready-timeout", "60"], { env })).code, 0);
    const deltaPid = await pidOf("delta");
    const stopped = await world.run(["nodes", "remove", "delta", "--stop"], { env });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /Stopped the gateway of delta .*\nRemoved node delta\./);
    assert.equal(processAlive(deltaPid), false);
    assert.ok(
      (await stat(join(world.home, ".openclaw-delta"))).isDirectory(),
      "no --purge: the profile stays",
    );
  });

  test("--purge names what goes, wants a yes, and moves the profile aside", async () => {
    const add = await world.run(["incubate", "omega", "--port", String(await spacedPort())], { env });
    assert.equal(add.code, 0, add.stderr);
    assert.equal((await world.run(["nodes", "start", "omega", "--ready-timeout", "60"], { env })).code, 0);
    const pid = await pidOf("omega");

    const unconfirmed = await world.run(["nodes", "remove", "omega", "--purge"], { env });
    assert.notEqual(unconfirmed.code, 0);
    assert.match(
      unconfirmed.stderr,
      /--purge: ~\/\.openclaw-omega \(\d+ files, [\d.]+ [KM]B: config and gateway token, sessions, memory and auth profiles, workspace\) moves aside to ~\/\.openclaw-omega\.removed-\d{8}T\d{6}\. Confirm with --yes\./,
    );
    assert.ok(processAlive(pid), "nothing changed");

    const purged = await world.run(["nodes", "remove", "omega", "--purge", "--yes"], { env });
    assert.equal(purged.code, 0, purged.stderr);
    assert.match(purged.stdout, /Stopped the gateway of omega/);
    assert.match(purged.stdout, /Moved ~\/\.openclaw-omega \(.*\) aside to ~\/\.openclaw-omega\.removed-/);
    assert.equal(processAlive(pid), false);
    const names = await readdir(world.home);
    assert.ok(!names.includes(".openclaw-omega"));
    const aside = names.find((n) => n.startsWith(".openclaw-omega.removed-"));
    assert.ok(aside, names.join(", "));
    assert.ok((await stat(join(world.home, aside, "openclaw.json"))).isFile(), "renamed, not deleted");
  });

  test("the control center's remove (the federation's removeNode): stops the gateway, removes, purges", async () => {
    const { LiveFederation } = await import("../../source/core/federation/live-federation.js");
    const add = await world.run(["incubate", "kappa", "--port", String(await spacedPort())], { env });
    assert.equal(add.code, 0, add.stderr);
    assert.equal((await world.run(["nodes", "start", "kappa", "--ready-timeout", "60"], { env })).code, 0);
    const pid = await pidOf("kappa");
    const live = await LiveFederation.open(world.clawosHome, { ...world.env, ...env });
    try {
      const lines = await live.removeNode("kappa", { stop: true, purge: true });
      assert.match(
        lines[0] ?? "",
        new RegExp(`Stopped the gateway of kappa \\(pid ${pid}, run by clawos\\)`),
      );
      assert.equal(lines[1], "Removed node kappa.");
      assert.match(
        lines[2] ?? "",
        /Moved ~\/\.openclaw-kappa aside to ~\/\.openclaw-kappa\.removed-\d{8}T\d{6}\./,
      );
      assert.ok(!live.getSnapshot().nodes.some((n) => n.id === "kappa"), "gone from the snapshot");
    } finally {
      await live.close();
    }
    assert.equal(processAlive(pid), false);
  });

  test("--purge never takes the default profile", async () => {
    await world.writeProfile(null, `{ gateway: { port: ${await freePort()}, auth: { token: "t" } } }`);
    const add = await world.run(["nodes", "add", "main", "--port", String(await freePort())], { env });
    assert.equal(add.code, 0, add.stderr);
    const purge = await world.run(["nodes", "remove", "main", "--purge", "--yes"], { env });
    assert.notEqual(purge.code, 0);
    assert.match(purge.stderr, /uses the default profile ~\/\.openclaw, which also holds clawos's own files/);
    assert.match((await world.run(["nodes", "list", "--json"], { env })).stdout, /"id": "main"/);
  });
});
