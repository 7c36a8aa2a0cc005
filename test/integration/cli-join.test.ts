/**
 * The shared registry across machines, through the real CLI: each world is a machine with its own
 * home, and both use one blackboard (a directory here, a real nats-server below).
 */
import assert from "node:assert/strict";
import { chmod, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { editConfig, makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";
import { type NatsServer, startNatsServer } from "./blackboard/nats-fixture.js";

type StatusNode = { id: string; status: string; transport: string; machine: string; reason: string };
const statusOf = async (world: World) => {
  const r = await world.run(["status", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { nodes: StatusNode[] }).nodes;
};
const ids = (nodes: StatusNode[]) => nodes.map((n) => n.id).sort();

/** A machine named `machine` with a default OpenClaw profile whose gateway is `gateway`. */
async function machineWorld(machine: string, gateway: StubGateway, token: string): Promise<World> {
  const world = await makeWorld();
  world.env.CLAWOS_MACHINE = machine;
  await world.writeProfile(null, profileConfig(gateway.port, token));
  return world;
}

describe("clawos join on a shared directory blackboard", () => {
  let hubGateway: StubGateway;
  let airGateway: StubGateway;
  let hub: World;
  let air: World;
  let stranger: World | undefined;

  before(async () => {
    hubGateway = await startStubGateway({ token: "hub-secret", reply: (p) => `hub did: ${p}` });
    airGateway = await startStubGateway({ token: "air-secret", reply: (p) => `air did: ${p}` });
    hub = await machineWorld("mac-mini", hubGateway, "hub-secret");
    air = await machineWorld("laptop-before-join", airGateway, "air-secret");
  });
  after(async () => {
    await Promise.all([hub.cleanup(), air.cleanup(), stranger?.cleanup()]);
    await Promise.all([hubGateway.close(), airGateway.close()]);
  });

  test("init names the default profile after the machine and prints the exact join command", async () => {
    const r = await hub.run(["init"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /~\/\.openclaw: registered as node mac-mini on port \d+/);
    const lines = r.stdout.split("\n");
    const at = lines.indexOf("Next machine: run this there, as one line:");
    assert.ok(at >= 0, r.stdout);
    assert.equal(
      lines[at + 1],
      `  clawos join --as NAME --blackboard ${hub.blackboard} --coordinator mac-mini`,
    );
    assert.equal((await hub.run(["nodes", "add", "cloud-node", "--planned", "--machine", "cloud"])).code, 0);
  });

  test("a second machine joins in one command, registers its profile and sees the whole federation", async () => {
    const r = await air.run([
      "join",
      "--as",
      "macbook-air",
      "--blackboard",
      hub.blackboard,
      "--coordinator",
      "mac-mini",
      "--no-worker",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Joined as macbook-air/);
    assert.match(r.stdout, /registered as node macbook-air on port/);
    assert.match(r.stdout, /Machines: cloud, mac-mini, macbook-air/);
    for (const id of ["mac-mini", "macbook-air", "cloud-node"])
      assert.match(r.stdout, new RegExp(`^${id} `, "m"));
    const config = JSON.parse(await readFile(join(air.clawosHome, "federation.json"), "utf8"));
    assert.equal(config.machine, "macbook-air");
    assert.deepEqual(config.blackboard, {
      driver: "directory",
      path: hub.blackboard,
      coordinator: "mac-mini",
    });

    // The hub sees the laptop's node, reached through the blackboard, and the laptop the hub's.
    const seenByHub = await statusOf(hub);
    assert.deepEqual(ids(seenByHub), ["cloud-node", "mac-mini", "macbook-air"]);
    assert.equal(seenByHub.find((n) => n.id === "macbook-air")?.transport, "blackboard");
    assert.equal((await statusOf(air)).find((n) => n.id === "mac-mini")?.transport, "blackboard");
  });

  test("a task dispatched on the hub runs on the laptop's worker", async () => {
    const worker = air.spawn(["node", "run", "--no-coordinator"]);
    try {
      await worker.waitFor("worker started on macbook-air: serving macbook-air");
      const r = await hub.run(["dispatch", "sum it up", "--to", "macbook-air", "--wait"]);
      assert.equal(r.code, 0, r.stderr);
      const id = /(req_\S+)/.exec(r.stderr)?.[1] ?? "";
      const shown = await hub.run(["tasks", "show", id, "--json"]);
      assert.equal(r.stdout.trim(), "air did: sum it up", `${r.stderr}\n${shown.stdout}\n${worker.output()}`);
      const history = (JSON.parse(shown.stdout) as { history: { event: string; detail: string }[] }).history;
      assert.deepEqual(
        history.map((h) => h.event),
        ["routed", "claimed", "started", "completed"],
      );
      assert.match(history[1]!.detail, /^attempt 1 by the worker on macbook-air \(pid \d+\)$/);
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
  });

  test("--ssh names how the others reach the laptop; the hub keeps its token for it with nodes access", async () => {
    const joinAir = (ssh: string) =>
      air.run(["join", "--as", "macbook-air", "--blackboard", hub.blackboard, "--no-worker", "--ssh", ssh]);
    const bad = await joinAir("not a target");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--ssh "not a target" is not an SSH target/);
    const r = await joinAir("me@100.64.0.2:2222");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SSH: urgent tasks reach macbook-air at me@100\.64\.0\.2:2222/);
    assert.match(
      r.stdout,
      /^ {2}On each machine that sends them, .*: clawos nodes access macbook-air --token-file FILE$/m,
    );

    const tokenFile = join(hub.home, "air.token");
    await writeFile(tokenFile, "air-secret", { mode: 0o644 });
    const loose = await hub.run(["nodes", "access", "macbook-air", "--token-file", tokenFile]);
    assert.equal(loose.code, 2);
    assert.match(loose.stderr, /can be read by others \(mode 644\)/);
    await chmod(tokenFile, 0o600);
    const access = await hub.run([
      "nodes",
      "access",
      "macbook-air",
      "--token-file",
      tokenFile,
      "--identity-file",
      "~/.ssh/id_lab",
    ]);
    assert.equal(access.code, 0, access.stderr);
    assert.match(access.stdout, new RegExp(`token: from the file ${tokenFile}`));
    assert.match(access.stdout, new RegExp(`ssh: +me@100\\.64\\.0\\.2:2222, key ${hub.home}/\\.ssh/id_lab`));
    const config = JSON.parse(await readFile(join(hub.clawosHome, "federation.json"), "utf8"));
    assert.deepEqual(config.tokens["macbook-air"], { file: tokenFile });
    assert.deepEqual(config.ssh["macbook-air"], { identityFile: join(hub.home, ".ssh", "id_lab") });
    // The laptop's record holds the target; the hub's token and key stay on the hub.
    const record = await readFile(
      join(hub.blackboard, "registry", "macbook-air", "macbook-air.json"),
      "utf8",
    );
    assert.deepEqual(JSON.parse(record).node.ssh, { target: "me@100.64.0.2:2222" });
    assert.doesNotMatch(record, /air-secret|id_lab|air\.token/);
  });

  test("joining again elsewhere is refused without --force, and a blackboard that is not there is named", async () => {
    const other = await air.run(["join", "--as", "macbook-air", "--blackboard", air.home, "--no-worker"]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /already belongs to a federation \(machine macbook-air/);
    assert.match(other.stderr, /--force/);
    const missing = await air.run(["join", "--as", "x", "--blackboard", join(air.home, "nope"), "--force"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No blackboard at ~\/nope: there is no such folder/);
  });

  test("an id another machine holds is refused with the fix; a node is removed only by its owner", async () => {
    stranger = await makeWorld();
    stranger.env.CLAWOS_MACHINE = "stranger";
    await stranger.writeProfile("mac-mini", profileConfig(hubGateway.port + 200, "s"));
    const r = await stranger.run(["join", "--as", "stranger", "--blackboard", hub.blackboard, "--no-worker"]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stdout,
      /not registered — Node mac-mini is already registered by mac-mini \(on mac-mini\)/,
    );
    assert.match(r.stdout, /on mac-mini: clawos nodes remove mac-mini/);
    const add = await stranger.run(["nodes", "add", "macbook-air", "--port", "1234"]);
    assert.equal(add.code, 2);
    assert.match(add.stderr, /already registered by macbook-air/);
    const remove = await stranger.run(["nodes", "remove", "mac-mini"]);
    assert.equal(remove.code, 2);
    assert.match(remove.stderr, /Node mac-mini belongs to mac-mini: run this there/);
  });

  test("two machines claiming one id are shown as a conflict with the fix, never routed, and rename settles it", async () => {
    assert.equal((await hub.run(["nodes", "add", "shared", "--port", "3333", "--no-token"])).code, 0);
    // The laptop registered the same id before the folder synced: its record arrives as a sync tool writes it.
    const mine = JSON.parse(
      await readFile(join(hub.blackboard, "registry", "mac-mini", "shared.json"), "utf8"),
    );
    const theirs = {
      ...mine,
      owner: "macbook-air",
      node: { ...mine.node, machine: "macbook-air", port: 4444 },
    };
    await writeFile(join(hub.blackboard, "registry", "macbook-air", "shared.json"), JSON.stringify(theirs));
    const shown = (await statusOf(hub)).find((n) => n.id === "shared");
    assert.equal(shown?.status, "misconfigured");
    assert.match(
      shown?.reason ?? "",
      /claimed by mac-mini and macbook-air; fix on mac-mini: clawos nodes rename shared shared-mac-mini/,
    );
    const text = await air.run(["status", "--wide"]);
    assert.match(text.stdout, /on macbook-air: clawos nodes rename shared shared-macbook-air/);
    const dispatched = await hub.run(["dispatch", "hello", "--to", "shared"]);
    assert.equal(dispatched.code, 2);
    assert.match(dispatched.stderr, /claimed by mac-mini and macbook-air, so it takes no tasks/);
    const doctor = await hub.run(["doctor"]);
    assert.match(doctor.stdout, /shared: misconfigured[^\n]*\n[^\n]*on mac-mini: clawos nodes rename shared/);

    const renamed = await air.run(["nodes", "rename", "shared", "shared-air"]);
    assert.equal(renamed.code, 0, renamed.stderr);
    const after = await statusOf(hub);
    assert.equal(after.find((n) => n.id === "shared")?.machine, "mac-mini");
    assert.equal(after.find((n) => n.id === "shared-air")?.machine, "macbook-air");
    assert.equal(after.find((n) => n.id === "shared")?.status === "misconfigured", false);
  });

  test("a removed node leaves a tombstone: gone everywhere, and init does not bring it back unless asked", async () => {
    assert.equal((await hub.run(["nodes", "remove", "cloud-node"])).code, 0);
    // Its gateway is the test's stub: a script says what happens to it.
    assert.equal((await hub.run(["nodes", "remove", "mac-mini", "--keep-running"])).code, 0);
    assert.deepEqual(ids(await statusOf(air)), ["macbook-air", "shared", "shared-air"]);
    const tomb = JSON.parse(
      await readFile(join(hub.blackboard, "registry", "mac-mini", "mac-mini.json"), "utf8"),
    );
    assert.equal(tomb.state, "removed");
    assert.equal(tomb.generation, 2);
    const again = await hub.run(["init"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /node mac-mini was removed on this machine; clawos init --readd mac-mini/);
    assert.equal(
      (await statusOf(hub)).some((n) => n.id === "mac-mini"),
      false,
    );
    const readd = await hub.run(["init", "--readd", "mac-mini"]);
    assert.match(readd.stdout, /registered as node mac-mini/);
    const back = JSON.parse(
      await readFile(join(hub.blackboard, "registry", "mac-mini", "mac-mini.json"), "utf8"),
    );
    assert.deepEqual([back.state, back.generation], ["active", 3]);
  });
});

describe("upgrading a hand-written version-1 federation.json", () => {
  let hub: World;
  let air: World;
  const seed = (tokenFile: string) => ({
    version: 1,
    machine: "mac-mini",
    nodes: [
      { id: "mac-mini", machine: "mac-mini", port: 18789, token: { file: tokenFile } },
      {
        id: "macbook-air",
        machine: "macbook-air",
        port: 18789,
        token: { env: "AIR_TOKEN" },
        ssh: { target: "me@macbook-air", identityFile: "~/.ssh/air_key" },
      },
      { id: "cloud-node", machine: "mac-mini", port: null, notes: "port TBD" },
    ],
  });

  before(async () => {
    hub = await makeWorld();
    air = await makeWorld();
  });
  after(async () => {
    await Promise.all([hub.cleanup(), air.cleanup()]);
  });

  test("the seed's three nodes move to the registry, tokens and key paths stay, and it is said once", async () => {
    const { mkdir } = await import("node:fs/promises");
    await mkdir(hub.clawosHome, { recursive: true });
    await writeFile(join(hub.clawosHome, "federation.json"), JSON.stringify(seed("tokens/mac-mini.token")));
    const first = await hub.run(["status", "--json"]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stderr,
      /federation\.json: 3 nodes moved to the shared registry \(mac-mini, macbook-air, cloud-node\); tokens stay in this file/,
    );
    assert.deepEqual(ids(JSON.parse(first.stdout).nodes), ["cloud-node", "mac-mini", "macbook-air"]);
    const config = JSON.parse(await readFile(join(hub.clawosHome, "federation.json"), "utf8"));
    assert.equal(config.version, 2);
    assert.equal(config.nodes, undefined);
    assert.deepEqual(config.tokens, {
      "mac-mini": { file: "tokens/mac-mini.token" },
      "macbook-air": { env: "AIR_TOKEN" },
    });
    assert.deepEqual(config.ssh, { "macbook-air": { identityFile: "~/.ssh/air_key" } });
    const registry = join(hub.blackboard, "registry", "mac-mini");
    assert.deepEqual((await readdir(registry)).sort(), [
      "cloud-node.json",
      "mac-mini.json",
      "macbook-air.json",
    ]);
    const air0 = await readFile(join(registry, "macbook-air.json"), "utf8");
    assert.doesNotMatch(air0, /AIR_TOKEN|air_key|token/);
    assert.equal(JSON.parse(air0).node.ssh.target, "me@macbook-air");
    const second = await hub.run(["status"]);
    assert.doesNotMatch(second.stderr, /moved to the shared registry/);
  });

  test("two processes opening a version-1 home at once publish the same records and write the same file", async () => {
    const world = await makeWorld();
    try {
      const { mkdir } = await import("node:fs/promises");
      await mkdir(world.clawosHome, { recursive: true });
      await writeFile(join(world.clawosHome, "federation.json"), JSON.stringify(seed("t")));
      const runs = await Promise.all([1, 2, 3].map(() => world.run(["status", "--json"])));
      for (const r of runs) assert.equal(r.code, 0, r.stderr);
      for (const r of runs)
        assert.deepEqual(ids(JSON.parse(r.stdout).nodes), ["cloud-node", "mac-mini", "macbook-air"]);
      const config = JSON.parse(await readFile(join(world.clawosHome, "federation.json"), "utf8"));
      assert.equal(config.version, 2);
      assert.equal(config.nodes, undefined);
      for (const id of ["mac-mini", "macbook-air", "cloud-node"]) {
        const record = JSON.parse(
          await readFile(join(world.blackboard, "registry", "mac-mini", `${id}.json`), "utf8"),
        );
        assert.equal(record.generation, 1, `${id} was published once`);
      }
    } finally {
      await world.cleanup();
    }
  });

  test("the laptop named in the hub's file takes its node over when it joins", async () => {
    air.env.CLAWOS_MACHINE = "macbook-air";
    const r = await air.run(["join", "--as", "macbook-air", "--blackboard", hub.blackboard, "--no-worker"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /took over node macbook-air, registered by mac-mini/);
    const record = JSON.parse(
      await readFile(join(hub.blackboard, "registry", "macbook-air", "macbook-air.json"), "utf8"),
    );
    assert.deepEqual([record.owner, record.generation], ["macbook-air", 2]);
    assert.equal((await statusOf(hub)).find((n) => n.id === "macbook-air")?.machine, "macbook-air");
  });
});

describe("clawos join on NATS", () => {
  let nats: NatsServer;
  let hubGateway: StubGateway;
  let airGateway: StubGateway;
  let hub: World;
  let air: World;

  before(async () => {
    nats = await startNatsServer();
    hubGateway = await startStubGateway({ token: "h" });
    airGateway = await startStubGateway({ token: "a", reply: (p) => `air over nats: ${p}` });
    hub = await machineWorld("mac-mini", hubGateway, "h");
    air = await machineWorld("macbook-air", airGateway, "a");
  });
  after(async () => {
    await Promise.all([hub.cleanup(), air.cleanup()]);
    await Promise.all([hubGateway.close(), airGateway.close()]);
    await nats.cleanup();
  });

  test("the hub's init prints the join command; the laptop joins, and each sees the other's node", async () => {
    await editConfig(hub, (c) => {
      c.blackboard = { driver: "nats", servers: [nats.url] };
    }).catch(async () => {
      const { mkdir } = await import("node:fs/promises");
      await mkdir(hub.clawosHome, { recursive: true });
      await writeFile(
        join(hub.clawosHome, "federation.json"),
        JSON.stringify({ blackboard: { driver: "nats", servers: [nats.url] } }),
      );
    });
    const init = await hub.run(["init"]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(
      init.stdout,
      new RegExp(
        `Next machine: run this there, as one line:\\n {2}clawos join --as NAME --nats ${nats.url}\\n`,
      ),
    );
    const r = await air.run(["join", "--as", "macbook-air", "--nats", nats.url, "--no-worker"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Machines: mac-mini, macbook-air/);
    assert.deepEqual(ids(await statusOf(hub)), ["mac-mini", "macbook-air"]);
    const worker = air.spawn(["node", "run"]);
    try {
      await worker.waitFor("worker started on macbook-air");
      const done = await hub.run(["dispatch", "ping", "--to", "macbook-air", "--wait"]);
      assert.equal(done.stdout.trim(), "air over nats: ping");
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
  });

  test("a clash is refused the same way, and a server that does not answer is named", async () => {
    const clash = await air.run(["nodes", "add", "mac-mini", "--port", "1"]);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /Node mac-mini is already registered by mac-mini/);
    const dead = await air.run(["join", "--as", "macbook-air", "--nats", "nats://127.0.0.1:1", "--force"]);
    assert.equal(dead.code, 2);
    assert.match(dead.stderr, /The NATS server at nats:\/\/127\.0\.0\.1:1 does not answer/);
  });
});
