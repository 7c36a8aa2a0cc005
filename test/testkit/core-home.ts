import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FederationCore } from "../../source/core/federation/federation.js";

/**
 * An in-process FederationCore on a throwaway home holding `config` as federation.json
 * (machine "hub"); closed and removed afterwards, whatever the body does.
 */
export async function withCoreHome(
  config: Record<string, unknown>,
  body: (core: FederationCore) => Promise<void>,
): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), "clawos-core-"));
  try {
    await writeFile(join(home, "federation.json"), JSON.stringify({ version: 1, machine: "hub", ...config }));
    const core = await FederationCore.open(home, { env: {} });
    try {
      await body(core);
    } finally {
      await core.close();
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
