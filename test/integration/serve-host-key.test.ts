/** The served control center's host key: made once, always readable back, and a broken one explained. */
import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import ssh2 from "ssh2";
import { loadOrCreateHostKey } from "../../source/serve/host-key.js";

test("every generated host key parses back (ssh2 makes an unreadable ed25519 key about 1 time in 256)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "clawos-hostkey-"));
  try {
    // 1 000 keys: with the unchecked generator, at least one is unreadable with ~98% likelihood.
    for (let i = 0; i < 1000; i++) {
      const file = join(dir, `key-${i}`);
      const { key, created } = await loadOrCreateHostKey(file);
      assert.equal(created, true);
      assert.ok(!(ssh2.utils.parseKey(key) instanceof Error), `key ${i} parses`);
      await rm(file);
      await rm(`${file}.pub`);
    }
    const file = join(dir, "ssh_host_ed25519_key");
    await loadOrCreateHostKey(file);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await loadOrCreateHostKey(file)).created, false, "made once, then read");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a host key file that cannot be read says so and how to replace it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "clawos-hostkey-"));
  try {
    const file = join(dir, "ssh_host_ed25519_key");
    await writeFile(file, "-----BEGIN OPENSSH PRIVATE KEY-----\nbroken\n-----END OPENSSH PRIVATE KEY-----\n");
    await assert.rejects(loadOrCreateHostKey(file), (error: Error & { hint?: string }) => {
      assert.match(error.message, /The host key .* cannot be read/);
      assert.match(error.hint ?? "", /mv .* start again to make a new one/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
