/**
 * A real OpenSSH server on a lab host, listening on its 100.64 address, port 22: public keys
 * only, TCP forwarding on (the P0 tunnel), SFTP (migration), and the host's own HOME and PATH
 * for sessions, so `openclaw` and `clawos` there are the host's. The hub trusts its host key
 * through `ssh-keyscan`, as a user would after checking the fingerprint.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { keygen, SSHD, SSHD_TEST_POLICY } from "../testkit/sshd.js";
import type { Host, Proc } from "./host.js";

export class HostSshd {
  private proc?: Proc;
  readonly dir: string;

  constructor(readonly host: Host) {
    this.dir = join(host.home, "..", "sshd");
  }

  get authorizedKeys(): string {
    return join(this.host.home, ".ssh", "authorized_keys");
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await mkdir(join(this.host.home, ".ssh"), { recursive: true, mode: 0o700 });
    await keygen(join(this.dir, "host_ed25519"));
    await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
    const config = [
      "Port 22",
      `ListenAddress ${this.host.address}`,
      `HostKey ${join(this.dir, "host_ed25519")}`,
      `PidFile ${join(this.dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${this.authorizedKeys}`,
      ...SSHD_TEST_POLICY,
      `SetEnv PATH=${this.host.env.PATH} HOME=${this.host.home} CLAWOS_HOME=${this.host.clawosHome}`,
      "LogLevel VERBOSE",
    ].join("\n");
    await writeFile(join(this.dir, "sshd_config"), `${config}\n`);
    this.proc = this.host.start("sshd", [SSHD, "-D", "-e", "-f", join(this.dir, "sshd_config")]);
    await this.proc.waitFor("Server listening", 15_000);
  }

  /** Lets `client` log in here with its ~/.ssh/id_ed25519 (ssh-copy-id's job). */
  async authorize(client: Host): Promise<void> {
    const pub = await readFile(join(client.home, ".ssh", "id_ed25519.pub"), "utf8");
    await writeFile(this.authorizedKeys, pub, { flag: "a", mode: 0o600 });
  }

  async stop(): Promise<void> {
    await this.proc?.stop(5000);
  }
}
