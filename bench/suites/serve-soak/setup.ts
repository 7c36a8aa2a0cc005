/** The serve soak's setup: the federation (gateways, workers, coordinator) and `clawos serve` on it. */
import { chown, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort, keygen } from "../../../test/testkit/sshd.js";
import { BIN, STUB_MAIN } from "../../lib.js";
import type { Target } from "./clients.js";
import { NODES, opts, say, TIMING } from "./plan.js";
import { fingerprint, makeDecoy, type Owner } from "./plants.js";
import { chownTree, type Proc, type Procs } from "./procs.js";

/** The soak's work directory and who its clawos processes run as. */
export interface SoakDirs {
  root: string;
  home: string;
  blackboard: string;
  /** A directory outside the blackboard that planted symlinks point at; must stay byte-identical. */
  decoy: string;
  sshHome: string;
  owner: Owner | undefined;
}

/**
 * `clawos init`, a stub gateway and a worker per node, the directory blackboard with the soak's
 * timing, the decoy, then the coordinator and the workers. Returns the decoy's fingerprint before.
 */
export async function startFederation(dirs: SoakDirs, procs: Procs): Promise<Map<string, string>> {
  const { cli, proc, startProc } = procs;
  say(`work dir ${dirs.root}; clawos processes run as ${opts.user}`);
  const init = await cli(["init"]);
  if (init.code !== 0) throw new Error(`clawos init failed: ${init.stderr.trim()}`);
  const workers: Proc[] = [];
  for (const [i, node] of NODES.entries()) {
    const token = `serve-soak-${node}`;
    const gw = proc(`gateway-${node}`);
    const line = await startProc(gw, [STUB_MAIN, "--port", "0", "--token", token], /\{"port":\d+\}/);
    const port = (JSON.parse(line) as { port: number }).port;
    const add = await cli([
      "nodes",
      "add",
      node,
      "--machine",
      `box${i + 1}`,
      "--port",
      String(port),
      "--token-env",
      `${node.toUpperCase()}_TOKEN`,
    ]);
    if (add.code !== 0) throw new Error(`nodes add ${node}: ${add.stderr}`);
    const w = proc(`worker-${node}`);
    w.start = () =>
      startProc(
        w,
        [BIN, "node", "run", "--node", node, "--no-coordinator", "--grace", "3"],
        /worker started on /,
        {
          CLAWOS_MACHINE: `box${i + 1}`,
          [`${node.toUpperCase()}_TOKEN`]: token,
        },
      );
    workers.push(w);
  }
  const configPath = join(dirs.home, ".openclaw", "clawos", "federation.json");
  const config = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
  config.timing = TIMING;
  // One home plays every machine: no machine field, so each process's CLAWOS_MACHINE names it
  // (init wrote "hub", which would win over it).
  delete config.machine;
  config.blackboard = { driver: "directory", path: dirs.blackboard, coordinator: "hub" };
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
  await makeDecoy(dirs.decoy, dirs.owner);
  const decoyBefore = await fingerprint(dirs.decoy);
  const coordinator = proc("coordinator");
  await startProc(coordinator, [BIN, "node", "run", "--coordinator", "--grace", "3"], /worker started on /);
  for (const w of workers) await w.start!();
  say("2 gateways, 2 workers and the coordinator are up");
  return decoyBefore;
}

export interface Served {
  server: Proc;
  /** Start (or restart) the server on the same port. */
  startServer: () => Promise<void>;
  /** Where the clients connect, with a key the server accepts and its host key known. */
  target: Target;
}

/** A client key in authorized_keys, `clawos serve --ssh` on a free port, and known_hosts for it. */
export async function startServe(dirs: SoakDirs, procs: Procs): Promise<Served> {
  const { root, home, sshHome, owner } = dirs;
  const keyPath = join(sshHome, "id_ed25519");
  await keygen(keyPath);
  const authorizedKeys = join(root, "authorized_keys");
  await writeFile(authorizedKeys, await readFile(`${keyPath}.pub`));
  if (owner) await chownTree(home, owner);
  if (owner) await chown(authorizedKeys, owner.uid, owner.gid);
  const server = procs.proc("serve");
  const port = await freePort();
  const startServer = async () => {
    await procs.startProc(
      server,
      [
        BIN,
        "serve",
        "--ssh",
        `127.0.0.1:${port}`,
        "--authorized-keys",
        authorizedKeys,
        "--max-sessions",
        opts["max-sessions"],
      ],
      /listening on 127\.0\.0\.1:\d+/,
    );
  };
  await startServer();
  const hostPub = (
    await readFile(join(home, ".openclaw", "clawos", "serve", "ssh_host_ed25519_key.pub"), "utf8")
  )
    .trim()
    .split(/\s+/);
  const knownHosts = join(sshHome, "known_hosts");
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}\n`);
  const target: Target = { port, privateKey: await readFile(keyPath), keyPath, knownHosts, home: sshHome };
  say(`clawos serve listening on 127.0.0.1:${port}`);
  return { server, startServer, target };
}
