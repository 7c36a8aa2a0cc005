import assert from "node:assert/strict";
import { lstat, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import ssh2 from "ssh2";
import { UserError } from "../../../source/core/domain/errors.js";
import type { FederationApi } from "../../../source/core/domain/federation-types.js";
import { guardedApi } from "../../../source/core/federation/guarded-api.js";
import { appendAudit, auditPath, readAudit, whoOf } from "../../../source/core/infra/audit-log.js";
import { fingerprint } from "../../../source/core/transport/known-hosts.js";
import { parseAuthorizedKeys } from "../../../source/serve/authorized-keys.js";
import type { Caller } from "../../../source/serve/ssh-auth.js";
import { sessionRole } from "../../../source/serve/ssh-session.js";
import { FakeFederation } from "../../testkit/fake-federation.js";

const pub = ssh2.utils.generateKeyPairSync("ed25519").public;

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), "clawos-audit-"));
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

describe("clawos-role on an authorized_keys line", () => {
  test("is read with the other options; a role that does not exist refuses the line", () => {
    const { keys, refused } = parseAuthorizedKeys(
      [`clawos-role="operator",no-port-forwarding ${pub}`, pub, `clawos-role="root" ${pub}`].join("\n"),
    );
    assert.deepEqual(
      keys.map((k) => [k.line, k.role]),
      [
        [1, "operator"],
        [2, undefined],
      ],
    );
    assert.deepEqual(refused, [
      { line: 3, reason: 'clawos-role="root" is not one of viewer, operator, admin' },
    ]);
  });

  test("the session's role: --readonly, else the line, else federation.json by fingerprint, else viewer", () => {
    const [withRole, without] = parseAuthorizedKeys(`clawos-role="admin" ${pub}\n${pub}`).keys;
    const fp = fingerprint(withRole!.key.getPublicSSH());
    const caller = (granted: typeof withRole): Caller => ({
      id: 1,
      ip: "127.0.0.1",
      from: "127.0.0.1:1",
      who: "u",
      keyFp: fp,
      granted,
      failures: 0,
    });
    assert.equal(sessionRole(caller(withRole), { readonly: false, roles: { [fp]: "operator" } }), "admin");
    assert.equal(sessionRole(caller(without), { readonly: false, roles: { [fp]: "operator" } }), "operator");
    assert.equal(sessionRole(caller(without), { readonly: false, roles: {} }), "viewer");
    assert.equal(sessionRole(caller(withRole), { readonly: true, roles: {} }), "viewer");
  });
});

describe("the audit log", () => {
  test("appends JSON lines in a 0600 file; reads them back, since a time; skips lines it cannot read", async () => {
    const actor = { kind: "local", user: "ada" } as const;
    assert.equal(
      await appendAudit(home, {
        at: "2026-12-05T10:00:00.000Z",
        actor,
        action: "cordon",
        target: "a",
        result: "ok",
      }),
      undefined,
    );
    await appendAudit(home, {
      at: "2026-12-05T11:00:00.000Z",
      actor,
      action: "dispatch",
      target: "b\u001b[31m",
      result: "failed",
      reason: "line one\nline two",
    });
    assert.equal((await stat(auditPath(home))).mode & 0o777, 0o600);
    await writeFile(auditPath(home), `${await readFile(auditPath(home), "utf8")}not json\n{"at":1}\n`);
    const all = await readAudit(home);
    assert.equal(all.skipped, 2);
    assert.deepEqual(
      all.entries.map((e) => [e.action, e.target, e.result, e.reason]),
      [
        ["cordon", "a", "ok", undefined],
        ["dispatch", "b", "failed", "line one line two"],
      ],
    );
    const since = await readAudit(home, { since: new Date("2026-12-05T10:30:00.000Z") });
    assert.deepEqual(
      since.entries.map((e) => e.action),
      ["dispatch"],
    );
  });

  test("is never written through a symlink: the entry is not written and the problem is said", async () => {
    const other = await mkdtemp(join(tmpdir(), "clawos-audit-link-"));
    const target = join(other, "elsewhere");
    await writeFile(target, "");
    await symlink(target, auditPath(other));
    const problem = await appendAudit(other, {
      actor: { kind: "local", user: "x" },
      action: "cancel",
      target: "t",
      result: "ok",
    });
    assert.match(problem ?? "", /audit entry not written/);
    assert.equal(await readFile(target, "utf8"), "");
    assert.ok((await lstat(auditPath(other))).isSymbolicLink());
    await rm(other, { recursive: true, force: true });
  });

  test("rotates past its bound: one older generation is kept, both are read", async () => {
    const big = await mkdtemp(join(tmpdir(), "clawos-audit-rotate-"));
    await writeFile(auditPath(big), `${"x".repeat(2 * 1024 * 1024)}\n`);
    await appendAudit(big, {
      actor: { kind: "local", user: "x" },
      action: "retry",
      target: "t",
      result: "ok",
    });
    assert.equal((await stat(auditPath(big))).size < 1000, true);
    assert.equal((await stat(`${auditPath(big)}.1`)).size > 2 * 1024 * 1024, true);
    const { entries, skipped } = await readAudit(big);
    assert.deepEqual(
      entries.map((e) => e.action),
      ["retry"],
    );
    assert.equal(skipped, 1);
    await rm(big, { recursive: true, force: true });
  });
});

describe("the guard around a session's federation", () => {
  const actor = { kind: "ssh", user: "vera", key: "SHA256:abc", from: "10.0.0.5" } as const;

  test("a viewer is refused every action (nothing reaches the federation) and each refusal is logged", async () => {
    const dir = await mkdtemp(join(tmpdir(), "clawos-guard-"));
    const fake = new FakeFederation();
    let reached = 0;
    const api: FederationApi = Object.assign(Object.create(fake) as FederationApi, {
      dispatch: async () => {
        reached++;
        return { id: "x", decision: { node: null, reason: "" } };
      },
      cordon: async () => {
        reached++;
        return [];
      },
    });
    const guarded = guardedApi(api, { role: "viewer", actor: { ...actor, role: "viewer" }, home: dir });
    await assert.rejects(
      guarded.dispatch({ text: "secret plan", to: "any", priority: "P2" }),
      (e: unknown) => e instanceof UserError && /needs the operator role/.test(e.message),
    );
    await assert.rejects(guarded.cordon!("alpha", "drain"), /drain needs the admin role/);
    assert.equal(reached, 0);
    assert.equal(typeof guarded.getSnapshot().version, "number", "reads pass");
    const lines = await guarded.auditLog!();
    assert.deepEqual(
      lines.map((l) => [l.action, l.target, l.result, l.who]),
      [
        ["dispatch", "any", "refused", "vera over ssh, key SHA256:abc, from 10.0.0.5, viewer"],
        ["drain", "alpha", "refused", "vera over ssh, key SHA256:abc, from 10.0.0.5, viewer"],
      ],
    );
    assert.doesNotMatch(await readFile(auditPath(dir), "utf8"), /secret plan/);
    await rm(dir, { recursive: true, force: true });
  });

  test("an operator dispatches (ok) and a failure is logged as failed with its first line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "clawos-guard-"));
    const fake = new FakeFederation();
    const api: FederationApi = Object.assign(Object.create(fake) as FederationApi, {
      dispatch: async () => ({ id: "req_1", decision: { node: null, reason: "waits" } }),
      retry: async () => {
        throw new UserError("Task req_2 is still running.\nmore", { hint: "wait" });
      },
    });
    const guarded = guardedApi(api, { role: "operator", actor, home: dir });
    assert.equal((await guarded.dispatch({ text: "t", to: "alpha", priority: "P1" })).id, "req_1");
    await assert.rejects(guarded.retry("req_2"), /still running/);
    const { entries } = await readAudit(dir);
    assert.deepEqual(
      entries.map((e) => [e.action, e.target, e.result, e.reason]),
      [
        ["dispatch", "alpha", "ok", undefined],
        ["retry", "req_2", "failed", "Task req_2 is still running."],
      ],
    );
    assert.equal(whoOf({ kind: "local", user: "ada" }), "ada (local)");
    await rm(dir, { recursive: true, force: true });
  });
});
