/**
 * The README's "Three machines" recipe as data: every clawos command a host runs, in one
 * place, so the lab and the README say the same thing. Each entry is the argv after `clawos`.
 * When `clawos join` reaches main, `joinMember` becomes that one command.
 */

export const HUB = "mac-mini";
export const LAPTOP = "macbook-air";
export const CLOUD = "cloud";
export const GATEWAY_PORT = 18789;
export const NATS_URL = "nats://127.0.0.1:4222";

export type Kind = "syncthing" | "nats";

/** The hub: register its OpenClaw profiles; on NATS, move the blackboard to its JetStream. */
export function initHub(kind: Kind): string[][] {
  return [["init"], ...(kind === "nats" ? [["blackboard", "migrate", "--to", NATS_URL]] : [])];
}

/**
 * Another machine joins: its blackboard (NATS: its leaf server, with the hub's domain; a
 * synced folder: the default folder, which Syncthing shares) and its gateway as node `<machine>`.
 */
export function joinMember(kind: Kind, addNode: string[]): string[][] {
  return [
    addNode,
    ...(kind === "nats" ? [["blackboard", "migrate", "--to", NATS_URL, "--domain", "hub"]] : []),
  ];
}

/** A machine's default OpenClaw profile as its node, named after the machine. */
export function addMachineNode(machine: string): string[] {
  return ["nodes", "add", machine, "--port", String(GATEWAY_PORT)];
}

/**
 * The hub learns about a member's node: the gateway's token copied to a 0600 file (for the
 * P0 route through SSH), and the SSH target.
 */
export function registerOnHub(machine: string, tokenFile: string, sshTarget: string): string[] {
  return [
    "nodes",
    "add",
    machine,
    "--machine",
    machine,
    "--port",
    String(GATEWAY_PORT),
    "--token-file",
    tokenFile,
    "--ssh",
    sshTarget,
  ];
}

/** Each machine's worker. On a synced folder only the hub does the coordinator's duties. */
export function worker(kind: Kind, isHub: boolean): string[] {
  return ["node", "run", ...(kind === "syncthing" && !isHub ? ["--no-coordinator"] : [])];
}

/** The cloud node: planned on the hub, incubated there, moved to the cloud machine, and back. */
export const cloudNode = {
  id: "cloud-node",
  plan: ["nodes", "add", "cloud-node", "--planned", "--notes", "a VM, later"],
  incubate: (port: number) => ["incubate", "cloud-node", "--start", "--port", String(port)],
  migrate: (target: string) => ["migrate", "cloud-node", "--to", target, "--machine", CLOUD],
  rollback: ["migrate", "cloud-node", "--rollback"],
  /** On the cloud machine after the move: the profile that arrived there, so its worker can serve it. */
  register: (port: number) => [
    "nodes",
    "add",
    "cloud-node",
    "--profile",
    "cloud-node",
    "--port",
    String(port),
  ],
};
