import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { DirectoryBlackboard } from "../../../../source/core/blackboard/directory/directory.js";
import { FederationConfig } from "../../../../source/core/domain/schema.js";
import { upgradedConfig, upgradeLegacyNodes } from "../../../../source/core/federation/registry-upgrade.js";
import { loadConfig } from "../../../../source/core/infra/config.js";
import { definitionOf } from "../../../integration/blackboard/contract.js";

const V1 = {
  version: 1,
  machine: "mac-mini",
  nodes: [
    { id: "mac-mini", machine: "mac-mini", port: 18789, token: { file: "tokens/m.token" } },
    { id: "macbook-air", machine: "macbook-air", port: 18789, ssh: { target: "me@air", knownHosts: "/kh" } },
    { id: "cloud-node", machine: "mac-mini", port: null },
  ],
};

async function withHome(
  config: unknown,
  body: (home: string, bb: (machine: string) => Promise<DirectoryBlackboard>) => Promise<void>,
): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), "clawos-upgrade-"));
  const handles: DirectoryBlackboard[] = [];
  try {
    await writeFile(join(home, "federation.json"), JSON.stringify(config));
    await body(home, async (machine) => {
      const bb = new DirectoryBlackboard(join(home, "bb"), { machine });
      await bb.init();
      handles.push(bb);
      return bb;
    });
  } finally {
    for (const h of handles) await h.close();
    await rm(home, { recursive: true, force: true });
  }
}

describe("the upgrade of a version-1 federation.json", () => {
  test("upgradedConfig drops nodes and keeps their token sources and SSH key paths, the listed ones winning", () => {
    const config = FederationConfig.parse({
      ...V1,
      tokens: { "mac-mini": { env: "OLD" }, other: { none: true } },
    });
    const v2 = upgradedConfig(config);
    assert.equal(v2.version, 2);
    assert.equal(v2.nodes, undefined);
    assert.deepEqual(v2.tokens, { "mac-mini": { file: "tokens/m.token" }, other: { none: true } });
    assert.deepEqual(v2.ssh, { "macbook-air": { knownHosts: "/kh" } });
  });

  test("publishes every node as this machine's record, rewrites the file, and says what moved once", async () => {
    await withHome(V1, async (home, open) => {
      const bb = await open("mac-mini");
      const loaded = await loadConfig(home);
      const note = await upgradeLegacyNodes(loaded, bb, "mac-mini");
      assert.equal(
        note,
        "federation.json: 3 nodes moved to the shared registry (mac-mini, macbook-air, cloud-node); tokens stay in this file",
      );
      const { records } = await bb.readNodeDefinitions();
      assert.deepEqual(records.map((r) => `${r.owner}/${r.id}@${r.generation}->${r.node?.machine}`).sort(), [
        "mac-mini/cloud-node@1->mac-mini",
        "mac-mini/mac-mini@1->mac-mini",
        "mac-mini/macbook-air@1->macbook-air",
      ]);
      const onDisk = JSON.parse(await readFile(join(home, "federation.json"), "utf8"));
      assert.equal(onDisk.version, 2);
      assert.equal("nodes" in onDisk, false);
      assert.equal(loaded.config.nodes, undefined, "the caller's config is the upgraded one");
      assert.equal(await upgradeLegacyNodes(await loadConfig(home), bb, "mac-mini"), undefined, "said once");
    });
  });

  test("an id another machine registered differently is kept as theirs; one handed to this machine is taken over", async () => {
    await withHome(V1, async (home, open) => {
      const air = await open("macbook-air");
      await air.writeNodeDefinition(definitionOf("macbook-air", "mac-mini", 1, { port: 1 }));
      const hub = await open("mac-mini");
      await hub.writeNodeDefinition(definitionOf("mac-mini", "cloud-node", 1, { machine: "cloud" }));
      const hubOther = await open("someone");
      await hubOther.writeNodeDefinition(definitionOf("someone", "macbook-air", 4, { machine: "mac-mini" }));
      const note = await upgradeLegacyNodes(await loadConfig(home), hub, "mac-mini");
      assert.match(note ?? "", /not republished: mac-mini \(kept macbook-air's registration\)/);
      const { records } = await hub.readNodeDefinitions();
      const mine = records
        .filter((r) => r.owner === "mac-mini")
        .map((r) => `${r.id}@${r.generation}`)
        .sort();
      // cloud-node was this machine's already (republished above it); macbook-air was handed here (gen 4 → 5).
      assert.deepEqual(mine, ["cloud-node@2", "macbook-air@5"]);
    });
  });

  test("a file edited between publishing and rewriting is left for the next run", async () => {
    await withHome(V1, async (home, open) => {
      const bb = await open("mac-mini");
      const loaded = await loadConfig(home);
      await writeFile(join(home, "federation.json"), JSON.stringify({ ...V1, nodes: V1.nodes.slice(0, 1) }));
      assert.equal(await upgradeLegacyNodes(loaded, bb, "mac-mini"), undefined);
      const onDisk = JSON.parse(await readFile(join(home, "federation.json"), "utf8"));
      assert.equal(onDisk.nodes.length, 1, "not overwritten");
    });
  });
});
