import JSON5 from "json5";
import { UserError } from "../domain/errors.js";
import type { SshSession } from "../transport/ssh-route.js";
import { type KnownGateway, PORT_SPACING, pickBasePort, tooClose } from "./gateway-ports.js";
import { DEFAULT_GATEWAY_PORT } from "./openclaw-profiles.js";

/** Prints each OpenClaw profile's config there, one per record, after a marker line with its directory name. */
const LIST_PROFILES =
  'for d in "$HOME"/.openclaw "$HOME"/.openclaw-*; do [ -f "$d/openclaw.json" ] || continue; printf "\\n@@clawos-profile %s\\n" "$(basename "$d")"; head -c 200000 "$d/openclaw.json"; done';

/** Pure: the gateways the listing names, with their ports (OpenClaw's default when unset). */
export function gatewaysInListing(listing: string): KnownGateway[] {
  const out: KnownGateway[] = [];
  for (const part of listing.split("\n@@clawos-profile ").slice(1)) {
    const newline = part.indexOf("\n");
    const dir = part.slice(0, newline).trim();
    const profile = dir === ".openclaw" ? null : dir.slice(".openclaw-".length);
    let port = DEFAULT_GATEWAY_PORT;
    try {
      const config = JSON5.parse(part.slice(newline + 1)) as { gateway?: { port?: unknown } };
      if (typeof config.gateway?.port === "number") port = config.gateway.port;
    } catch {
      // Unreadable there: count it at OpenClaw's default port, which it would use.
    }
    out.push({ id: profile ?? "main", port, profile });
  }
  return out;
}

/** Migration's --remote-port keeps PORT_SPACING from every OpenClaw profile on the target, like incubate. */
export async function checkRemoteSpacing(
  session: SshSession,
  host: string,
  remotePort: number,
): Promise<void> {
  const listed = await session.exec(LIST_PROFILES, "");
  const there = gatewaysInListing(listed.stdout);
  const near = tooClose(remotePort, there);
  if (!near) return;
  const apart = Math.abs(near.port - remotePort);
  throw new UserError(
    `Port ${remotePort} is ${apart === 1 ? "1 port" : `${apart} ports`} from the gateway of profile ${near.id} (${near.port}) on ${host}.`,
    {
      hint: `OpenClaw needs ${PORT_SPACING} between gateways: use --remote-port ${pickBasePort(there.map((g) => g.port))}`,
      code: "usage",
    },
  );
}
