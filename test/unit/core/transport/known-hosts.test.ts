import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import {
  checkHostKey,
  fingerprint,
  hostKeyName,
  knownKeyTypes,
  parseKnownHosts,
} from "../../../../source/core/transport/known-hosts.js";
import { parseSshTarget } from "../../../../source/core/transport/ssh-route.js";

const keyA = randomBytes(51);
const keyB = randomBytes(51);
const b64 = (k: Buffer) => k.toString("base64");

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
}

describe("known_hosts", () => {
  test("names: port 22 bare, other ports bracketed", () => {
    assert.equal(hostKeyName("mini", 22), "mini");
    assert.equal(hostKeyName("127.0.0.1", 2222), "[127.0.0.1]:2222");
  });
  test("plain, hashed, wildcard and negated entries", () => {
    const entries = parseKnownHosts(
      [
        "# comment",
        `mini,192.168.1.5 ssh-ed25519 ${b64(keyA)}`,
        `${hashed("[127.0.0.1]:2222")} ssh-ed25519 ${b64(keyA)}`,
        `*.tail.net,!evil.tail.net ssh-ed25519 ${b64(keyB)}`,
        "@cert-authority *.corp ssh-ed25519 AAAA",
        "garbage",
      ].join("\n"),
    );
    assert.equal(entries.length, 3);
    assert.deepEqual(checkHostKey(entries, "mini", 22, keyA), { kind: "trusted" });
    assert.deepEqual(checkHostKey(entries, "127.0.0.1", 2222, keyA), { kind: "trusted" });
    assert.equal(checkHostKey(entries, "127.0.0.1", 2223, keyA).kind, "unknown", "port matters");
    assert.equal(
      checkHostKey(entries, "1271001", 2222, keyA).kind,
      "unknown",
      "brackets and dots are literal",
    );
    assert.deepEqual(checkHostKey(entries, "air.tail.net", 22, keyB), { kind: "trusted" });
    assert.equal(checkHostKey(entries, "evil.tail.net", 22, keyB).kind, "unknown");
    const changed = checkHostKey(entries, "mini", 22, keyB);
    assert.deepEqual(changed, { kind: "changed", fingerprint: fingerprint(keyB) });
    assert.match(fingerprint(keyB), /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.deepEqual(knownKeyTypes(entries, "mini", 22), ["ssh-ed25519"]);
  });
  test("a revoked key is never trusted", () => {
    const entries = parseKnownHosts(`mini ssh-ed25519 ${b64(keyA)}\n@revoked * ssh-ed25519 ${b64(keyA)}`);
    assert.equal(checkHostKey(entries, "mini", 22, keyA).kind, "revoked");
  });
  test("ssh targets", () => {
    assert.deepEqual(parseSshTarget("me@mini"), { user: "me", host: "mini", port: 22 });
    assert.deepEqual(parseSshTarget("me@100.71.170.104:2222"), {
      user: "me",
      host: "100.71.170.104",
      port: 2222,
    });
    assert.throws(() => parseSshTarget("mini"), /not an SSH target/);
  });
});
