/**
 * The lab's network: a switch namespace holding a bridge, and one namespace per host joined to
 * it by a veth pair, with an address in 100.64.0.0/10 (Tailscale's range) and `lo` up. Nothing
 * is routed to the machine's real network: no default route, and the veths live only inside
 * the namespaces. Namespace names carry this process's pid, so a later run can tell a stale
 * lab (its pid gone) from a running one and remove only the stale one.
 */
import { execFileSync } from "node:child_process";

export const PREFIX = "clawlab";
const SUBNET = "100.64.0";

export interface HostNet {
  name: string;
  ns: string;
  address: string;
}

function ip(args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Process ids inside a namespace: every one of them was started by this lab. */
export function pidsIn(ns: string): number[] {
  try {
    return ip(["netns", "pids", ns])
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((pid) => pid > 0 && pid !== process.pid);
  } catch {
    return [];
  }
}

function removeNamespace(ns: string): void {
  for (const pid of pidsIn(ns)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  try {
    ip(["netns", "del", ns]);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes namespaces a lab run left behind when it was killed outright (its pid is gone). */
export function removeStaleLabs(): string[] {
  const removed: string[] = [];
  const names = ip(["netns", "list"])
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(`${PREFIX}-`));
  for (const ns of names) {
    const pid = Number(ns.split("-")[1]);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) {
      removeNamespace(ns);
      removed.push(ns);
    }
  }
  return removed;
}

export class LabNetwork {
  readonly switchNs = `${PREFIX}-${process.pid}-switch`;
  readonly hosts: HostNet[] = [];
  private made: string[] = [];

  /** Makes the switch and one namespace per host name, addresses .1, .2, … in order. */
  create(names: readonly string[]): HostNet[] {
    this.addNamespace(this.switchNs);
    ip(["-n", this.switchNs, "link", "add", "br0", "type", "bridge"]);
    ip(["-n", this.switchNs, "link", "set", "br0", "up"]);
    names.forEach((name, i) => {
      const ns = `${PREFIX}-${process.pid}-${name}`;
      const address = `${SUBNET}.${i + 1}`;
      this.addNamespace(ns);
      const port = `port${i + 1}`;
      ip(["-n", this.switchNs, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      ip(["-n", this.switchNs, "link", "set", port, "master", "br0", "up"]);
      ip(["-n", ns, "link", "set", "lo", "up"]);
      ip(["-n", ns, "addr", "add", `${address}/24`, "dev", "eth0"]);
      ip(["-n", ns, "link", "set", "eth0", "up"]);
      this.hosts.push({ name, ns, address });
    });
    return this.hosts;
  }

  /** The host's cable: down cuts it off from every other host at once. */
  setLink(host: HostNet, up: boolean): void {
    ip(["-n", host.ns, "link", "set", "eth0", up ? "up" : "down"]);
  }

  /** Kills what runs inside the namespaces (all started by this lab) and removes them. Synchronous, for exit paths. */
  destroy(): void {
    for (const ns of this.made.reverse()) removeNamespace(ns);
    this.made = [];
  }

  private addNamespace(ns: string): void {
    ip(["netns", "add", ns]);
    this.made.push(ns);
  }
}
