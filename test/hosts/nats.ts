/**
 * Set-up (b): NATS. The hub runs JetStream with the domain `hub` and a leafnode listener on its
 * 100.64 address; every other host runs a leaf server (no JetStream of its own) that dials the
 * hub. Each host's clawos talks only to its own server on 127.0.0.1:4222. These are the
 * configurations of the README's "When one folder is not enough".
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Host, Proc } from "./host.js";

export const NATS_BIN = "nats-server";
export const DOMAIN = "hub";
const LEAF_PORT = 7422;

/** A dead link is noticed after two missed pings (the default, 2 minutes each, keeps a laptop's leaf "connected" to nowhere for minutes). */
const PING = 'ping_interval: "2s"';

export function hubConf(storeDir: string, hubAddress: string): string {
  return [
    "listen: 127.0.0.1:4222",
    PING,
    `jetstream { store_dir: "${storeDir}", domain: ${DOMAIN} }`,
    `leafnodes { listen: "${hubAddress}:${LEAF_PORT}" }`,
    "",
  ].join("\n");
}

export function leafConf(hubAddress: string): string {
  return [
    "listen: 127.0.0.1:4222",
    PING,
    `leafnodes { remotes: [ { url: "nats-leaf://${hubAddress}:${LEAF_PORT}" } ] }`,
    "",
  ].join("\n");
}

export class NatsMesh {
  private procs = new Map<Host, Proc>();

  async start(hub: Host, leaves: Host[]): Promise<void> {
    const hubDir = join(hub.home, ".config", "nats");
    await mkdir(join(hubDir, "store"), { recursive: true });
    await writeFile(join(hubDir, "hub.conf"), hubConf(join(hubDir, "store"), hub.address));
    const hubProc = hub.start("nats-hub", [NATS_BIN, "-c", join(hubDir, "hub.conf")]);
    this.procs.set(hub, hubProc);
    await hubProc.waitFor("Server is ready", 30_000);
    for (const leaf of leaves) {
      const dir = join(leaf.home, ".config", "nats");
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "leaf.conf"), leafConf(hub.address));
      const proc = leaf.start("nats-leaf", [NATS_BIN, "-c", join(dir, "leaf.conf")]);
      this.procs.set(leaf, proc);
    }
    for (const leaf of leaves) await this.leafConnected(leaf);
  }

  /** Resolves once `leaf`'s server has (re)connected to the hub after `since` bytes of its log. */
  async leafConnected(leaf: Host, since = 0, timeoutMs = 60_000): Promise<void> {
    const proc = this.procs.get(leaf)!;
    const deadline = Date.now() + timeoutMs;
    while (!/Leafnode connection created/.test(proc.output().slice(since))) {
      if (Date.now() > deadline) {
        throw new Error(`${leaf.name}: the leaf never connected to the hub:\n${proc.output().slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  logLength(host: Host): number {
    return this.procs.get(host)?.output().length ?? 0;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => p.stop(5000)));
  }
}
