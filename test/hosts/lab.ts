/**
 * One lab: the network, the three hosts, each host's gateway, sshd on the laptop and the
 * cloud, the hub's SSH key trusted there, and the blackboard set-up (Syncthing or NATS). The
 * federation itself is then built with the recipe's commands (`join`).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { profileConfig } from "../testkit/cli-harness.js";
import { Host, type Proc } from "./host.js";
import { HostSshd } from "./host-sshd.js";
import { LabOpenClaw } from "./lab-openclaw.js";
import { NatsMesh } from "./nats.js";
import { LabNetwork } from "./netns.js";
import {
  accessOnHub,
  CLOUD,
  GATEWAY_PORT,
  HUB,
  initHub,
  joinMember,
  type Kind,
  LAPTOP,
  worker,
} from "./recipe.js";
import { SyncthingMesh } from "./syncthing.js";

const GATEWAY_MAIN = fileURLToPath(new URL("./lab-gateway.js", import.meta.url));

export interface GatewayRun {
  user?: string;
  prompt?: string;
  at: number;
}

export class Lab {
  readonly network = new LabNetwork();
  hub!: Host;
  laptop!: Host;
  cloud!: Host;
  readonly sshd = new Map<Host, HostSshd>();
  readonly workers = new Map<Host, Proc>();
  syncthing?: SyncthingMesh;
  nats?: NatsMesh;
  openclaw?: LabOpenClaw;
  /** The hub's own node, as `clawos init` named it. */
  hubNode = "";
  private constructor(
    readonly kind: Kind,
    readonly root: string,
  ) {}

  get all(): Host[] {
    return [this.hub, this.laptop, this.cloud];
  }

  static async create(kind: Kind): Promise<Lab> {
    const lab = new Lab(kind, await mkdtemp(join(tmpdir(), `clawlab-${kind}-`)));
    const nets = lab.network.create([HUB, LAPTOP, CLOUD]);
    const [hub, laptop, cloud] = nets.map((n) => new Host(n, lab.network, lab.root));
    lab.hub = hub!;
    lab.laptop = laptop!;
    lab.cloud = cloud!;
    for (const host of lab.all) await host.prepare();
    return lab;
  }

  /** Every host's OpenClaw gateway on its own 127.0.0.1:18789, as `openclaw onboard` leaves it. */
  async startGateways(): Promise<void> {
    for (const host of this.all) {
      const token = randomBytes(16).toString("hex");
      const tokenFile = join(host.home, "..", "gateway.token");
      await writeFile(tokenFile, token, { mode: 0o600 });
      await writeFile(join(host.home, ".openclaw", "openclaw.json"), profileConfig(GATEWAY_PORT, token));
      const gw = host.start("gateway", [
        process.execPath,
        GATEWAY_MAIN,
        "--port",
        String(GATEWAY_PORT),
        "--token-file",
        tokenFile,
        "--model",
        `${host.name}'s model`,
        "--requests",
        this.requestsLog(host),
      ]);
      await gw.waitFor('"port"', 30_000);
    }
  }

  requestsLog(host: Host): string {
    return join(host.home, "..", "gateway-requests.jsonl");
  }

  /** Every chat turn any host's gateway served. */
  async gatewayRuns(): Promise<GatewayRun[]> {
    const runs: GatewayRun[] = [];
    for (const host of this.all) {
      const text = await readFile(this.requestsLog(host), "utf8").catch(() => "");
      for (const line of text.split("\n").filter(Boolean)) runs.push(JSON.parse(line) as GatewayRun);
    }
    return runs;
  }

  /** sshd on the laptop and the cloud; the hub's key authorized there and their host keys in its known_hosts. */
  async startSsh(): Promise<void> {
    await mkdir(join(this.hub.home, ".ssh"), { recursive: true, mode: 0o700 });
    const keygen = await this.hub.run([
      "ssh-keygen",
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-f",
      ".ssh/id_ed25519",
    ]);
    if (keygen.code !== 0) throw new Error(`ssh-keygen: ${keygen.stderr}`);
    for (const host of [this.laptop, this.cloud]) {
      const sshd = new HostSshd(host);
      await sshd.start();
      await sshd.authorize(this.hub);
      this.sshd.set(host, sshd);
      const scan = await this.hub.run(["ssh-keyscan", "-t", "ed25519", host.address]);
      if (scan.code !== 0 || !scan.stdout.trim())
        throw new Error(`ssh-keyscan ${host.address}: ${scan.stderr}`);
      await writeFile(join(this.hub.home, ".ssh", "known_hosts"), scan.stdout, { flag: "a" });
    }
  }

  /**
   * The real OpenClaw where the cloud node lives (the hub, then the cloud): installed if
   * missing, `openclaw` on both PATHs, and the fake model provider on both loopbacks.
   */
  async startOpenClaw(log: (line: string) => void): Promise<LabOpenClaw> {
    this.openclaw = LabOpenClaw.ensure(log);
    for (const host of [this.hub, this.cloud]) {
      await this.openclaw.installShim(host);
      await this.openclaw.startProvider(host);
    }
    return this.openclaw;
  }

  blackboardDir(host: Host): string {
    return join(host.clawosHome, "clawos-blackboard", "federation");
  }

  async startBlackboard(): Promise<void> {
    if (this.kind === "syncthing") {
      this.syncthing = new SyncthingMesh();
      await this.syncthing.start(this.all, (h) => this.blackboardDir(h));
    } else {
      this.nats = new NatsMesh();
      await this.nats.start(this.hub, [this.laptop, this.cloud]);
    }
  }

  /** The barrier after a change one host made: Syncthing idle everywhere (NATS needs none). */
  async settle(): Promise<void> {
    await this.syncthing?.settle();
  }

  /** The hub sets up the federation (recipe: initHub). */
  async initHub(): Promise<void> {
    for (const step of initHub(this.kind)) await this.hub.clawos(step);
    const status = await this.hub.clawosJson<{ nodes: { id: string; machine: string }[] }>(["status"]);
    this.hubNode = status.nodes.find((n) => n.machine === HUB)?.id ?? "";
    if (!this.hubNode)
      throw new Error(`clawos init on the hub registered no node: ${JSON.stringify(status)}`);
  }

  /** `member` joins (recipe: joinMember on it, accessOnHub on the hub). */
  async join(member: Host): Promise<void> {
    await member.clawos(
      joinMember(this.kind, member.name, this.sshTarget(member), this.blackboardDir(member)),
    );
    await this.settle(); // the hub names the member's node once its record has arrived
    const tokenFile = join(this.hub.home, ".clawos", `${member.name}.token`);
    execFileSync("install", ["-D", "-m", "600", join(member.home, "..", "gateway.token"), tokenFile]);
    await this.hub.clawos(accessOnHub(member.name, tokenFile));
  }

  sshTarget(member: Host): string {
    return `root@${member.address}:22`;
  }

  /** Syncthing's conflict copies in every host's folder (they must never be read as tasks). */
  async conflictCopies(): Promise<number> {
    let count = 0;
    for (const host of this.all) {
      const names = await readdir(this.blackboardDir(host), { recursive: true }).catch(() => [] as string[]);
      count += names.filter((n) => n.includes("sync-conflict")).length;
    }
    return count;
  }

  /** Each host rewrites the same blackboard file (same JSON, its own indentation), one after the other. */
  async rewriteOnEach(relative: string, hosts: Host[]): Promise<void> {
    for (const [i, host] of hosts.entries()) {
      const path = join(this.blackboardDir(host), relative);
      const record = JSON.parse(await readFile(path, "utf8")) as unknown;
      await writeFile(path, JSON.stringify(record, null, i + 1));
      await new Promise((r) => setTimeout(r, 1100));
    }
  }

  /** The host's worker (recipe: worker); `skew` runs it with its clock that far off (faketime). */
  startWorker(host: Host, skew?: string): Proc {
    const proc = host.start("worker", ["clawos", ...worker()], skew ? { skew } : {});
    this.workers.set(host, proc);
    return proc;
  }

  async stopWorker(host: Host): Promise<void> {
    await this.workers.get(host)?.stop();
    this.workers.delete(host);
  }

  /** Stops everything (processes first, so nothing writes while the namespaces go) and removes it all. */
  async destroy(keep: boolean): Promise<void> {
    for (const host of this.all.filter(Boolean)) if (host.asleep) host.wake();
    await Promise.all(this.all.filter(Boolean).map((h) => h.stopAll()));
    // Real gateways run detached from the lab's processes (clawos started them): by their pids.
    await this.openclaw
      ?.stopGateways(this.all)
      .catch((e) => process.stderr.write(`stopping the OpenClaw gateways: ${String(e)}\n`));
    this.network.destroy();
    if (!keep) await rm(this.root, { recursive: true, force: true });
  }
}
