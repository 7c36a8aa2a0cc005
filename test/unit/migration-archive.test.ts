import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compareVersions,
  parseCreated,
  parseOpenclawVersion,
  stateAssetPath,
} from "../../source/core/ops/migration-archive.js";

describe("OpenClaw's backup archive, read by the migration", () => {
  it("reads `openclaw --version` and orders versions", () => {
    assert.deepEqual(parseOpenclawVersion("OpenClaw 2026.9.6 (eb377ac)\n"), [2026, 9, 6]);
    assert.equal(parseOpenclawVersion("fake-openclaw 0.0.0"), undefined);
    assert.ok(compareVersions([2026, 8, 30], [2026, 9, 6]) < 0);
    assert.ok(compareVersions([2026, 10, 1], [2026, 9, 6]) > 0);
    assert.equal(compareVersions([2026, 9, 6], [2026, 9, 6]), 0);
  });

  it("takes only a verified archive from `backup create --json`", () => {
    const made = { archivePath: "/tmp/x/a.tar.gz", archiveRoot: "a", verified: true };
    assert.deepEqual(parseCreated(`note: something\n${JSON.stringify(made)}`, "create"), {
      archivePath: "/tmp/x/a.tar.gz",
      archiveRoot: "a",
    });
    assert.throws(
      () => parseCreated(JSON.stringify({ ...made, verified: false }), "openclaw backup create"),
      /openclaw backup create did not report a verified archive/,
    );
    assert.throws(() => parseCreated("not json", "create"), /did not report a verified archive/);
  });

  it("finds the profile's state asset in the manifest, and refuses a path that climbs out", () => {
    const manifest = (assets: unknown[]) => JSON.stringify({ schemaVersion: 1, assets });
    const state = {
      kind: "state",
      sourcePath: "/home/me/.openclaw-beta",
      archivePath: "r/payload/posix/home/me/.openclaw-beta",
    };
    const other = {
      kind: "state",
      sourcePath: "/home/me/.openclaw",
      archivePath: "r/payload/posix/home/me/.openclaw",
    };
    assert.equal(stateAssetPath(manifest([other, state]), "/home/me/.openclaw-beta"), state.archivePath);
    assert.equal(
      stateAssetPath(manifest([state]), "/private/home/me/.openclaw-beta"),
      state.archivePath,
      "the only one",
    );
    assert.throws(
      () => stateAssetPath(manifest([other, state]), "/elsewhere"),
      /no state directory for \/elsewhere/,
    );
    assert.throws(
      () => stateAssetPath(manifest([{ ...state, archivePath: "r/../../etc" }]), state.sourcePath),
      /no state directory/,
    );
  });
});
