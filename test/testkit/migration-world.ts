import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeWorld, type World } from "./cli-harness.js";
import { installFakeOpenclaw } from "./fake-openclaw.js";
import { freePort, type Sshd, startSshd } from "./sshd.js";

/** Here: a world with node beta incubated and running (stand-in openclaw); there: a second HOME behind a loopback sshd. */
export interface MigrationWorld {
  world: World;
  sshd: Sshd;
  /** The HOME of "the remote machine". */
  remoteHome: string;
  /** For `world.run`: the stand-in openclaw first on the PATH. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startMigrationWorld(prefix: string): Promise<MigrationWorld> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const remoteHome = join(dir, "remote-home");
  await mkdir(remoteHome, { recursive: true });
  const sshd = await startSshd(join(dir, "sshd"), { remoteHome });
  await installFakeOpenclaw(sshd.binDir);
  const world = await makeWorld();
  const bin = join(world.home, "fakebin");
  await installFakeOpenclaw(bin);
  const env = { ...world.env, PATH: `${bin}:${process.env.PATH}` };
  // A port of its own: tests running side by side would all pick 18789 first.
  const port = String(await freePort());
  const inc = await world.run(["incubate", "beta", "--start", "--port", port, "--ready-timeout", "60"], {
    env,
  });
  assert.equal(inc.code, 0, inc.stderr);
  return {
    world,
    sshd,
    remoteHome,
    env,
    async stop() {
      await sshd.stop();
      await world.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
