/**
 * The README's "Three machines" recipe as data: every clawos command a host runs, in one
 * place, so the lab and the README say the same thing. Each entry is the argv after `clawos`.
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
 * Another machine joins in one command: its blackboard (NATS: its leaf server, with the hub's
 * domain; a synced folder: the folder Syncthing brought, with the hub as coordinator), how the
 * others reach it over SSH, and its default profile registered as node `<machine>`. The lab
 * starts the worker itself (it watches its output), hence --no-worker.
 */
export function joinMember(kind: Kind, machine: string, sshTarget: string, syncedFolder: string): string[] {
  return [
    "join",
    "--as",
    machine,
    ...(kind === "nats"
      ? ["--nats", NATS_URL, "--domain", "hub"]
      : ["--blackboard", syncedFolder, "--coordinator", HUB]),
    "--ssh",
    sshTarget,
    "--no-worker",
  ];
}

/** On the hub: the member's gateway token, copied to a 0600 file, for urgent tasks over SSH. */
export function accessOnHub(machine: string, tokenFile: string): string[] {
  return ["nodes", "access", machine, "--token-file", tokenFile];
}

/**
 * Each machine's worker (join set who does the coordinator's duties). The lab starts one on
 * every host itself, to watch its output; on the hub, the background worker `init` started
 * runs beside it, so the hub has two coordinators of one machine (one under a skewed clock).
 */
export function worker(): string[] {
  return ["node", "run"];
}
/** The cloud node: planned on the hub, incubated there, moved to the cloud machine, and back. */
export const cloudNode = {
  id: "cloud-node",
  plan: ["nodes", "add", "cloud-node", "--planned", "--notes", "a VM, later"],
  /** Its model: any OpenAI-compatible server (without one, incubate copies main's model). */
  incubate: (port: number, model: { baseUrl: string; id: string }) => [
    "incubate",
    "cloud-node",
    "--start",
    "--port",
    String(port),
    "--model-base-url",
    model.baseUrl,
    "--model-id",
    model.id,
  ],
  migrate: (target: string) => ["migrate", "cloud-node", "--to", target, "--machine", CLOUD],
  rollback: ["migrate", "cloud-node", "--rollback"],
};
