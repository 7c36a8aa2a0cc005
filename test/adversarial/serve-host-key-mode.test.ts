/** A host key others can read is no secret: serve refuses it, in one line with the fix, as sshd does. */
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import ssh2 from "ssh2";
import { makeWorld } from "../testkit/cli-harness.js";
import { freePort } from "../testkit/sshd.js";

test("clawos serve will not start with a group- or world-readable host key, and says chmod 600", async () => {
  const dir = await mkdtemp(join(tmpdir(), "clawos-hostkey-mode-"));
  const world = await makeWorld();
  try {
    assert.equal((await world.run(["init"])).code, 0);
    const pair = ssh2.utils.generateKeyPairSync("ed25519");
    await writeFile(join(dir, "authorized_keys"), `${pair.public}\n`);
    const hostKey = join(dir, "host_key");
    await writeFile(hostKey, pair.private);
    for (const mode of [0o644, 0o640]) {
      await chmod(hostKey, mode);
      const server = world.spawn([
        "serve",
        "--ssh",
        `127.0.0.1:${await freePort()}`,
        "--host-key",
        hostKey,
        "--authorized-keys",
        join(dir, "authorized_keys"),
      ]);
      const outcome = await Promise.race([
        server.exited.then((code) => ({ code })),
        server.waitFor("listening on").then(() => ({ code: "listening" as const })),
      ]);
      if (outcome.code === "listening") server.child.kill("SIGTERM");
      assert.notEqual(outcome.code, "listening", `serve started with a host key of mode ${mode.toString(8)}`);
      assert.notEqual(outcome.code, 0);
      const text = server.output();
      assert.match(
        text,
        new RegExp(`host key ${hostKey} is readable by others \\(mode 0${mode.toString(8)}\\)`),
      );
      assert.match(text, new RegExp(`chmod 600 ${hostKey}`));
      assert.doesNotMatch(text, /\n\s+at /, "no stack trace");
      assert.doesNotMatch(text, /PRIVATE KEY/, "the key is not echoed");
    }
  } finally {
    await world.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
});
