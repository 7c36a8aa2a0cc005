import assert from "node:assert/strict";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, editConfig, type World } from "../testkit/cli-harness.js";
import { startMigrationWorld } from "../testkit/migration-world.js";
import { KEYS, type PtySession, spawnInPty } from "../testkit/pty-harness.js";
import { freePort, type Sshd } from "../testkit/sshd.js";

/**
 * The node action "migrate" as a user meets it: the real `clawos tui` in a pseudo-terminal,
 * moving an incubated node (stand-in openclaw) to a loopback sshd "remote" and back.
 * The user's own ~/.ssh (key and known_hosts) is what the control center logs in with.
 */
describe("clawos tui: migrate a node from the control center, and roll it back", () => {
  let world: World;
  let sshd: Sshd;
  let env: NodeJS.ProcessEnv;
  let stop: () => Promise<void>;
  let pty: PtySession | undefined;

  before(async () => {
    ({ world, sshd, env, stop } = await startMigrationWorld("clawos-migrate-tui-"));
    await mkdir(join(world.home, ".ssh"), { recursive: true, mode: 0o700 });
    await copyFile(sshd.clientKey, join(world.home, ".ssh", "id_ed25519"));
    await copyFile(sshd.knownHosts, join(world.home, ".ssh", "known_hosts"));
  });
  after(async () => {
    pty?.dispose();
    await world.run(["migrate", "beta", "--rollback"], { env }).catch(() => {});
    await stop();
  });

  const machineOf = async (id: string) =>
    (
      JSON.parse((await world.run(["nodes", "list", "--json"])).stdout) as { id: string; machine: string }[]
    ).find((n) => n.id === id)?.machine;

  test("m asks where to (prefilled from the node's ssh settings), shows the plan, moves only after y; :migrate --rollback brings it back", async () => {
    // The node already has an SSH route (as `clawos nodes add … --ssh` makes): target and port there.
    const remotePort = await freePort();
    const beta = (
      JSON.parse((await world.run(["nodes", "list", "--json"])).stdout) as { id: string; port: number }[]
    ).find((n) => n.id === "beta")!;
    await editConfig(world, (config) => {
      // A hand edit in the version-1 form: published to the registry on the next run.
      const token = (config.tokens as Record<string, unknown>).beta;
      config.nodes = [
        {
          id: "beta",
          machine: "hub",
          port: beta.port,
          profile: "beta",
          token,
          ssh: { target: sshd.target, remotePort },
        },
      ];
    });
    const t = spawnInPty(process.execPath, [BIN, "tui"], {
      cols: 120,
      rows: 40,
      env: { ...env, CI: "true" } as Record<string, string>,
      timeoutMs: 60_000,
    });
    pty = t;
    await t.waitForText(/beta\s+online/);
    assert.match(t.screenText(), /m migrate/, "the hint line offers it");

    // The key on the selected node: a target prompt, prefilled; Esc leaves it.
    t.write("m");
    await t.waitForText(`Migrate beta to ${sshd.target}`);
    t.write(KEYS.escape);
    await t.waitForText("Nothing moved.");
    // Again, and Enter: the plan, checked there, with the node's port there.
    t.write("m");
    await t.waitForText(`Migrate beta to ${sshd.target}`);
    t.write(KEYS.enter);
    await t.waitForText("Go ahead? (y/n below)");
    assert.match(t.screenText(), /the whole profile travels \(\d+ files/);
    // The checks there run over SSH after the plan is shown: wait for their verdict.
    await t.waitForText(new RegExp(`port ${remotePort} is free`));
    await t.waitForText(/now\? It stops here, then starts there\. y\/n/);
    assert.equal(await machineOf("beta"), "hub", "nothing moved before y");

    t.write("y");
    await t.waitForText(`Migrated: beta now runs on ${sshd.target}.`, 60_000);
    assert.match(t.screenText(), /answers through SSH/);
    assert.match(t.screenText(), /Stopped the gateway of beta \(pid \d+, run by clawos\)/);
    assert.equal(await machineOf("beta"), "127.0.0.1");

    t.write(KEYS.escape);
    await t.waitForText(/NODE\s+STATUS/);
    t.write(`:migrate --rollback beta${KEYS.enter}`);
    await t.waitForText("Roll back the migration of beta?");
    t.write("y");
    await t.waitForText("Rolled back: beta points at this machine again.", 60_000);
    assert.match(t.screenText(), /The local gateway is running again/);
    assert.equal(await machineOf("beta"), "hub");
    const record = JSON.parse(await readFile(join(world.blackboard, "registry", "hub", "beta.json"), "utf8"));
    assert.deepEqual([record.node.machine, record.node.transport], ["hub", "auto"]);

    t.write("q");
    assert.equal((await t.waitForExit()).exitCode, 0);
  });
});
