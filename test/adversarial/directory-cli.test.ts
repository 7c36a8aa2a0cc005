/**
 * The directory-blackboard hardening as a user meets it: the real `clawos` binary on a
 * blackboard someone with write access to the shared folder has planted things in. Each test
 * is one of the examples: what the CLI prints, what it runs, and what it leaves alone.
 */
import assert from "node:assert/strict";
import { chmod, chown, lstat, mkdir, readdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import { makeRequest } from "../integration/blackboard/contract.js";
import { type CliResult, editConfig, makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";
import { snapshot } from "./directory-world.js";

const PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAKEYBYTES\n-----END OPENSSH PRIVATE KEY-----\n";

/** A hub with one localhost node (hub, named after the machine) on a stub gateway, registered by `clawos init`. */
async function withHub(body: (world: World, gateway: StubGateway) => Promise<void>): Promise<void> {
  const world = await makeWorld();
  const gateway = await startStubGateway({ token: "main-secret", reply: (p) => `main says: ${p}` });
  try {
    await world.writeProfile(null, profileConfig(gateway.port, "main-secret"));
    const init = await world.run(["init"]);
    assert.equal(init.code, 0, init.stderr);
    await body(world, gateway);
  } finally {
    await gateway.close();
    await world.cleanup();
  }
}

/** A folder outside the blackboard (a stand-in for ~/.ssh), its files dated `age` ms ago. */
async function decoy(path: string, files: Record<string, string>, ageMs = 0): Promise<string> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  const then = new Date(Date.now() - ageMs);
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(path, name), text, { mode: 0o600 });
    await utimes(join(path, name), then, then);
  }
  return path;
}

/** Queue a task the way another machine's dispatch does: straight into the node's inbox. */
async function enqueue(world: World, node: string): Promise<string> {
  const bb = new DirectoryBlackboard(world.blackboard, { machine: "elsewhere" });
  try {
    const request = makeRequest({ node, text: "hello from another machine" });
    await bb.enqueue(request);
    return request.id;
  } finally {
    await bb.close();
  }
}

const NOBODY = 65534;

/** Give `dir` and everything under it (links themselves, not their targets) to nobody. */
async function chownTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path);
    else if (!entry.isSymbolicLink()) await chown(path, NOBODY, NOBODY);
  }
  await chown(dir, NOBODY, NOBODY);
}

/**
 * `clawos <args>` as the user who owns the home: root reads a mode-000 file anyway, so as root
 * the CLI runs as nobody (its whole home given to nobody first).
 */
function runAsOwner(world: World, args: string[]): Promise<CliResult> {
  return world.run(args, process.getuid?.() === 0 ? { user: { uid: NOBODY, gid: NOBODY } } : {});
}

/** Lines of CLI output that mention `text`. */
function linesWith(output: string, text: string): string[] {
  return output.split("\n").filter((line) => line.includes(text));
}

test("node run --once leaves links planted in requests/, claimed/ and tmp/ alone, says so once each, and still runs the real task", async () => {
  await withHub(async (world, gateway) => {
    const bb = world.blackboard;
    const ssh = await decoy(
      join(world.home, ".ssh"),
      { id_ed25519: PRIVATE_KEY, "req_20260301_120000_0badc0de.json": "not a task at all" },
      2 * 3_600_000,
    );
    const docs = await decoy(
      join(world.home, "Documents"),
      { "notes.txt": "two hours of work" },
      2 * 3_600_000,
    );
    await symlink(ssh, join(bb, "requests", "evil"));
    await symlink(ssh, join(bb, "claimed", "evil"));
    await symlink(docs, join(bb, "tmp", "p1-evil"));
    const id = await enqueue(world, "hub");
    const before = { ssh: await snapshot(ssh), docs: await snapshot(docs) };

    const run = await world.run(["node", "run", "--once"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^1 completed, 0 failed, 0 handed back$/m);
    const task = JSON.parse((await world.run(["tasks", "show", id, "--json"])).stdout) as {
      state: string;
      reply: string;
    };
    assert.equal(task.state, "completed");
    assert.equal(task.reply, "main says: hello from another machine");
    assert.ok(gateway.requests.some((r) => r.path === "/v1/chat/completions"));

    assert.equal(
      await snapshot(ssh),
      before.ssh,
      "the folder behind requests/evil and claimed/evil is untouched",
    );
    assert.equal(await snapshot(docs), before.docs, "the folder behind tmp/p1-evil is untouched");
    assert.equal(await snapshot(join(bb, "quarantine")), "", "nothing landed in quarantine/");
    const output = run.stdout + run.stderr;
    assert.ok(!output.includes("KEYBYTES") && !output.includes("not a task"), "no byte of a planted file");
    for (const [where, target] of [
      ["requests/evil", ssh],
      ["claimed/evil", ssh],
      ["tmp/p1-evil", docs],
    ] as const) {
      const lines = linesWith(output, ` ${where} `);
      assert.equal(lines.length, 1, `${where} is reported once:\n${output}`);
      assert.match(lines[0]!, new RegExp(`${where} is a symbolic link \\(to ${target}\\)`));
      assert.match(lines[0]!, / warn {2}coordinator: left alone: /, "a warning, shown at --log-level warn");
      assert.match(lines[0]!, /remove it/);
    }
  });
});

test("one unreadable record (mode 000) is a problem line in status, tasks list and doctor; node run --once runs the rest and sets it aside", async () => {
  await withHub(async (world) => {
    const good = [await enqueue(world, "hub"), await enqueue(world, "hub")];
    const locked = makeRequest({ node: "hub", priority: "P0" }); // first in line
    const lockedPath = join(world.blackboard, "requests", "hub", `${locked.id}.json`);
    await writeFile(lockedPath, JSON.stringify(locked));
    await chmod(lockedPath, 0o000);
    // Another machine's heartbeat, just as unreadable: named by status and doctor too.
    const lockedStatus = join(world.blackboard, "node-status", "far.json");
    await writeFile(lockedStatus, "{}");
    await chmod(lockedStatus, 0o000);
    if (process.getuid?.() === 0) await chownTree(world.home);
    const unreadable = new RegExp(`${locked.id}\\.json: cannot be read \\(no permission\\)`);

    const status = await runAsOwner(world, ["status"]);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(linesWith(status.stdout, locked.id).length, 1, status.stdout);
    assert.match(linesWith(status.stdout, locked.id)[0]!, /^! /);
    assert.match(status.stdout, unreadable);

    const list = await runAsOwner(world, ["tasks", "list", "--wide"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stderr, unreadable);
    for (const id of good) assert.match(list.stdout, new RegExp(id));

    const doctor = await runAsOwner(world, ["doctor"]);
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
    const lines = doctor.stdout.split("\n");
    for (const path of [lockedPath, lockedStatus]) {
      const at = lines.findIndex((l) => l.includes(`${basename(path)}: cannot be read (no permission)`));
      assert.match(lines[at] ?? "", /^warn {2}blackboard /, doctor.stdout);
      assert.ok(
        lines[at + 1]?.includes(
          `fix: make it readable to the worker's user (chmod 644 ${path}, as its owner)`,
        ),
        doctor.stdout,
      );
    }
    assert.match(status.stdout, /^! node-status\/far\.json: cannot be read \(no permission\)/m);

    const run = await runAsOwner(world, ["node", "run", "--once"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^2 completed, 0 failed, 0 handed back$/m);
    for (const id of good) {
      const task = JSON.parse((await world.run(["tasks", "show", id, "--json"])).stdout) as { state: string };
      assert.equal(task.state, "completed", id);
    }
    const quarantine = await readdir(join(world.blackboard, "quarantine"));
    const reason = quarantine.find((n) => n.includes(locked.id) && n.endsWith(".reason"));
    assert.ok(reason, `set aside with a reason: ${quarantine.join(", ")}`);
    assert.match(
      await readFile(join(world.blackboard, "quarantine", reason), "utf8"),
      /cannot be read \(no permission\)/,
    );
    for (const out of [status.stdout, list.stderr, doctor.stdout, run.stderr])
      assert.ok(!/\bat .*\.js:\d+|EACCES/.test(out), `no stack trace or errno:\n${out}`);
  });
});

test("doctor's probe never writes through a link planted in tmp/ at a name it could use, and still finds the blackboard writable", async () => {
  await withHub(async (world) => {
    const bashrc = join(world.home, ".bashrc");
    await writeFile(bashrc, "export PATH=$HOME/bin:$PATH\n");
    const fingerprint = async () => `${(await lstat(bashrc)).mtimeMs} ${await readFile(bashrc, "utf8")}`;
    const before = await fingerprint();
    // The probe's name was tmp/.doctor-<pid>: plant a link at it for every pid the next process can get.
    const pidMax = Number(await readFile("/proc/sys/kernel/pid_max", "utf8"));
    const planted = new Set<number>();
    for (
      let pid = Number(await readFile("/proc/sys/kernel/ns_last_pid", "utf8")) + 1;
      planted.size < 5000;
      pid++
    ) {
      if (pid > pidMax) pid = 300; // where Linux starts again after a wrap
      planted.add(pid);
      await symlink(bashrc, join(world.blackboard, "tmp", `.doctor-${pid}`));
    }

    const doctor = world.spawn(["doctor"]);
    const code = await doctor.exited;
    assert.ok(
      planted.has(doctor.child.pid ?? 0),
      `doctor ran as pid ${doctor.child.pid}, a name with a link`,
    );
    assert.equal(code, 0, doctor.output());
    assert.match(
      doctor.output(),
      /^ok {4}blackboard ~\/\.openclaw\/clawos\/clawos-blackboard\/federation is writable$/m,
    );
    assert.equal(await fingerprint(), before, "the links' target is untouched");
    const link = await lstat(join(world.blackboard, "tmp", `.doctor-${doctor.child.pid}`));
    assert.ok(link.isSymbolicLink(), "the planted link is left where it is");
  });
});

test("a heartbeat dated in the future does not keep its node online: status --json ages it from when it landed", async () => {
  await withHub(async (world) => {
    const add = await world.run(["nodes", "add", "far", "--machine", "elsewhere", "--port", "18789"]);
    assert.equal(add.code, 0, add.stderr);
    await editConfig(world, (config) => {
      config.timing = { ...(config.timing as object), staleAfterMs: 1000 };
    });
    // What a worker with its clock a year ahead writes, synced here with its mtime.
    const nextYear = new Date(Date.now() + 365 * 86_400_000);
    const record = {
      schema: "clawos.node-status/1",
      node: "far",
      machine: "elsewhere",
      pid: 4242,
      version: "0.1.0",
      startedAt: nextYear.toISOString(),
      heartbeatAt: nextYear.toISOString(),
      state: "running",
      inFlight: [],
      completed: 0,
      failed: 0,
      gateway: { reachable: true, latencyMs: 3, checkedAt: nextYear.toISOString() },
    };
    const path = join(world.blackboard, "node-status", "far.json");
    await writeFile(path, JSON.stringify(record));
    await utimes(path, nextYear, nextYear);
    const landed = Date.now();
    await sleep(1500); // past staleAfterMs since it landed, however far ahead its date is

    const status = await world.run(["status", "--json"]);
    assert.equal(status.code, 0, status.stderr);
    const far = (
      JSON.parse(status.stdout) as { nodes: { id: string; status: string; lastHeartbeatAt?: string }[] }
    ).nodes.find((n) => n.id === "far");
    assert.ok(far?.lastHeartbeatAt, status.stdout);
    const seen = Date.parse(far.lastHeartbeatAt);
    assert.ok(seen <= landed, `believed no later than it landed here: ${far.lastHeartbeatAt}`);
    assert.equal(far.status, "stale", "no newer heartbeat since it landed");
  });
});
