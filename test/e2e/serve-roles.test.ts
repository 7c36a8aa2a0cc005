/**
 * Roles over the real ssh client: a viewer key cannot dispatch, by the key or by typing the
 * palette command (the guard under the UI refuses and says which role it needs), an operator
 * key can, and both attempts are in the audit log with their key fingerprints.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fingerprint } from "../../source/core/transport/known-hosts.js";
import { type Served, serve } from "../adversarial/serve-support.js";
import { KEYS } from "../testkit/pty-harness.js";

let served: Served;
before(async () => {
  served = await serve({
    keys: ["watcher", "worker", "boss"],
    authorizedKeys: (pub) =>
      [pub("watcher"), `clawos-role="operator" ${pub("worker")}`, `clawos-role="admin" ${pub("boss")}`].join(
        "\n",
      ),
  });
});
after(async () => {
  await served.close();
});

async function keyFingerprint(name: string): Promise<string> {
  const pub = (await readFile(`${served.key(name)}.pub`, "utf8")).trim().split(/\s+/)[1] ?? "";
  return fingerprint(Buffer.from(pub, "base64"));
}

interface Entry {
  actor: { kind: string; user: string; key?: string; role?: string };
  action: string;
  target: string;
  result: string;
  reason?: string;
}

async function auditEntries(): Promise<Entry[]> {
  const text = await readFile(join(served.world.clawosHome, "audit.log"), "utf8").catch(() => "");
  return text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Entry);
}

test("a viewer cannot dispatch, by the key or by the palette; the refusal names the role", async () => {
  const s = served.ssh("watcher", { user: "vera" });
  await s.waitForText(/alpha\s+online/);
  s.write("d");
  await s.waitForText("Dispatch a task");
  s.write(`from a viewer${KEYS.enter}`);
  await s.waitForText(/Not sent: dispatch needs the operator role; this session is viewer/);
  // (A key right after Esc would arrive as Alt+key: wait for the table first.)
  s.write(KEYS.escape);
  await s.waitForText(/NODE\s+STATUS/);
  s.write(`:dispatch typed by a viewer${KEYS.enter}`);
  await s.waitForText(/Text\s+typed by a viewer/);
  s.write(KEYS.enter);
  await s.waitForText(/Not sent: dispatch needs the operator role/);
  s.write(KEYS.escape);
  await s.waitForText(/NODE\s+STATUS/);
  // The audit view over the same session shows the refusals.
  s.write("A");
  await s.waitForText(/refused\s+dispatch alpha {2}by vera over ssh/);
  s.write(KEYS.escape);
  await s.waitForText(/NODE\s+STATUS/);
  s.write("q");
  assert.equal((await s.waitForExit()).exitCode, 0);

  const fp = await keyFingerprint("watcher");
  let refused: Entry[] = [];
  for (let i = 0; i < 100 && refused.length < 2; i++) {
    refused = (await auditEntries()).filter((e) => e.result === "refused" && e.actor.key === fp);
    if (refused.length < 2) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(refused.length, 2, JSON.stringify(await auditEntries()));
  for (const e of refused) {
    assert.deepEqual(
      { kind: e.actor.kind, user: e.actor.user, role: e.actor.role, action: e.action },
      { kind: "ssh", user: "vera", role: "viewer", action: "dispatch" },
    );
    assert.match(e.reason ?? "", /needs the operator role/);
  }
  const log = await served.log();
  assert.match(log, /control center opened \(.*\) as viewer/);
  const texts = JSON.stringify(await auditEntries());
  assert.doesNotMatch(texts, /from a viewer|typed by a viewer/, "never a task's text");
});

test("an operator dispatches over ssh and is in the audit log with its key, but may not drain a node", async () => {
  const s = served.ssh("worker", { user: "olga" });
  await s.waitForText(/alpha\s+online/);
  s.write("d");
  await s.waitForText("Dispatch a task");
  s.write(`operator over ssh${KEYS.enter}`);
  await s.waitForText("echo: operator over ssh");
  s.write(KEYS.escape);
  await s.waitForText(/NODE\s+STATUS/);
  s.write(`:gateway drain alpha${KEYS.enter}`);
  await s.waitForText(/Drain alpha\?/);
  s.write("y");
  await s.waitForText(/drain needs the admin role; this session is operator/);
  s.write("q");
  assert.equal((await s.waitForExit()).exitCode, 0);

  const fp = await keyFingerprint("worker");
  let mine: Entry[] = [];
  for (let i = 0; i < 100 && mine.length < 2; i++) {
    mine = (await auditEntries()).filter((e) => e.actor.key === fp);
    if (mine.length < 2) await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(
    mine.map((e) => [e.actor.user, e.actor.role, e.action, e.target, e.result]),
    [
      ["olga", "operator", "dispatch", "alpha", "ok"],
      ["olga", "operator", "drain", "alpha", "refused"],
    ],
  );
  const nodes = await served.world.run(["nodes", "list", "--json"]);
  const alpha = (JSON.parse(nodes.stdout) as { id: string; cordon?: string }[]).find((n) => n.id === "alpha");
  assert.equal(alpha?.cordon, undefined, "the refused drain changed nothing");
});

test("an admin drains a node from the control center; the record says so to every face", async () => {
  const s = served.ssh("boss", { user: "ada" });
  await s.waitForText(/alpha\s+online/);
  s.write(`:gateway drain alpha${KEYS.enter}`);
  await s.waitForText(/Drain alpha\?/);
  s.write("y");
  await s.waitForText(/alpha is drained/);
  s.write("q");
  assert.equal((await s.waitForExit()).exitCode, 0);
  const nodes = await served.world.run(["nodes", "list", "--json"]);
  const alpha = (JSON.parse(nodes.stdout) as { id: string; cordon?: string }[]).find((n) => n.id === "alpha");
  assert.equal(alpha?.cordon, "drained");
  const audit = await served.world.run(["audit"]);
  assert.match(audit.stdout, /ok +drain alpha {2}by ada over ssh, key SHA256:\S+, from 127\.0\.0\.1, admin/);
});
