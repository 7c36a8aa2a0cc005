import assert from "node:assert/strict";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { World } from "../testkit/cli-harness.js";
import { startMigrationWorld } from "../testkit/migration-world.js";
import { processAlive } from "../testkit/process.js";
import { freePort, type Sshd } from "../testkit/sshd.js";

/** "The cloud" is a second HOME on this machine behind a real sshd on 127.0.0.1. */
describe("clawos migrate to a loopback sshd 'remote', and back", () => {
  let world: World;
  let sshd: Sshd;
  let remoteHome: string;
  let env: NodeJS.ProcessEnv;
  let stop: () => Promise<void>;
  let remotePort: number;
  let args: string[];

  before(async () => {
    ({ world, sshd, remoteHome, env, stop } = await startMigrationWorld("clawos-migrate-"));
    // A node that has lived: sessions, a memory database, notes in its workspace.
    const state = join(world.home, ".openclaw-beta");
    await writeFile(join(state, "agents", "main", "sessions", "sessions.json"), '{"clawos:t1":{"turns":2}}');
    await writeFile(
      join(state, "agents", "main", "agent", "openclaw-agent.sqlite"),
      "SQLite format 3\0 memory",
    );
    await writeFile(join(state, "workspace", "MEMORY.md"), "remember the milk\n");
    remotePort = await freePort();
    args = [
      "migrate",
      "beta",
      "--to",
      sshd.target,
      "--identity",
      sshd.clientKey,
      "--known-hosts",
      sshd.knownHosts,
      "--remote-port",
      String(remotePort),
      "--machine",
      "cloud",
      "--ready-timeout",
      "30",
    ];
  });
  after(async () => {
    await stop();
  });

  const registry = () => readFile(join(world.clawosHome, "federation.json"), "utf8");
  const localPid = async () =>
    Number((await readFile(join(world.clawosHome, "run", "beta.gateway.pid"), "utf8")).trim());

  test("--dry-run shows the plan and changes nothing", async () => {
    const before = await registry();
    const r = await world.run([...args, "--dry-run"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /Plan for beta: hub:.*\.openclaw-beta \(port \d+\) → .*\.openclaw-beta \(port \d+, bound to loopback\)/,
    );
    assert.match(
      r.stdout,
      /the whole profile travels \(\d+ files, \d+ KB on disk, less caches and temporary files\): config, sessions and memory databases, auth profiles and workspace, as one archive made by openclaw backup create --verify/,
    );
    assert.match(r.stdout, /OpenClaw there is 2026\.9\.6 \(here 2026\.9\.6\)/);
    assert.ok(processAlive(await localPid()), "a dry run leaves the local gateway running");
    assert.equal(await registry(), before);
    assert.deepEqual(await readdir(remoteHome), []);
  });

  test("an SSH connection dropped mid-copy leaves the registry and the local disk as they were", async () => {
    const before = await registry();
    const localFiles = await readdir(join(world.home, ".openclaw-beta"), { recursive: true });
    const r = await world.run(args, { env: { ...env, CLAWOS_FAULT: "ssh-drop-after:1" } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Migration of beta stopped: .*Nothing changed here; the local gateway runs again/);
    assert.ok(processAlive(await localPid()));
    assert.equal(await registry(), before);
    assert.deepEqual(await readdir(join(world.home, ".openclaw-beta"), { recursive: true }), localFiles);
    assert.ok(
      !(await readdir(remoteHome)).includes(".openclaw-beta"),
      "nothing half-made in place on the remote",
    );
  });

  /** A failed attempt leaves the registry, the local profile and the remote home as they were. */
  async function failsCleanly(extraEnv: NodeJS.ProcessEnv, expect: RegExp): Promise<string> {
    const before = await registry();
    const localFiles = await readdir(join(world.home, ".openclaw-beta"), { recursive: true });
    const r = await world.run(args, { env: { ...env, ...extraEnv } });
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /Migration of beta stopped: .*Nothing changed here/);
    assert.match(r.stderr, expect);
    assert.equal(await registry(), before);
    assert.deepEqual(await readdir(join(world.home, ".openclaw-beta"), { recursive: true }), localFiles);
    assert.deepEqual(
      (await readdir(remoteHome)).filter((f) => f.startsWith(".openclaw-beta")),
      [],
      "nothing left in the remote home",
    );
    return r.stderr;
  }

  test("no openclaw on the remote PATH: refused before anything is copied", async () => {
    const fake = join(sshd.binDir, "openclaw");
    await rename(fake, `${fake}.away`);
    try {
      await failsCleanly(
        {},
        /openclaw is not on the PATH of an SSH session on 127\.0\.0\.1[\s\S]*fix: install it there/,
      );
    } finally {
      await rename(`${fake}.away`, fake);
    }
  });

  test("the remote port already taken: refused with the fix", async () => {
    const server = createServer().listen(remotePort, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    try {
      await failsCleanly({}, new RegExp(`Port ${remotePort} is already in use[\\s\\S]*--remote-port`));
    } finally {
      server.close();
    }
  });

  test("a remote port within 120 of a gateway there: refused with a port that keeps clear", async () => {
    const other = join(remoteHome, ".openclaw-work");
    await mkdir(other, { recursive: true });
    await writeFile(join(other, "openclaw.json"), `{ gateway: { port: ${remotePort + 100} } }\n`);
    try {
      const stderr = await failsCleanly(
        {},
        new RegExp(
          `Port ${remotePort} is 100 ports from the gateway of profile work \\(${remotePort + 100}\\) on 127\\.0\\.0\\.1`,
        ),
      );
      assert.match(stderr, /fix: OpenClaw needs 120 between gateways: use --remote-port \d+/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  test("a remote gateway that dies at start: its last words, the copy removed there, the local gateway running again", async () => {
    await writeFile(join(remoteHome, ".fake-openclaw-mode"), "exits\n");
    try {
      const said = await failsCleanly({}, /exited before it was ready: .*simulated crash at start/);
      assert.match(said, /the local gateway runs again/);
      assert.ok(processAlive(await localPid()));
    } finally {
      await rm(join(remoteHome, ".fake-openclaw-mode"), { force: true });
    }
  });

  test("an older OpenClaw there: refused before anything stops, with the fix", async () => {
    await writeFile(join(remoteHome, ".fake-openclaw-version"), "2026.8.1\n");
    try {
      const pid = await localPid();
      await failsCleanly(
        {},
        /OpenClaw on 127\.0\.0\.1 is 2026\.8\.1, older than here \(2026\.9\.6\)[\s\S]*fix: update it there \(npm install -g openclaw@2026\.9\.6\)/,
      );
      assert.equal(await localPid(), pid, "the local gateway was not touched");
    } finally {
      await rm(join(remoteHome, ".fake-openclaw-version"), { force: true });
    }
  });

  test("migrate moves the node's whole life: stopped here, archived, restored there with its sessions and memory, a real turn there", async () => {
    const pid = await localPid();
    const r = await world.run(args, { env });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stdout,
      new RegExp(
        `Stopped the gateway of beta \\(pid ${pid}, run by clawos\\) \\(one writer per state dir\\)\\.`,
      ),
    );
    assert.match(
      r.stdout,
      /Archiving beta with openclaw backup create --verify …\n {2}\S+-openclaw-backup\.tar\.gz \(\d+ KB\), verified/,
    );
    assert.match(r.stdout, /Restoring it there with openclaw backup restore into .*\.openclaw-beta/);
    assert.match(r.stdout, /answers through SSH \(a real turn took \d+\.\d s\)/);
    assert.match(r.stdout, /Node beta now lives on cloud/);
    assert.equal(processAlive(pid), false);

    const there = join(remoteHome, ".openclaw-beta");
    assert.equal(
      await readFile(join(there, "agents", "main", "sessions", "sessions.json"), "utf8"),
      '{"clawos:t1":{"turns":2}}',
    );
    assert.equal(
      await readFile(join(there, "agents", "main", "agent", "openclaw-agent.sqlite"), "utf8"),
      "SQLite format 3\0 memory",
    );
    assert.equal(await readFile(join(there, "workspace", "MEMORY.md"), "utf8"), "remember the milk\n");
    const remoteConfig = JSON.parse(await readFile(join(there, "openclaw.json"), "utf8"));
    assert.equal(remoteConfig.gateway.port, remotePort);
    assert.equal(remoteConfig.gateway.bind, "loopback");
    // OpenClaw's absolute paths point into the copy there, not at this machine's home.
    assert.equal(remoteConfig.agents.defaults.workspace, join(there, "workspace"));
    assert.equal(remoteConfig.agents.entries.main.agentDir, join(there, "agents", "main", "agent"));
    assert.ok(!JSON.stringify(remoteConfig).includes(`${world.home}/`), "no local path left");
    assert.equal((await stat(join(there, "openclaw.json"))).mode & 0o777, 0o600);
    assert.deepEqual(
      (await readdir(remoteHome)).filter((f) => f.startsWith(".openclaw-beta")),
      [".openclaw-beta"],
      "no staging dir left there",
    );

    const nodes = JSON.parse((await world.run(["nodes", "list", "--json"])).stdout) as {
      id: string;
      machine: string;
      transport: string;
    }[];
    const beta = nodes.find((n) => n.id === "beta");
    assert.deepEqual([beta?.machine, beta?.transport], ["cloud", "blackboard"]);

    const d = await world.run(
      ["dispatch", "are you in the cloud?", "--to", "beta", "--priority", "P0", "--wait"],
      { env },
    );
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /via ssh/);
    assert.equal(d.stdout.trim(), "incubated node says hi");
  });

  test("--rollback brings the node's life back the same way, starts the local gateway, keeps both earlier copies aside", async () => {
    // What it lived through there comes back with it.
    await writeFile(join(remoteHome, ".openclaw-beta", "workspace", "THERE.md"), "learned in the cloud\n");
    const r = await world.run(["migrate", "beta", "--rollback"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Archiving it there with openclaw backup create --verify/);
    assert.match(
      r.stdout,
      /the profile as it was before the move is kept as ~\/\.openclaw-beta\.before-restore-\d{8}T\d{6}/,
    );
    assert.match(r.stdout, /The local gateway is running again \(a real turn took/);
    const here = join(world.home, ".openclaw-beta");
    assert.equal(await readFile(join(here, "workspace", "THERE.md"), "utf8"), "learned in the cloud\n");
    assert.equal(
      await readFile(join(here, "agents", "main", "sessions", "sessions.json"), "utf8"),
      '{"clawos:t1":{"turns":2}}',
    );
    const config = JSON.parse(await readFile(join(here, "openclaw.json"), "utf8"));
    assert.equal(config.agents.defaults.workspace, join(here, "workspace"), "paths point here again");
    assert.notEqual(config.gateway.port, remotePort, "its own port here again");
    assert.match(r.stdout, /points at this machine again/);
    assert.match(r.stdout, /Stopped the gateway on .*kept there as .*\.openclaw-beta\.rolled-back-/);
    const remote = await readdir(remoteHome);
    assert.ok(!remote.includes(".openclaw-beta"), "a later migration finds the place free");
    assert.ok(remote.some((f) => f.startsWith(".openclaw-beta.rolled-back-")));
    const d = await world.run(["dispatch", "are you home?", "--to", "beta", "--wait"], { env });
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /via localhost/);
    assert.equal(d.stdout.trim(), "incubated node says hi");
    const nodes = JSON.parse((await world.run(["nodes", "list", "--json"])).stdout) as {
      id: string;
      machine: string;
      transport: string;
    }[];
    assert.deepEqual(
      nodes.filter((n) => n.id === "beta").map((n) => [n.machine, n.transport]),
      [["hub", "localhost"]],
    );
    const again = await world.run(["migrate", "beta", "--rollback"], { env });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /no migration of beta/);
  });
});
