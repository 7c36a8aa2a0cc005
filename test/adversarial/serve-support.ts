/** A served control center for the adversarial serve tests: one `clawos serve` child, real keys, real clients. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2 from "ssh2";
import { makeWorld, profileConfig, type RunningCli, type World } from "../testkit/cli-harness.js";
import { type PtySession, spawnInPty } from "../testkit/pty-harness.js";
import { freePort, keygen, sshClientArgs } from "../testkit/sshd.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

export interface Served {
  world: World;
  server: RunningCli;
  port: number;
  dir: string;
  /** Path of a client key made by `keys`. */
  key(name: string): string;
  /** The real OpenSSH client in a pseudo-terminal; `shell` runs first (e.g. stty) when given. */
  ssh(
    key: string,
    options?: { before?: string; env?: Record<string, string>; user?: string; extra?: string[] },
  ): PtySession;
  /** A programmable ssh2 client, logged in with `key`. */
  client(key: string, username?: string): Promise<ssh2.Client>;
  log(): Promise<string>;
  /** Read the log until it matches. */
  waitForLog(pattern: RegExp): Promise<string>;
  close(): Promise<void>;
}

/**
 * `keys`: names of client keys to make. `authorizedKeys` gets each key's public line and returns
 * the authorized_keys text (options and all).
 */
export async function serve(options: {
  keys: string[];
  authorizedKeys: (pub: (name: string) => string) => string;
  args?: string[];
}): Promise<Served> {
  const dir = await mkdtemp(join(tmpdir(), "clawos-serve-adv-"));
  const pubs = new Map<string, string>();
  for (const name of options.keys) {
    await keygen(join(dir, name));
    pubs.set(name, (await readFile(join(dir, `${name}.pub`), "utf8")).trim());
  }
  await writeFile(
    join(dir, "authorized_keys"),
    options.authorizedKeys((n) => pubs.get(n) ?? ""),
  );
  const world = await makeWorld();
  const gateway: StubGateway = await startStubGateway({ token: "t0k" });
  await world.writeProfile("alpha", profileConfig(gateway.port, "t0k"));
  assert.equal((await world.run(["init"])).code, 0);
  const port = await freePort();
  const server = world.spawn([
    "serve",
    "--ssh",
    `127.0.0.1:${port}`,
    "--authorized-keys",
    join(dir, "authorized_keys"),
    ...(options.args ?? []),
  ]);
  await server.waitFor("listening on 127.0.0.1");
  const hostPub = (await readFile(join(world.clawosHome, "serve", "ssh_host_ed25519_key.pub"), "utf8"))
    .trim()
    .split(/\s+/);
  const knownHosts = join(dir, "known_hosts");
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}\n`);
  const ptys: PtySession[] = [];
  const clients: ssh2.Client[] = [];
  const logFile = join(world.clawosHome, "serve", "serve.log");
  const log = () => readFile(logFile, "utf8").catch(() => "");
  return {
    world,
    server,
    port,
    dir,
    key: (name) => join(dir, name),
    ssh(key, o = {}) {
      const argv = [
        "ssh",
        ...sshClientArgs({ port, identity: join(dir, key), knownHosts }),
        ...(o.extra ?? []),
        "-l",
        o.user ?? "viewer",
        "127.0.0.1",
      ];
      const quoted = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
      const p = spawnInPty("sh", ["-c", `${o.before ? `${o.before}; ` : ""}exec ${quoted}`], {
        cols: 120,
        rows: 36,
        env: { HOME: dir, PATH: process.env.PATH, ...o.env },
        timeoutMs: 60_000,
      });
      ptys.push(p);
      return p;
    },
    client(key, username = "raw") {
      return new Promise((resolve, reject) => {
        const c = new ssh2.Client();
        clients.push(c);
        c.once("ready", () => resolve(c));
        c.once("error", reject);
        readFile(join(dir, key))
          .then((privateKey) =>
            c.connect({ host: "127.0.0.1", port, username, privateKey, readyTimeout: 60_000 }),
          )
          .catch(reject);
      });
    },
    log,
    async waitForLog(pattern) {
      for (let i = 0; i < 600; i++) {
        const text = await log();
        if (pattern.test(text)) return text;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`never saw ${pattern} in the serve log:\n${await log()}`);
    },
    async close() {
      for (const p of ptys) p.dispose();
      for (const c of clients) c.destroy();
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill("SIGTERM");
        await server.exited;
      }
      await gateway.close();
      await world.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A normal user's control center over the real ssh client: it opens, shows the node, and quits cleanly. */
export async function normalUserWorks(served: Served, key: string): Promise<void> {
  const s = served.ssh(key);
  await s.waitForText(/alpha\s+online/);
  s.write("q");
  const exit = await s.waitForExit();
  assert.equal(exit.exitCode, 0, s.screenText());
}

/** Wait until `done()`, or fail once the server has gone or a minute has passed. */
export async function until(
  served: Served,
  done: () => boolean,
  what: string | (() => string),
): Promise<void> {
  const say = () => (typeof what === "string" ? what : what());
  for (let i = 0; i < 1200 && !done(); i++) {
    assert.ok(
      serverAlive(served),
      `the server died while waiting for ${say()}:\n${served.server.output().slice(-2000)}`,
    );
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(done(), `never saw ${say()}`);
}

/** Whether the server process is still running. */
export function serverAlive(served: Served): boolean {
  return served.server.child.exitCode === null && served.server.child.signalCode === null;
}
